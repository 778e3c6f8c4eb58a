using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Tests.Unit;

/// <summary>What a trainer's result may be, shared by searches and evaluation jobs.</summary>
public class TrialLifecycleTests
{
    private static readonly TrialRecord Leased = new(1, new BaselinePattern(BaselineSpec.None), 0, 1)
    {
        Status = TrialStatus.Leased,
        Trainer = "t1",
        LeaseUntil = DateTimeOffset.UnixEpoch,
        Attempts = 1,
    };

    private static TrialResult Completed(double reward, TrialMetricsReport? metrics = null) => new("s", 1, "t1", reward, metrics, null, null);

    [Fact]
    public void Rewards_are_bounded_by_the_target_accuracies_for_images_and_c_over_perplexity_for_language_models()
    {
        Assert.Equal(1.0, SearchState.Create(new SearchSpec("s")).MaxReward);
        var lm = new SearchSpec("lm", Target: "lm-2-64-2", Space: SearchSpec.TransformerSpace, Dataset: SearchSpec.TextDataset,
            Text: new TextOptions(RewardScale: 80));
        Assert.Equal(80.0, SearchState.Create(lm).MaxReward);
        Assert.Equal(1.0, SearchState.Create(lm with { Text = null }).MaxReward);

        Assert.IsType<TrialCompleted>(TrialLifecycle.Outcome(Leased, Completed(80), 80).Events.Single());
        Assert.IsType<TrialCompleted>(TrialLifecycle.Outcome(Leased, Completed(80 * (1 + 1e-12)), 80).Events.Single()); // rounding
        Assert.IsType<TrialRequeued>(TrialLifecycle.Outcome(Leased, Completed(80.5), 80).Events.Single());
        Assert.IsType<TrialRequeued>(TrialLifecycle.Outcome(Leased, Completed(1.5), 1).Events.Single());
    }

    [Theory]
    [InlineData(1.2, null, null)]
    [InlineData(double.NaN, null, null)]
    [InlineData(0.5, -0.1, null)]
    [InlineData(0.5, null, 0.5)]
    [InlineData(0.5, null, double.PositiveInfinity)]
    [InlineData(0.5, null, double.NaN)]
    public void Impossible_metrics_are_refused_like_an_impossible_reward(double accuracy, double? trainAccuracy, double? perplexity)
    {
        var metrics = new TrialMetricsReport(accuracy, 0.4, 100, 1, 10, perplexity, trainAccuracy);
        var decision = TrialLifecycle.Outcome(Leased, Completed(0.5, metrics), 1);
        Assert.Equal(RequeueCause.TrainerFailure, Assert.IsType<TrialRequeued>(decision.Events.Single()).Cause);
        Assert.NotNull(decision.Warning);
        // a failed trial's reward is not looked at: a diverged pattern scores 0 whatever was sent
        var diverged = new TrialResult("s", 1, "t1", double.NaN, null, FailureReason.Diverged, "loss became NaN");
        Assert.Equal(0.0, Assert.IsType<TrialFailed>(TrialLifecycle.Outcome(Leased, diverged, 1).Events.Single()).Reward);
    }

    [Fact]
    public void Plausible_metrics_pass_including_a_train_loss_that_was_never_measured()
    {
        var metrics = new TrialMetricsReport(1.0, double.NaN, 0, 0, 0, ValidationPerplexity: 1.0, TrainAccuracy: 0.0);
        Assert.IsType<TrialCompleted>(TrialLifecycle.Outcome(Leased, Completed(1.0, metrics), 1).Events.Single());
        Assert.IsType<TrialCompleted>(TrialLifecycle.Outcome(Leased, Completed(1.0), 1).Events.Single());
    }
}

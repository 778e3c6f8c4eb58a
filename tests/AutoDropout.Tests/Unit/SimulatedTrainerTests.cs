using Akka.Actor;
using AutoDropout.Cluster.Trainer;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

public class SimulatedTrainerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly SyntheticReward Reward = new(ConvSearchSpace.Default, sites: 2, seed: 7);

    private static ConvPattern Pattern(int[] tokens) => (ConvPattern)((IPatternSpace)ConvSearchSpace.Default).DecodePattern(tokens);

    private static int[] Tokens(DropoutPattern pattern) => ((IPatternSpace)ConvSearchSpace.Default).EncodePattern(pattern);

    /// <summary>The best pattern with the tokens at <paramref name="positions"/> changed to another value.</summary>
    private static DropoutPattern Spoiled(params int[] positions)
    {
        var tokens = Tokens(Reward.Best);
        var vocabularies = ConvSearchSpace.Default.VocabularySizes();
        foreach (var i in positions) tokens[i] = (tokens[i] + 1) % vocabularies[i % vocabularies.Count];
        return Pattern(tokens);
    }

    [Fact]
    public void The_best_pattern_scores_one_and_every_wrong_token_costs()
    {
        Assert.Equal(1.0, Reward.Score(Reward.Best), 12);
        var oneWrong = Reward.Score(Spoiled(0));
        Assert.InRange(oneWrong, 0.5, 0.999);
        Assert.True(Reward.Score(Spoiled(0, 9)) < oneWrong);
        // interactions: a token is worth more next to a site that is right than next to one that is all wrong
        var allOfSiteTwoWrong = Enumerable.Range(8, 8).ToArray();
        double gainWithRightNeighbour = Reward.Score(Reward.Best) - Reward.Score(Spoiled(0));
        double gainWithWrongNeighbour = Reward.Score(Spoiled(allOfSiteTwoWrong)) - Reward.Score(Spoiled([0, .. allOfSiteTwoWrong]));
        Assert.True(gainWithRightNeighbour > gainWithWrongNeighbour, $"{gainWithRightNeighbour} vs {gainWithWrongNeighbour}");
    }

    [Fact]
    public void Noise_is_drawn_from_the_trial_seed_and_rewards_stay_in_range()
    {
        var noisy = new SyntheticReward(ConvSearchSpace.Default, 2, 7, noise: 0.05);
        var pattern = Spoiled(3, 4);
        Assert.Equal(noisy.Reward(pattern, 42), noisy.Reward(pattern, 42));
        var rewards = Enumerable.Range(0, 2000).Select(seed => noisy.Reward(pattern, seed)).ToArray();
        Assert.All(rewards, r => Assert.InRange(r, 0, 1));
        double mean = rewards.Average(), std = Math.Sqrt(rewards.Average(r => (r - mean) * (r - mean)));
        Assert.Equal(noisy.Score(pattern), mean, 2);
        Assert.InRange(std, 0.04, 0.06);
        Assert.InRange(noisy.Reward(noisy.Best, 1), 0.8, 1);
    }

    [Fact]
    public void The_hidden_best_pattern_depends_on_the_seed_only()
    {
        Assert.Equal(Reward.Best.ToCompact(), new SyntheticReward(ConvSearchSpace.Default, 2, 7).Best.ToCompact());
        Assert.NotEqual(Reward.Best.ToCompact(), new SyntheticReward(ConvSearchSpace.Default, 2, 8).Best.ToCompact());
        Assert.Throws<ArgumentException>(() => Reward.Score(new SyntheticReward(ConvSearchSpace.Default, 3, 7).Best));
    }

    [Theory]
    [InlineData("200ms", 200, 200)]
    [InlineData("1.5s", 1500, 1500)]
    [InlineData("100ms-300ms", 100, 300)]
    [InlineData("0ms", 0, 0)]
    public void Trial_times(string text, int min, int max)
    {
        var time = SimulatedTrialTime.Parse(text);
        Assert.Equal((TimeSpan.FromMilliseconds(min), TimeSpan.FromMilliseconds(max)), (time.Min, time.Max));
        Assert.All(Enumerable.Range(0, 100), seed => Assert.InRange(time.For(seed), time.Min, time.Max));
    }

    [Theory]
    [InlineData("200")]
    [InlineData("fast")]
    [InlineData("300ms-100ms")]
    [InlineData("-5ms")]
    [InlineData("2d")]
    [InlineData("100000000s")]
    public void Bad_trial_times_are_refused_by_name(string text) =>
        Assert.Contains("--trial-time", Assert.Throws<ArgumentException>(() => SimulatedTrialTime.Parse(text)).Message);

    [Fact]
    public void A_simulated_trainer_reports_progress_and_the_synthetic_reward()
    {
        var controller = CreateTestProbe();
        Func<ITrialRunner> runner = () => new SimulatedRunner("sim:0", SimulatedTrialTime.Parse("2500ms"), noise: 0);
        Sys.ActorOf(TrainerActor.Props(controller, "t1", runner, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3)));
        var request = controller.FishForMessage<RequestWork>(m => m.Kind == WorkKind.Search, TimeSpan.FromSeconds(10));
        Assert.Equal("sim:0", request.Device);
        var pattern = Spoiled(5);
        var trial = new TrialSpec("cnn", null, null, new TrialBudget(100), 32, 1e-3, pattern, 0.1, SplitSeed: 7, TrialSeed: 3);
        controller.Reply(new WorkAssignment("s", 1, trial, DateTimeOffset.UtcNow.AddMinutes(1)));

        var progress = controller.FishForMessage<TrialProgress>(_ => true, TimeSpan.FromSeconds(10));
        Assert.InRange(progress.Step, 0, 100);
        var result = controller.FishForMessage<TrialResult>(_ => true, TimeSpan.FromSeconds(10));
        Assert.Null(result.FailureReason);
        Assert.Equal(Reward.Score(pattern), result.Reward, 12);
        Assert.InRange(result.Metrics!.WallSeconds, 2.4, 10);
    }
}

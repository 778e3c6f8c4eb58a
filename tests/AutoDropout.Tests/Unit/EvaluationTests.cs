using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Tests.Unit;

public class EvaluationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A finished search: trials 1-5 with these rewards (trials 2 and 4 share a pattern), one baseline.</summary>
    private static SearchState FinishedSearch()
    {
        var spec = new SearchSpec("s", Trials: 5, TrainSteps: 40, Seed: 9, Baselines: ["dropout:0.1"]);
        var state = SearchState.Create(spec);
        var a = ((IPatternSpace)ConvSearchSpace.Default).DecodePattern(new int[16]);
        var b = PatternSampler.Sample(ConvSearchSpace.Default, 2, 1);
        var c = PatternSampler.Sample(ConvSearchSpace.Default, 2, 2);
        var d = PatternSampler.Sample(ConvSearchSpace.Default, 2, 3);
        DropoutPattern[] patterns = [new BaselinePattern(BaselineSpec.Parse("dropout:0.1")), a, b, c, b, d];
        double[] rewards = [0.99, 0.80, 0.90, 0.70, 0.95, 0.85];
        for (int id = 1; id <= patterns.Length; id++)
        {
            state = state.Apply(new TrialProposed(id, patterns[id - 1], 0, id))
                .Apply(new TrialLeased(id, "t", T0))
                .Apply(new TrialCompleted(id, "t", rewards[id - 1], new TrialMetricsReport(rewards[id - 1], 0.1, 100, 1, 40)));
        }
        return state;
    }

    [Fact]
    public void The_plan_takes_the_best_distinct_patterns_then_the_default_baselines_with_shared_seeds()
    {
        var spec = EvaluationPlanner.Plan(new EvaluationRequest("s", Top: 3, Seeds: 4), FinishedSearch(), new HashSet<string> { "s", "s-eval" });
        Assert.Equal("s-eval-2", spec.Name); // the default name avoids names taken
        // trial 5 repeats trial 3's pattern with a better reward: it stands for both; baselines never compete
        Assert.Equal(["pattern #5", "pattern #6", "pattern #2"], spec.Candidates.Take(3).Select(c => c.Label));
        Assert.Equal([0.95, 0.85, 0.80], spec.Candidates.Take(3).Select(c => c.SearchReward!.Value));
        Assert.Equal(EvaluationPlanner.ImageBaselines, spec.Candidates.Skip(3).Select(c => c.Label));
        Assert.Equal(4, spec.Seeds.Distinct().Count());
        Assert.Equal(new TrialBudget(40), spec.Budget);
        Assert.Equal(12 * 4, spec.TrialCount);

        var state = EvaluationState.Create(spec);
        // every candidate trains with the same seeds, in the same order
        for (int c = 0; c < spec.Candidates.Count; c++)
            Assert.Equal(spec.Seeds, Enumerable.Range(0, 4).Select(s => state.Trials[c * 4 + s + 1].Seed));
    }

    [Theory]
    [InlineData(0, 0, "seeds")]
    [InlineData(3, 21, "seeds")]
    [InlineData(21, 3, "top")]
    public void Requests_out_of_bounds_are_refused_by_field(int top, int seeds, string field)
    {
        var e = Assert.Throws<ArgumentException>(() => EvaluationPlanner.Plan(new EvaluationRequest("s", Top: top, Seeds: seeds), FinishedSearch(), new HashSet<string>()));
        Assert.StartsWith(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_baselines_targets_and_empty_searches_are_refused()
    {
        var search = FinishedSearch();
        Assert.Contains("dropconnect", Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("s", Baselines: ["dropconnect:0.1"]), search, new HashSet<string>())).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EvaluationPlanner.Plan(new EvaluationRequest("s", Baselines: ["none", "none"]), search, new HashSet<string>()));
        Assert.Throws<ArgumentException>(() => EvaluationPlanner.Plan(new EvaluationRequest("s", Epochs: 2, Steps: 3), search, new HashSet<string>()));
        Assert.Throws<ArgumentException>(() => EvaluationPlanner.Plan(new EvaluationRequest("s", Name: "bad name"), search, new HashSet<string>()));
        // a null baseline used to throw NullReferenceException in the controller's registry
        Assert.StartsWith("baselines", Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("s", Baselines: [null!]), search, new HashSet<string>())).Message, StringComparison.Ordinal);
        Assert.StartsWith("steps", Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("s", Steps: 1_000_001), search, new HashSet<string>())).Message, StringComparison.Ordinal);
        Assert.StartsWith("lease_seconds", Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("s", LeaseSeconds: int.MaxValue), search, new HashSet<string>())).Message, StringComparison.Ordinal);
        Assert.StartsWith("target", Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("s", Target: "wrn-106-1"), search, new HashSet<string>())).Message, StringComparison.Ordinal);
        var empty = SearchState.Create(new SearchSpec("e"));
        Assert.Contains("no completed pattern", Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("e"), empty, new HashSet<string>())).Message, StringComparison.Ordinal);
        // baselines alone need no pattern
        Assert.Equal(2, EvaluationPlanner.Plan(new EvaluationRequest("e", Top: 0, Seeds: 1, Baselines: ["none", "spatial:0.1"]), empty, new HashSet<string>()).TrialCount);
    }

    private static (EvaluationSpec Spec, List<ISearchEvent> Journal, Func<SearchCommand, Decision> Run, Func<EvaluationState> State) Job()
    {
        var spec = EvaluationPlanner.Plan(new EvaluationRequest("s", Top: 1, Seeds: 2, Baselines: ["none"], Epochs: 3), FinishedSearch(), new HashSet<string>());
        var journal = new List<ISearchEvent>();
        EvaluationState? state = null;
        void Apply(Decision d)
        {
            foreach (var e in d.Events)
            {
                state = e is EvaluationCreated c ? EvaluationState.Create(c.Spec) : state!.Apply(e);
                journal.Add(e);
            }
        }
        Apply(EvaluationDecider.Start(null, spec));
        return (spec, journal, command =>
        {
            var decision = EvaluationDecider.Decide(state, command);
            Apply(decision);
            return decision;
        }, () => state!);
    }

    private static TrialResult Result(int trial, double score, string trainer = "e1", FailureReason? failure = null) =>
        new("s-eval", trial, trainer, score, failure is null ? new TrialMetricsReport(score, 0.2, 100, 1, 10) : null, failure, failure is null ? null : "why");

    [Fact]
    public void Trials_are_leased_in_order_scored_on_the_whole_training_split_and_results_are_idempotent()
    {
        var (spec, journal, run, state) = Job();
        var leased = (TrialLeased)run(new Offer("e1", T0)).Events.Single();
        Assert.Equal(1, leased.TrialId);
        var work = EvaluationDecider.Assignment(state(), 1);
        Assert.True(work.Trial.ScoreOnTest);
        Assert.Equal(0, work.Trial.ValidationFraction);
        Assert.Equal(spec.Seeds[0], work.Trial.TrialSeed);
        Assert.Equal(3.0, work.Trial.Budget.Epochs);

        Assert.Single(run(new Report(Result(1, 0.81))).Events);
        Assert.Empty(run(new Report(Result(1, 0.5))).Events); // a resend changes nothing
        Assert.Equal(0.81, state().Trials[1].Reward);
        Assert.Empty(run(new Report(Result(99, 0.5))).Events);

        // an evaluator that dies loses its trial to the queue's front; an infrastructure failure is retried, then fails
        run(new Offer("e1", T0));
        run(new ReleaseTrainer("e1", "is gone"));
        Assert.Equal(2, state().Waiting[0]);
        for (int attempt = 2; attempt <= SearchState.MaxAttempts; attempt++) // the lost lease was attempt 1
        {
            Assert.Equal(2, ((TrialLeased)run(new Offer("e2", T0)).Events.Single()).TrialId);
            run(new Report(Result(2, 0, "e2", FailureReason.Error)));
        }
        Assert.Equal(TrialStatus.Failed, state().Trials[2].Status);

        // leases expire
        run(new Offer("e3", T0));
        Assert.Single(run(new ExpireLeases(T0.AddSeconds(spec.LeaseSeconds + 1))).Events);

        // replay rebuilds the same state
        EvaluationState? replayed = null;
        foreach (var e in journal) replayed = e is EvaluationCreated c ? EvaluationState.Create(c.Spec) : replayed!.Apply(e);
        Assert.Equal(state().Trials.Values, replayed!.Trials.Values);
        Assert.Equal(state().Waiting, replayed.Waiting);
    }

    [Fact]
    public void An_evaluation_trial_fails_once_its_trainers_were_lost_as_often_as_it_has_attempts_and_a_pause_uses_none()
    {
        var (_, _, run, state) = Job();
        run(new Offer("e1", T0));
        Assert.Equal(RequeueCause.Cancelled, Assert.IsType<TrialRequeued>(run(new Report(Result(1, 0, "e1", FailureReason.Cancelled))).Events.Single()).Cause);
        for (int attempt = 1; attempt < SearchState.MaxAttempts; attempt++)
        {
            Assert.Equal(1, ((TrialLeased)run(new Offer("e1", T0)).Events.Single()).TrialId);
            Assert.IsType<TrialRequeued>(run(new ReleaseTrainer("e1", "is gone")).Events.Single());
        }
        run(new Offer("e1", T0));
        var failed = Assert.IsType<TrialFailed>(run(new ReleaseTrainer("e1", "is gone")).Events.Single());
        Assert.Equal(FailureReason.Error, failed.Reason);
        Assert.Equal(TrialStatus.Failed, state().Trials[1].Status);
        Assert.Equal(2, state().Waiting[0]);
    }

    [Fact]
    public void An_impossible_score_is_not_recorded_and_a_result_from_another_evaluator_is_refused()
    {
        var (_, _, run, state) = Job();
        run(new Offer("e1", T0));
        Assert.Empty(run(new Report(Result(1, 0.8, "e2"))).Events);
        var decision = run(new Report(Result(1, double.NaN)));
        Assert.Equal(RequeueCause.TrainerFailure, Assert.IsType<TrialRequeued>(decision.Events.Single()).Cause);
        Assert.Contains("e1", decision.Warning, StringComparison.Ordinal);
        Assert.Null(state().Trials[1].Reward);
        Assert.IsType<TrialCompleted>(run(new Report(Result(1, 0.8))).Events.Single()); // its last holder's true result
    }

    [Fact]
    public void The_table_is_computed_from_the_results()
    {
        var (_, _, run, state) = Job();
        double[] scores = [0.80, 0.84, 0.78, 0.76];
        for (int id = 1; id <= 4; id++)
        {
            run(new Offer("e1", T0));
            run(new Report(Result(id, scores[id - 1])));
        }
        Assert.Equal(SearchStatus.Completed, state().Status);
        Assert.NotNull(run(new Stop()).Rejected); // a completed job cannot be stopped
        var details = EvaluationViews.Details(state());
        Assert.Equal("test accuracy", details.Metric);
        Assert.True(details.HigherIsBetter);
        Assert.Equal(["pattern #5", "none"], details.Rows.Select(r => r.Label));
        Assert.Equal(0.82, details.Rows[0].Mean!.Value, 12);
        Assert.Equal(Math.Sqrt(2 * 0.02 * 0.02), details.Rows[0].StandardDeviation!.Value, 12);
        Assert.Equal(0.77, details.Rows[1].Mean!.Value, 12);
        Assert.Equal([0.78, 0.76], details.Rows[1].Runs.Select(r => r.Score!.Value));
    }

    [Fact]
    public void Stopping_keeps_finished_results_and_refuses_a_second_stop()
    {
        var (_, _, run, state) = Job();
        run(new Offer("e1", T0));
        run(new Report(Result(1, 0.8)));
        run(new Offer("e1", T0));
        Assert.Null(run(new Stop()).Rejected);
        Assert.Equal(SearchStatus.Stopped, state().Status);
        Assert.Empty(run(new Offer("e1", T0)).Events);
        Assert.NotNull(run(new Stop()).Rejected);
        Assert.Equal(0.8, EvaluationViews.Details(state()).Rows[0].Mean);
    }

    [Fact]
    public void A_device_takes_turns_between_its_trainer_and_its_evaluator()
    {
        var turn = new AutoDropout.Cluster.Trainer.DeviceTurn();
        Assert.True(turn.TryTake(WorkKind.Search));
        Assert.True(turn.TryTake(WorkKind.Search)); // polling again while holding it
        Assert.False(turn.TryTake(WorkKind.Evaluation));
        Assert.True(turn.Release(WorkKind.Search)); // the evaluator waited: the trainer lets it go first
        Assert.True(turn.TryTake(WorkKind.Evaluation));
        Assert.False(turn.TryTake(WorkKind.Search));
        Assert.False(turn.Release(WorkKind.Search)); // not the holder: nothing happens
        Assert.True(turn.Release(WorkKind.Evaluation));
        Assert.True(turn.TryTake(WorkKind.Search));
        Assert.False(turn.Release(WorkKind.Search)); // nobody waited
    }

    [Fact]
    public void Patterns_found_on_a_smaller_wide_resnet_are_mapped_to_the_evaluated_one()
    {
        var spec = new SearchSpec("w", Target: "wrn-10-1", Trials: 1);
        var found = PatternSampler.Sample(ConvSearchSpace.Default, spec.MaskSites, 4);
        var search = SearchState.Create(spec).Apply(new TrialProposed(1, found, 0, 1)).Apply(new TrialLeased(1, "t", T0))
            .Apply(new TrialCompleted(1, "t", 0.5, new TrialMetricsReport(0.5, 0.1, 1, 1, 1)));
        var plan = EvaluationPlanner.Plan(new EvaluationRequest("w", Top: 1, Seeds: 1, Baselines: [], Target: "wrn-16-1"), search, new HashSet<string>());
        Assert.Equal("wrn-10-1", plan.SearchedTarget);
        Assert.Equal(PatternTransfer.Map(found, "wrn-10-1", "wrn-16-1"), plan.Candidates[0].Regulariser);
        Assert.Equal(TargetSpec.Parse("wrn-16-1").MaskSites, plan.Candidates[0].Regulariser.SiteCount);
        var refused = Assert.Throws<ArgumentException>(() =>
            EvaluationPlanner.Plan(new EvaluationRequest("w", Target: "cnn"), search, new HashSet<string>()));
        Assert.StartsWith("target:", refused.Message, StringComparison.Ordinal);
    }
}

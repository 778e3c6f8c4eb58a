using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Tests.Unit;

/// <summary>The search's decisions one by one, with no actor, journal or torch.</summary>
public class SearchDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed class FixedPolicy : IPatternPolicy
    {
        public int Version { get; private set; }
        public double? Baseline => null;
        public List<int> LearnedBatchSizes { get; } = [];
        public int[] Sample(long seed) => new int[16]; // the first value of every token: a valid 2-site cnn pattern
        public PolicyUpdateStats Learn(IReadOnlyList<(int[] Tokens, double Reward)> batch)
        {
            LearnedBatchSizes.Add(batch.Count);
            Version++;
            return new PolicyUpdateStats(Version, 0, 0, 0);
        }
        public string StateHash() => Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        public byte[] SaveState() => [(byte)Version];
        public void LoadState(byte[] state) => Version = state[0];
        public void Dispose() { }
    }

    private static SearchModel Started(SearchSpec spec)
    {
        var model = new SearchModel(_ => new FixedPolicy());
        Run(model, new Start(spec));
        return model;
    }

    private static Decision Run(SearchModel model, SearchCommand command)
    {
        var decision = model.Decide(command);
        foreach (var e in decision.Events) model.Apply(e);
        return decision;
    }

    private static int Lease(SearchModel model, string trainer = "t1") =>
        ((TrialLeased)Run(model, new Offer(trainer, T0)).Events[^1]).TrialId;

    private static TrialResult Result(int trial, string trainer = "t1", double reward = 0.5, FailureReason? failure = null) =>
        new("s", trial, trainer, reward, null, failure, failure is null ? null : "why");

    [Fact]
    public void Baselines_come_first_are_never_learned_from_and_never_the_best()
    {
        using var model = Started(new SearchSpec("s", Trials: 2, PolicyBatch: 1, Baselines: ["dropout:0.1"]));
        int baseline = Lease(model);
        Assert.IsType<BaselinePattern>(model.State!.Trials[baseline].Pattern);
        Assert.Single(Run(model, new Report(Result(baseline, reward: 0.99))).Events); // no policy update
        int pattern = Lease(model);
        var events = Run(model, new Report(Result(pattern, reward: 0.5))).Events;
        Assert.IsType<PolicyUpdated>(events[^1]); // persisted with the result that filled the batch
        Assert.Equal(pattern, model.State.Best!.Id);
        Assert.Equal(1, model.State.PolicyVersion);
        var views = SearchViews.Trials(model.State);
        Assert.Equal(["dropout:0.1", null], views.Select(v => v.Baseline)); // operators see which trials are references
    }

    [Fact]
    public void A_resent_result_or_one_for_an_unknown_trial_changes_nothing()
    {
        using var model = Started(new SearchSpec("s", Trials: 3));
        int trial = Lease(model);
        Assert.Single(Run(model, new Report(Result(trial))).Events);
        Assert.Same(Decision.Nothing, model.Decide(new Report(Result(trial))));
        Assert.Same(Decision.Nothing, model.Decide(new Report(Result(99))));
    }

    [Fact]
    public void Infrastructure_failures_are_retried_until_the_attempts_run_out_and_a_diverged_pattern_fails_at_once()
    {
        using var model = Started(new SearchSpec("s", Trials: 3));
        int trial = Lease(model);
        for (int attempt = 1; attempt < SearchState.MaxAttempts; attempt++)
        {
            var requeued = Assert.IsType<TrialRequeued>(Run(model, new Report(Result(trial, failure: FailureReason.OutOfMemory))).Events.Single());
            Assert.Equal(RequeueCause.TrainerFailure, requeued.Cause);
            Assert.Equal(trial, Lease(model));
        }
        Assert.IsType<TrialFailed>(Run(model, new Report(Result(trial, failure: FailureReason.Error))).Events.Single());
        Assert.Equal(1, model.State!.Failed);

        int next = Lease(model);
        var diverged = Assert.IsType<TrialFailed>(Run(model, new Report(Result(next, failure: FailureReason.Diverged))).Events.Single());
        Assert.Equal(FailureReason.Diverged, diverged.Reason);
        Assert.Equal([next], model.State.Unlearned); // a diverged pattern teaches the policy (reward 0)
    }

    [Fact]
    public void A_late_failure_from_a_trainer_that_lost_the_lease_changes_nothing()
    {
        using var model = Started(new SearchSpec("s", Trials: 3, LeaseSeconds: 10));
        int trial = Lease(model, "t1");
        Assert.Single(Run(model, new ExpireLeases(T0.AddSeconds(11))).Events);
        Assert.Equal(trial, Lease(model, "t2"));
        Assert.Same(Decision.Nothing, model.Decide(new Report(Result(trial, "t1", failure: FailureReason.Error))));
        Assert.Same(Decision.Nothing, model.Decide(new Report(Result(trial, "t1", failure: FailureReason.Cancelled))));
        Assert.IsType<TrialCompleted>(Run(model, new Report(Result(trial, "t1"))).Events.Single()); // the work was done
    }

    [Fact]
    public void Leases_expire_only_after_their_deadline_and_a_lost_trainer_releases_only_its_own()
    {
        using var model = Started(new SearchSpec("s", Trials: 5, LeaseSeconds: 10));
        Lease(model, "t1");
        Lease(model, "t2");
        Assert.Empty(model.Decide(new ExpireLeases(T0.AddSeconds(10))).Events);
        var lost = Assert.IsType<TrialRequeued>(Run(model, new ReleaseTrainer("t2", "is gone")).Events.Single());
        Assert.Equal((2, RequeueCause.TrainerLost), (lost.TrialId, lost.Cause));
        Assert.Equal(1, model.State!.Running);
        Assert.Equal(2, Lease(model, "t3")); // the requeued trial is offered before a new one is proposed
    }

    [Fact]
    public void Operator_commands_are_refused_with_a_reason_when_they_make_no_sense()
    {
        var nobody = SearchDecider.Decide(null, new Pause(), null);
        Assert.Equal(RejectionKind.NotFound, nobody.Rejected!.Kind);
        Assert.Equal(RejectionKind.Invalid, SearchDecider.Decide(null, new Start(new SearchSpec("s", Trials: 0)), null).Rejected!.Kind);
        // its journal would be the registry's ("search-registry")
        Assert.StartsWith("name: 'registry' is reserved", SearchDecider.Decide(null, new Start(new SearchSpec("registry")), null).Rejected!.Reason);

        using var model = Started(new SearchSpec("s", Trials: 3));
        Assert.Equal(RejectionKind.Conflict, model.Decide(new Start(new SearchSpec("s"))).Rejected!.Kind);
        Assert.Equal(RejectionKind.Conflict, model.Decide(new Resume()).Rejected!.Kind);
        Assert.Equal(RejectionKind.Invalid, model.Decide(new Extend(0)).Rejected!.Kind);
        Assert.Equal("search 's' paused", Run(model, new Pause()).Message);
        Assert.Same(Decision.Nothing, model.Decide(new Offer("t1", T0))); // a paused search offers nothing
        Run(model, new Resume());
        Assert.Equal("search 's' stopped", Run(model, new Stop()).Message);
        Assert.Equal("search 's' is stopped already", model.Decide(new Stop()).Rejected!.Reason);
        Assert.Equal(RejectionKind.Conflict, model.Decide(new Extend(2)).Rejected!.Kind);
    }

    [Fact]
    public void An_extension_reopens_a_completed_search()
    {
        using var model = Started(new SearchSpec("s", Trials: 1));
        Run(model, new Report(Result(Lease(model))));
        Assert.Equal(SearchStatus.Completed, model.State!.Status);
        Assert.Same(Decision.Nothing, model.Decide(new Offer("t1", T0)));
        Assert.Equal("search 's' extended by 2 trials to 3", Run(model, new Extend(2)).Message);
        Assert.Equal(SearchStatus.Running, model.State.Status);
        Assert.Equal(2, Lease(model));
    }
}

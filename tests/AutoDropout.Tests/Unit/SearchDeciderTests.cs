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
        Assert.Null(SearchDecider.UpdateDue(model.State!));
        int pattern = Lease(model);
        Assert.Single(Run(model, new Report(Result(pattern, reward: 0.5))).Events); // learning waits for no result
        var due = SearchDecider.UpdateDue(model.State)!;
        Assert.Equal(1, due.Version);
        Assert.Equal([pattern], due.TrialIds);
        Assert.IsType<PolicyUpdated>(Run(model, new RecordUpdate(due)).Events.Single());
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
    public void A_late_result_counts_only_while_its_trial_waits_for_another_trainer()
    {
        using var model = Started(new SearchSpec("s", Trials: 3, LeaseSeconds: 10));
        int trial = Lease(model, "t1");
        Assert.Single(Run(model, new ExpireLeases(T0.AddSeconds(11))).Events);
        // a late failure speaks for a lease that is over
        Assert.Empty(model.Decide(new Report(Result(trial, "t1", failure: FailureReason.Error))).Events);
        Assert.Empty(model.Decide(new Report(Result(trial, "t1", failure: FailureReason.Cancelled))).Events);
        // nobody else holds the trial yet: its last holder's work was done, and is kept
        var refused = model.Decide(new Report(Result(trial, "t9")));
        Assert.Empty(refused.Events);
        Assert.Contains("t9", refused.Warning, StringComparison.Ordinal);
        Assert.IsType<TrialCompleted>(model.Decide(new Report(Result(trial, "t1"))).Events.Single());
        Assert.IsType<TrialFailed>(model.Decide(new Report(Result(trial, "t1", failure: FailureReason.Diverged))).Events.Single());

        // once another trainer holds it, only that trainer's result counts
        Assert.Equal(trial, Lease(model, "t2"));
        var late = model.Decide(new Report(Result(trial, "t1")));
        Assert.Empty(late.Events);
        Assert.Contains("leased to t2", late.Warning, StringComparison.Ordinal);
        Assert.Empty(model.Decide(new Report(Result(trial, "t1", failure: FailureReason.Diverged))).Events);
        Assert.IsType<TrialCompleted>(Run(model, new Report(Result(trial, "t2"))).Events.Single());
        Assert.Same(Decision.Nothing, model.Decide(new Report(Result(trial, "t1")))); // finished: a resend, silently
    }

    [Fact]
    public void A_result_for_a_trial_never_leased_to_its_sender_is_refused()
    {
        using var model = Started(new SearchSpec("s", Trials: 3));
        int trial = Lease(model, "t1");
        Assert.Empty(model.Decide(new Report(Result(trial, "t2"))).Events);
        Assert.Empty(model.Decide(new Report(Result(trial, "t2", failure: FailureReason.Diverged))).Events);
        Assert.Empty(model.Decide(new Report(Result(trial, "t2", failure: FailureReason.Error))).Events);
        Run(model, new Pause());
        Run(model, new Report(Result(trial, "t1", failure: FailureReason.Cancelled)));
        Run(model, new Resume());
        Assert.Equal(trial, model.State!.Waiting.Single());
        Assert.Empty(model.Decide(new Report(Result(trial, "t2"))).Events);
    }

    [Fact]
    public void Cancelled_leases_use_no_attempt()
    {
        using var model = Started(new SearchSpec("s", Trials: 3));
        for (int pause = 0; pause < SearchState.MaxAttempts + 2; pause++)
        {
            int trial = Lease(model);
            Run(model, new Pause());
            var requeued = Assert.IsType<TrialRequeued>(Run(model, new Report(Result(trial, failure: FailureReason.Cancelled))).Events.Single());
            Assert.Equal(RequeueCause.Cancelled, requeued.Cause);
            Run(model, new Resume());
            Assert.Equal(0, model.State!.Trials[trial].Attempts);
        }
        Assert.IsType<TrialCompleted>(Run(model, new Report(Result(Lease(model)))).Events.Single());
    }

    [Theory]
    [InlineData("lost")]
    [InlineData("expired")]
    public void A_trial_whose_leases_keep_ending_without_a_result_fails_after_its_attempts_and_teaches_nothing(string how)
    {
        using var model = Started(new SearchSpec("s", Trials: 3, PolicyBatch: 1, LeaseSeconds: 10));
        Decision End() => how == "lost" ? Run(model, new ReleaseTrainer("t1", "is gone")) : Run(model, new ExpireLeases(T0.AddSeconds(11)));
        int trial = Lease(model);
        // a cancelled lease in between is not counted
        Run(model, new Pause());
        Run(model, new Report(Result(trial, failure: FailureReason.Cancelled)));
        Run(model, new Resume());
        for (int attempt = 1; attempt < SearchState.MaxAttempts; attempt++)
        {
            Assert.Equal(trial, Lease(model));
            var requeued = Assert.IsType<TrialRequeued>(End().Events.Single());
            Assert.Equal(how == "lost" ? RequeueCause.TrainerLost : RequeueCause.LeaseExpired, requeued.Cause);
        }
        Assert.Equal(trial, Lease(model));
        var failed = Assert.IsType<TrialFailed>(End().Events.Single());
        Assert.Equal((trial, "t1", FailureReason.Error, 0.0), (failed.TrialId, failed.TrainerId, failed.Reason, failed.Reward));
        Assert.Contains($"gave up after {SearchState.MaxAttempts} attempts", failed.Message, StringComparison.Ordinal);
        Assert.Contains(how == "lost" ? "trainer t1 is gone" : "lease of t1 expired", failed.Message, StringComparison.Ordinal);
        Assert.Equal(1, model.State!.Failed);
        Assert.Empty(model.State.Unlearned);
        Assert.Equal(0, model.State.PolicyVersion);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e308)]
    [InlineData(-0.5)]
    [InlineData(1.001)]
    public void An_impossible_reward_never_reaches_the_policy(double reward)
    {
        using var model = Started(new SearchSpec("s", Trials: 3, PolicyBatch: 1));
        int trial = Lease(model, "t1");
        var decision = Run(model, new Report(Result(trial, "t1", reward)));
        var requeued = Assert.IsType<TrialRequeued>(decision.Events.Single()); // no PolicyUpdated with it
        Assert.Equal(RequeueCause.TrainerFailure, requeued.Cause);
        Assert.Contains("t1", decision.Warning, StringComparison.Ordinal);
        Assert.Contains("reward", decision.Warning, StringComparison.Ordinal);
        Assert.Equal(0, model.State!.Completed);
        Assert.Empty(model.State.Unlearned);

        // it counts as an attempt: a trainer that keeps sending such results uses them up
        for (int attempt = 2; attempt <= SearchState.MaxAttempts; attempt++)
        {
            Assert.Equal(trial, Lease(model, "t1"));
            decision = Run(model, new Report(Result(trial, "t1", reward)));
        }
        Assert.IsType<TrialFailed>(decision.Events.Single());
        Assert.Equal(0, model.State.PolicyVersion);
        Assert.Null(model.State.BestTrialId);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void A_reward_on_its_bound_is_accepted(double reward)
    {
        using var model = Started(new SearchSpec("s", Trials: 3, PolicyBatch: 1));
        var events = Run(model, new Report(Result(Lease(model), reward: reward))).Events;
        Assert.Equal(reward, Assert.IsType<TrialCompleted>(events.Single()).Reward);
        Assert.NotNull(SearchDecider.UpdateDue(model.State!));
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

    [Fact]
    public void Proposals_wait_ahead_of_demand_and_a_batch_overtaken_by_other_proposals_fills_the_ids_that_follow()
    {
        using var model = Started(new SearchSpec("s", Trials: 6, Baselines: ["dropout:0.1"]));
        Assert.Null(SearchDecider.ProposalsWanted(model.State!, 4)); // a baseline first: it needs no sampling
        Lease(model); // the baseline
        var wanted = SearchDecider.ProposalsWanted(model.State!, 4)!;
        Assert.Equal((2, 0, 4), (wanted.FirstId, wanted.PolicyVersion, wanted.Seeds.Count));
        var tokens = wanted.Seeds.Select(_ => new int[16]).ToArray();
        Lease(model); // a trainer asked before the batch came back: trial 2 sampled on the spot
        var added = Run(model, new AddProposals(wanted.FirstId, wanted.PolicyVersion, tokens)).Events.Cast<TrialProposed>().ToArray();
        Assert.Equal([3, 4, 5], added.Select(p => p.TrialId)); // the rest of the batch, for the ids that follow
        Assert.Equal(3, Lease(model)); // the next request takes a waiting trial, oldest first
        Assert.Equal((6, 2), (SearchDecider.ProposalsWanted(model.State!, 4)!.FirstId, SearchDecider.ProposalsWanted(model.State!, 4)!.Seeds.Count)); // 4 and 5 wait
        Assert.Empty(Run(model, new AddProposals(1, 0, tokens[..1])).Events); // wholly overtaken
        Assert.Empty(Run(model, new AddProposals(9, 0, tokens)).Events); // ahead of the next id
        Run(model, new Pause());
        Assert.Null(SearchDecider.ProposalsWanted(model.State!, 4));
        Assert.Empty(Run(model, new AddProposals(6, 0, tokens)).Events);
    }

    [Fact]
    public void The_queue_of_proposals_is_refilled_in_halves_not_a_pattern_each_time_one_is_taken()
    {
        using var model = Started(new SearchSpec("s", Trials: 20));
        var wanted = SearchDecider.ProposalsWanted(model.State!, 8)!;
        Assert.Equal((1, 8), (wanted.FirstId, wanted.Seeds.Count));
        Run(model, new AddProposals(wanted.FirstId, wanted.PolicyVersion, wanted.Seeds.Select(_ => new int[16]).ToArray()));
        for (int taken = 1; taken <= 3; taken++)
        {
            Lease(model);
            Assert.Null(SearchDecider.ProposalsWanted(model.State!, 8)); // more than half still wait
        }
        Lease(model); // half are gone
        Assert.Equal((9, 4), (SearchDecider.ProposalsWanted(model.State!, 8)!.FirstId, SearchDecider.ProposalsWanted(model.State!, 8)!.Seeds.Count));
        for (int taken = 0; taken < 4; taken++) Lease(model);
        Assert.Equal((9, 8), (SearchDecider.ProposalsWanted(model.State!, 8)!.FirstId, SearchDecider.ProposalsWanted(model.State!, 8)!.Seeds.Count)); // none waits
    }

    [Fact]
    public void A_search_completes_when_its_last_results_are_learned_from()
    {
        using var model = Started(new SearchSpec("s", Trials: 2, PolicyBatch: 2));
        var (a, b) = (Lease(model), Lease(model));
        Run(model, new Report(Result(a)));
        Run(model, new Report(Result(b)));
        Assert.Equal(SearchStatus.Running, model.State!.Status); // every trial finished; the policy has not learned from them
        Run(model, new RecordUpdate(SearchDecider.UpdateDue(model.State)!));
        Assert.Equal(SearchStatus.Completed, model.State.Status);
    }

    [Fact]
    public void An_update_takes_every_whole_batch_that_waits_and_one_overtaken_is_dropped()
    {
        using var model = Started(new SearchSpec("s", Trials: 8, PolicyBatch: 2));
        var leased = Enumerable.Range(0, 7).Select(_ => Lease(model)).ToArray();
        foreach (var trial in leased) Run(model, new Report(Result(trial)));
        var due = SearchDecider.UpdateDue(model.State!)!;
        Assert.Equal(leased.Take(6), due.TrialIds); // three batches of two; the seventh result waits for its pair
        Assert.Empty(Run(model, new RecordUpdate(due with { Version = 2 })).Events);
        Assert.Empty(Run(model, new RecordUpdate(due with { TrialIds = [leased[0], leased[0]] })).Events);
        Run(model, new RecordUpdate(due));
        Assert.Empty(Run(model, new RecordUpdate(due)).Events); // recorded once
        Assert.Equal(1, model.State!.PolicyVersion);
        Assert.Equal([leased[6]], model.State.Unlearned);
        Assert.Null(SearchDecider.UpdateDue(model.State));
    }
}

using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// Random command sequences through <see cref="SearchDecider"/> and the <see cref="SearchState.Apply"/> fold, with a
/// cheap deterministic stand-in for the policy. Each sequence is seeded: a failure names the seed that shows it.
/// </summary>
public class SearchDeciderPropertyTests
{
    private const int Sequences = 300;
    private const int CommandsPerSequence = 120;
    private static readonly string[] Trainers = ["trainer-a", "trainer-b", "trainer-c"];

    /// <summary>Samples tokens from the seed alone; learning changes a running hash, so replay order matters.</summary>
    private sealed class StandInPolicy(IReadOnlyList<int> vocabularies) : IPatternPolicy
    {
        private long _hash = 17;
        public int Version { get; private set; }
        public double? Baseline { get; private set; }
        public int[] Sample(long seed)
        {
            var random = new Random((int)(seed ^ _hash));
            return vocabularies.Select(v => random.Next(v)).ToArray();
        }
        public PolicyUpdateStats Learn(IReadOnlyList<(int[] Tokens, double Reward)> batch)
        {
            foreach (var (tokens, reward) in batch) _hash = HashCode.Combine(_hash, tokens.Sum(), reward);
            Baseline = batch.Average(b => b.Reward);
            Version++;
            return new PolicyUpdateStats(Version, Baseline.Value, Baseline.Value, 0);
        }
        public string StateHash() => $"{Version}:{_hash}:{Baseline}";
        public byte[] SaveState() => System.Text.Encoding.UTF8.GetBytes(FormattableString.Invariant($"{Version}|{_hash}|{Baseline:R}"));
        public void LoadState(byte[] state)
        {
            var parts = System.Text.Encoding.UTF8.GetString(state).Split('|');
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            (Version, _hash, Baseline) = (int.Parse(parts[0], invariant), long.Parse(parts[1], invariant), parts[2].Length == 0 ? null : double.Parse(parts[2], invariant));
        }
        public void Dispose() { }
    }

    private static IPatternPolicy NewPolicy(SearchSpec spec) =>
        new StandInPolicy(Enumerable.Range(0, spec.MaskSites).SelectMany(_ => spec.PatternSpace.VocabularySizes()).ToArray());

    private static SearchCommand RandomCommand(Random random, SearchModel model, DateTimeOffset now)
    {
        int NextTrial() => random.Next(1, (model.State?.ProposedCount ?? 0) + 3); // sometimes one we never proposed
        TrialResult Result(FailureReason? reason, double? reward = null) =>
            new("p", NextTrial(), Trainers[random.Next(Trainers.Length)], reward ?? (reason is null ? Math.Round(random.NextDouble(), 3) : 0),
                null, reason, reason is null ? null : "what happened");
        return random.Next(100) switch
        {
            < 30 => new Offer(Trainers[random.Next(Trainers.Length)], now),
            < 53 => new Report(Result(null)),
            < 55 => new Report(Result(null, random.Next(2) == 0 ? double.NaN : 1.5)), // forged or broken
            < 60 => new Report(Result(FailureReason.Diverged)),
            < 64 => new Report(Result(FailureReason.Error)),
            < 67 => new Report(Result(FailureReason.OutOfMemory)),
            < 71 => new Report(Result(FailureReason.Cancelled)),
            < 77 => new ExpireLeases(now),
            < 81 => new ReleaseTrainer(Trainers[random.Next(Trainers.Length)], "is gone"),
            < 85 => new Pause(),
            < 90 => new Resume(),
            < 92 => new Stop(),
            < 95 => new Extend(random.Next(-1, 4)),
            < 96 => Update(random, model) ?? new Offer(Trainers[random.Next(Trainers.Length)], now),
            < 98 => Proposals(random, model) ?? new Offer(Trainers[random.Next(Trainers.Length)], now),
            _ => new Start(Spec()),
        };
    }

    /// <summary>The update that is due, as learned beside the actor; now and then one another update overtook.</summary>
    private static SearchCommand? Update(Random random, SearchModel model) =>
        model.State is { } state && SearchDecider.UpdateDue(state) is { } due
            ? new RecordUpdate(random.Next(5) == 0 ? due with { Version = due.Version + 1 } : due) : null;

    /// <summary>Patterns sampled ahead; now and then for ids that proposals made meanwhile overtook, or ahead of the next id.</summary>
    private static SearchCommand? Proposals(Random random, SearchModel model)
    {
        if (model.State is not { } state || SearchDecider.ProposalsWanted(state, random.Next(1, 5)) is not { } wanted) return null;
        return new AddProposals(wanted.FirstId - random.Next(-1, 3), wanted.PolicyVersion, model.Policy!.SampleBatch(
            Enumerable.Range(0, wanted.Seeds.Count + 2).Select(i => wanted.Seeds[0] + i).ToArray()));
    }

    private static SearchSpec Spec() => new("p", Trials: 8, PolicyBatch: 3, Baselines: ["dropout:0.1"], LeaseSeconds: 30);

    [Fact]
    public void Random_command_sequences_keep_every_invariant_and_replay_to_the_live_state()
    {
        var seen = new Dictionary<string, int>(); // what the sequences did, so the test cannot pass by doing nothing
        for (int seed = 1; seed <= Sequences; seed++)
        {
            var random = new Random(seed);
            using var live = new SearchModel(NewPolicy);
            var journal = new List<ISearchEvent>();
            var snapshotAt = random.Next(CommandsPerSequence);
            SearchSnapshot? snapshot = null;
            int journalAtSnapshot = 0;
            var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            foreach (var e in live.Decide(new Start(Spec())).Events) { live.Apply(e); journal.Add(e); }
            for (int i = 0; i < CommandsPerSequence; i++)
            {
                now = now.AddSeconds(random.Next(0, 20));
                var command = RandomCommand(random, live, now);
                var before = live.State!;
                var decision = live.Decide(command);
                foreach (var e in decision.Events)
                {
                    CheckEventIsAllowed(before, live.State!, e, seed, command);
                    live.Apply(e);
                    journal.Add(e);
                    var kind = e switch { TrialRequeued r => $"requeued-{r.Cause}", TrialFailed f => $"failed-{f.Reason}", _ => e.GetType().Name };
                    seen[kind] = seen.GetValueOrDefault(kind) + 1;
                }
                CheckInvariants(live.State!, seed);
                if (i == snapshotAt) (snapshot, journalAtSnapshot) = (live.ToSnapshot(), journal.Count);
            }

            using var replayed = SearchModel.Replay(journal, NewPolicy);
            Assert.True(SameState(live, replayed), $"seed {seed}: replaying the journal does not give the live state");
            using var recovered = new SearchModel(NewPolicy);
            recovered.Restore(snapshot!);
            foreach (var e in journal.Skip(journalAtSnapshot)) recovered.Apply(e);
            Assert.True(SameState(live, recovered), $"seed {seed}: snapshot + rest of the journal does not give the live state");
        }
        foreach (var kind in new[] { "TrialCompleted", "failed-Diverged", "failed-Error", "PolicyUpdated", "SearchExtended", "SearchStopped",
                     "requeued-LeaseExpired", "requeued-TrainerLost", "requeued-Cancelled", "requeued-TrainerFailure" })
            Assert.True(seen.GetValueOrDefault(kind) >= 20, $"only {seen.GetValueOrDefault(kind)} {kind} events in all sequences");
    }

    private static void CheckEventIsAllowed(SearchState before, SearchState current, ISearchEvent e, int seed, SearchCommand command)
    {
        string where = $"seed {seed}, {command} -> {e}";
        switch (e)
        {
            case TrialCompleted or TrialFailed or TrialLeased or TrialRequeued:
                {
                    int id = e switch { TrialCompleted c => c.TrialId, TrialFailed f => f.TrialId, TrialLeased l => l.TrialId, TrialRequeued r => r.TrialId, _ => 0 };
                    var trial = current.Find(id);
                    Assert.True(trial is not null, $"{where}: an unknown trial");
                    Assert.False(trial!.IsFinished, $"{where}: the trial was finished already");
                    if (e is TrialRequeued) Assert.True(trial.Status == TrialStatus.Leased, $"{where}: only a leased trial is requeued");
                    if (e is TrialLeased) Assert.True(trial.Status == TrialStatus.Proposed, $"{where}: only a waiting trial is leased");
                    break;
                }
            case TrialProposed p:
                Assert.True(current.ProposedCount < current.TotalTrials, $"{where}: more trials than the search runs");
                Assert.Equal(current.NextTrialId, p.TrialId);
                Assert.Equal(SearchStatus.Running, before.Status);
                break;
            case PolicyUpdated u:
                Assert.Equal(current.PolicyVersion + 1, u.Version);
                Assert.All(u.TrialIds, id => Assert.Null(current.Trials[id].LearnedAtVersion));
                Assert.Equal(0, u.TrialIds.Count % current.Spec.PolicyBatch);
                Assert.Equal(current.Unlearned.Take(u.TrialIds.Count), u.TrialIds);
                break;
        }
    }

    private static void CheckInvariants(SearchState s, int seed)
    {
        var trials = s.Trials.Values.ToArray();
        string where = $"seed {seed}";
        Assert.True(s.Completed == trials.Count(t => t.Status == TrialStatus.Completed), $"{where}: completed count");
        Assert.True(s.Failed == trials.Count(t => t.Status == TrialStatus.Failed), $"{where}: failed count");
        Assert.True(s.Running == trials.Count(t => t.Status == TrialStatus.Leased), $"{where}: running count");
        Assert.True(s.BaselinesProposed == trials.Count(t => t.IsBaseline), $"{where}: baseline count");
        Assert.True(s.Waiting.OrderBy(id => id).SequenceEqual(trials.Where(t => t.Status == TrialStatus.Proposed).Select(t => t.Id)),
            $"{where}: the queue holds exactly the waiting trials");
        Assert.True(trials.Where(t => t.Status == TrialStatus.Leased).All(t => t.Trainer is not null && t.LeaseUntil is not null),
            $"{where}: a lease without a trainer");
        Assert.True(trials.All(t => t.Attempts <= (t.Status == TrialStatus.Proposed ? SearchState.MaxAttempts - 1 : SearchState.MaxAttempts)),
            $"{where}: a trial went past its attempts");
        Assert.True(trials.Where(t => t.Status == TrialStatus.Completed).All(t => t.Reward is >= 0 and <= 1), $"{where}: an impossible reward was recorded");
        Assert.True(s.ProposedCount <= s.TotalTrials, $"{where}: too many trials");
        Assert.True(s.Completed + s.Failed <= s.TotalTrials, $"{where}: too many finished trials");
        Assert.True(trials.Take(s.Spec.BaselineCount).All(t => t.IsBaseline), $"{where}: baselines come first");
        // every result the pattern earned is learned from exactly once: either waiting in Unlearned or learned
        var teaching = trials.Where(t => !t.IsBaseline && (t.Status == TrialStatus.Completed || t.FailureReason == FailureReason.Diverged)).Select(t => t.Id);
        Assert.True(teaching.OrderBy(id => id).SequenceEqual(s.Unlearned.Concat(trials.Where(t => t.LearnedAtVersion is not null).Select(t => t.Id)).OrderBy(id => id)),
            $"{where}: every earned reward is learned from once");
        Assert.True(s.Status != SearchStatus.Completed || s.Unlearned.Count < s.Spec.PolicyBatch, $"{where}: completed with a full batch unlearned");
        var best = trials.Where(t => t.Status == TrialStatus.Completed && !t.IsBaseline).OrderByDescending(t => t.Reward).ThenBy(t => t.Id).FirstOrDefault();
        Assert.True(best?.Id == s.BestTrialId, $"{where}: best trial");
    }

    private static bool SameState(SearchModel a, SearchModel b) =>
        MessageCodec.ToBinary(a.ToSnapshot()).AsSpan().SequenceEqual(MessageCodec.ToBinary(b.ToSnapshot()))
        && a.Policy!.StateHash() == b.Policy!.StateHash()
        && a.State!.PolicyVersion == b.State!.PolicyVersion && a.State.Running == b.State.Running
        && a.State.Completed == b.State.Completed && a.State.BestTrialId == b.State.BestTrialId;
}

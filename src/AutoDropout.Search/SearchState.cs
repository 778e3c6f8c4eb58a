using System.Collections.Immutable;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// A search's bookkeeping, built only from its events: which trials exist and where they are, which results the
/// policy has not learned from yet, and the search's status. Immutable: <see cref="Apply"/> returns a new state.
/// Counts are kept as events arrive, so nothing is recounted when a trainer asks for work.
/// </summary>
public sealed record SearchState
{
    /// <summary>A lease that ends without a result (an infrastructure failure, a lost trainer, an expired lease) is
    /// retried until the trial has used this many attempts; then the trial fails. A cancelled lease is no attempt.</summary>
    public const int MaxAttempts = 3;

    /// <summary>A search whose first this many trials to finish all failed for the same reason that is not the
    /// pattern's (the same infrastructure reason and message: data that cannot be read, say) pauses itself, saying why,
    /// instead of failing every trial it has left. The pause is an event, so changing this never changes a replay.</summary>
    public const int AutoPauseAfter = 3;

    private SearchState(SearchSpec spec) => Spec = spec;

    public SearchSpec Spec { get; }
    public ImmutableSortedDictionary<int, TrialRecord> Trials { get; private init; } = ImmutableSortedDictionary<int, TrialRecord>.Empty;

    /// <summary>Proposed or requeued trials waiting for a trainer, oldest (lowest id) first.</summary>
    public ImmutableList<int> Waiting { get; private init; } = [];

    /// <summary>Finished trials with a reward the policy has not learned from yet, in the order they finished.</summary>
    public ImmutableList<int> Unlearned { get; private init; } = [];

    /// <summary>Trials held by a trainer now.</summary>
    public ImmutableSortedSet<int> Leased { get; private init; } = [];

    public bool Paused { get; private init; }

    /// <summary>Why the search paused itself; null when an operator paused it, or it is not paused.</summary>
    public string? PauseReason { get; private init; }
    public bool Stopped { get; private init; }
    public int ExtraTrials { get; private init; }
    public int PolicyVersion { get; private init; }
    public int Completed { get; private init; }
    public int Failed { get; private init; }
    public int BaselinesProposed { get; private init; }

    /// <summary>What each policy update did, oldest first (recorded by <see cref="SearchModel"/>, which runs the policy).</summary>
    public ImmutableList<PolicyUpdateStats> Updates { get; private init; } = [];

    /// <summary>The best learned pattern's trial; baseline trials are never candidates.</summary>
    public int? BestTrialId { get; private init; }

    public static SearchState Create(SearchSpec spec) => new(spec);

    public int Running => Leased.Count;
    public int ProposedCount => Trials.Count;
    public int NextTrialId => Trials.Count + 1;

    /// <summary>Trials the search runs in all: the spec's, any extensions, and the baselines.</summary>
    public int TotalTrials => Spec.Trials + ExtraTrials + Spec.BaselineCount;

    /// <summary>Completed once every trial finished and the policy learned from every whole batch of them.</summary>
    public SearchStatus Status =>
        Stopped ? SearchStatus.Stopped
        : Completed + Failed >= TotalTrials && Unlearned.Count < Spec.PolicyBatch ? SearchStatus.Completed
        : Paused ? SearchStatus.Paused
        : SearchStatus.Running;

    public bool MayProposeMore => Status == SearchStatus.Running && Trials.Count < TotalTrials;

    /// <summary>The next baseline to propose (they come first), or null once all are proposed.</summary>
    public BaselineSpec? NextBaseline =>
        BaselinesProposed < Spec.BaselineCount ? BaselineSpec.Parse(Spec.Baselines![BaselinesProposed]) : null;

    public TrialRecord? Best => BestTrialId is { } id ? Trials[id] : null;

    /// <summary>The largest reward a trial of this search can earn; a result above it is refused.</summary>
    public double MaxReward => TrialLifecycle.MaxReward(Spec.IsTransformer, Spec.Text);

    public TrialRecord? Find(int trialId) => Trials.GetValueOrDefault(trialId);

    public IEnumerable<TrialRecord> LeasedTrials => Leased.Select(id => Trials[id]);

    public SearchState Apply(ISearchEvent e) => e switch
    {
        SearchCreated => this,
        TrialProposed p => Propose(new TrialRecord(p.TrialId, p.Pattern, p.PolicyVersion, p.Seed)),
        TrialLeased or TrialRequeued or TrialCompleted or TrialFailed => With(TrialLifecycle.Moved(Trials[TrialIdOf(e)], e)!),
        PolicyUpdated u => Learned(u),
        SearchPaused p => this with { Paused = true, PauseReason = p.Reason },
        SearchResumed => this with { Paused = false, PauseReason = null },
        SearchStopped => this with { Stopped = true },
        SearchExtended x => this with { ExtraTrials = ExtraTrials + x.AdditionalTrials },
        _ => throw new ArgumentException($"a search does not know the event {e.GetType().Name}"),
    };

    /// <summary>The trial a lease, requeue, completion or failure is about.</summary>
    public static int TrialIdOf(ISearchEvent e) => e switch
    {
        TrialLeased l => l.TrialId,
        TrialRequeued r => r.TrialId,
        TrialCompleted c => c.TrialId,
        TrialFailed f => f.TrialId,
        _ => throw new ArgumentException($"{e.GetType().Name} is not about one trial"),
    };

    private SearchState Propose(TrialRecord trial)
    {
        if (trial.Id != NextTrialId) throw new InvalidOperationException($"trial {trial.Id} proposed where {NextTrialId} was next");
        return this with
        {
            Trials = Trials.Add(trial.Id, trial),
            Waiting = Waiting.Add(trial.Id),
            BaselinesProposed = BaselinesProposed + (trial.IsBaseline ? 1 : 0),
        };
    }

    /// <summary>Replaces a trial, keeping the queues and counts in step with its change of status.</summary>
    private SearchState With(TrialRecord after)
    {
        var before = Trials[after.Id];
        int Delta(TrialStatus status) => (after.Status == status ? 1 : 0) - (before.Status == status ? 1 : 0);
        bool waits = after.Status == TrialStatus.Proposed;
        // only rewards the pattern earned teach the policy: a completed trial, or a pattern that diverged (scores 0)
        bool teaches = !before.IsFinished && !after.IsBaseline
            && (after.Status == TrialStatus.Completed || after is { Status: TrialStatus.Failed, FailureReason: { } reason } && reason.IsPatternFault());
        return this with
        {
            Trials = Trials.SetItem(after.Id, after),
            Waiting = waits ? Waiting.Contains(after.Id) ? Waiting : Queued(after.Id) : Waiting.Remove(after.Id),
            Leased = after.Status == TrialStatus.Leased ? Leased.Add(after.Id) : Leased.Remove(after.Id),
            Completed = Completed + Delta(TrialStatus.Completed),
            Failed = Failed + Delta(TrialStatus.Failed),
            Unlearned = teaches ? Unlearned.Add(after.Id) : Unlearned,
            BestTrialId = after.Status == TrialStatus.Completed && !after.IsBaseline && IsBetter(after, Best) ? after.Id : BestTrialId,
        };
    }

    /// <summary>A requeued trial goes before the trials proposed after it: the oldest work is handed out first.</summary>
    private ImmutableList<int> Queued(int trialId)
    {
        int at = Waiting.FindIndex(id => id > trialId);
        return at < 0 ? Waiting.Add(trialId) : Waiting.Insert(at, trialId);
    }

    private static bool IsBetter(TrialRecord candidate, TrialRecord? best) =>
        best is null || candidate.Reward > best.Reward || (candidate.Reward == best.Reward && candidate.Id < best.Id);

    private SearchState Learned(PolicyUpdated update)
    {
        if (update.Version != PolicyVersion + 1)
            throw new InvalidOperationException($"policy update {update.Version} follows version {PolicyVersion}");
        var trials = Trials;
        foreach (var id in update.TrialIds) trials = trials.SetItem(id, trials[id] with { LearnedAtVersion = update.Version });
        return this with { Trials = trials, Unlearned = Unlearned.RemoveRange(update.TrialIds), PolicyVersion = update.Version };
    }

    public SearchState Recorded(PolicyUpdateStats update) => this with { Updates = Updates.Add(update) };

    /// <summary>The state as a snapshot stores it, with the policy's bytes beside it.</summary>
    public SearchSnapshot ToSnapshot(byte[] policyState) =>
        new(Spec,
            Trials.Values.Select(t => new TrialSnapshot(t.Id, t.Pattern, t.PolicyVersion, t.Seed, t.Status, t.Trainer, t.LeaseUntil,
                t.Reward, t.Metrics, t.FailureReason, t.Attempts, t.LearnedAtVersion, t.FailureMessage)).ToArray(),
            Waiting.ToArray(), Unlearned.ToArray(), Paused, Stopped, policyState, ExtraTrials, Updates.ToArray(), PauseReason);

    /// <summary>Rebuilds the state a snapshot stored; counts are recomputed once, here.</summary>
    public static SearchState FromSnapshot(SearchSnapshot snapshot)
    {
        var trials = snapshot.Trials.Select(t => new TrialRecord(t.TrialId, t.Pattern, t.PolicyVersion, t.Seed)
        {
            Status = t.Status,
            Trainer = t.Trainer,
            LeaseUntil = t.LeaseUntil,
            Reward = t.Reward,
            Metrics = t.Metrics,
            FailureReason = t.FailureReason,
            FailureMessage = t.FailureMessage,
            Attempts = t.Attempts,
            LearnedAtVersion = t.LearnedAtVersion,
        }).ToArray();
        var best = trials.Where(t => t.Status == TrialStatus.Completed && !t.IsBaseline)
            .Aggregate((TrialRecord?)null, (best, t) => IsBetter(t, best) ? t : best);
        return new SearchState(snapshot.Spec)
        {
            Trials = trials.ToImmutableSortedDictionary(t => t.Id, t => t),
            Waiting = [.. snapshot.Waiting],
            Unlearned = [.. snapshot.Unlearned],
            Leased = [.. trials.Where(t => t.Status == TrialStatus.Leased).Select(t => t.Id)],
            Paused = snapshot.Paused,
            PauseReason = snapshot.Paused ? snapshot.PauseReason : null,
            Stopped = snapshot.Stopped,
            ExtraTrials = snapshot.ExtraTrials,
            Updates = [.. snapshot.Updates ?? []],
            PolicyVersion = trials.Max(t => t.LearnedAtVersion) ?? 0,
            Completed = trials.Count(t => t.Status == TrialStatus.Completed),
            Failed = trials.Count(t => t.Status == TrialStatus.Failed),
            BaselinesProposed = trials.Count(t => t.IsBaseline),
            BestTrialId = best?.Id,
        };
    }
}

using System.Collections.Immutable;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// An evaluation job's bookkeeping, built only from its events. Its trials exist from the start (every candidate
/// with every seed, in <see cref="EvaluationSpec.Locate"/>'s order) and move through the same statuses as a
/// search's: waiting, leased, completed or failed. Immutable: <see cref="Apply"/> returns a new state.
/// </summary>
public sealed record EvaluationState
{
    private EvaluationState(EvaluationSpec spec, ImmutableSortedDictionary<int, TrialRecord> trials)
    {
        Spec = spec;
        Trials = trials;
        Waiting = [.. trials.Keys];
    }

    public EvaluationSpec Spec { get; }
    public ImmutableSortedDictionary<int, TrialRecord> Trials { get; private init; }

    /// <summary>Trials waiting for a trainer, in order.</summary>
    public ImmutableList<int> Waiting { get; private init; }

    public ImmutableSortedSet<int> Leased { get; private init; } = [];
    public bool Stopped { get; private init; }
    public int Completed { get; private init; }
    public int Failed { get; private init; }

    public SearchStatus Status =>
        Stopped ? SearchStatus.Stopped : Completed + Failed >= Trials.Count ? SearchStatus.Completed : SearchStatus.Running;

    /// <summary>The largest reward a trial of this job can earn; a result above it is refused.</summary>
    public double MaxReward => TrialLifecycle.MaxReward(Spec.IsLanguageModel, Spec.Text);

    public IEnumerable<TrialRecord> LeasedTrials => Leased.Select(id => Trials[id]);

    public static EvaluationState Create(EvaluationSpec spec)
    {
        var trials = Enumerable.Range(1, spec.TrialCount).Select(id =>
        {
            var (candidate, seed) = spec.Locate(id);
            return new TrialRecord(id, spec.Candidates[candidate].Regulariser, PolicyVersion: 0, spec.Seeds[seed]);
        });
        return new EvaluationState(spec, trials.ToImmutableSortedDictionary(t => t.Id, t => t));
    }

    public EvaluationState Apply(ISearchEvent e) => e switch
    {
        TrialLeased or TrialRequeued or TrialCompleted or TrialFailed => With(TrialLifecycle.Moved(Trials[SearchState.TrialIdOf(e)], e)!),
        SearchStopped => this with { Stopped = true },
        _ => throw new ArgumentException($"an evaluation does not know the event {e.GetType().Name}"),
    };

    /// <summary>Replaces a trial, keeping the queues and counts in step with its change of status.</summary>
    private EvaluationState With(TrialRecord after)
    {
        var before = Trials[after.Id];
        int Delta(TrialStatus status) => (after.Status == status ? 1 : 0) - (before.Status == status ? 1 : 0);
        bool waits = after.Status == TrialStatus.Proposed;
        return this with
        {
            Trials = Trials.SetItem(after.Id, after),
            // a requeued trial goes to the front: it was the oldest work when it was first leased
            Waiting = waits ? Waiting.Contains(after.Id) ? Waiting : Waiting.Insert(0, after.Id) : Waiting.Remove(after.Id),
            Leased = after.Status == TrialStatus.Leased ? Leased.Add(after.Id) : Leased.Remove(after.Id),
            Completed = Completed + Delta(TrialStatus.Completed),
            Failed = Failed + Delta(TrialStatus.Failed),
        };
    }
}

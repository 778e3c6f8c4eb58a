using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// A search as its journal implies it: the bookkeeping and the policy, folded from the same events by the live
/// controller, by recovery and by <c>controller verify</c>. Policy updates are replayed, not restored, so the fold
/// checks that each one lands on the version its event names.
/// </summary>
public sealed class SearchModel(Func<SearchSpec, IPatternPolicy> newPolicy) : IDisposable
{
    // the policy built to check a new spec, used by the SearchCreated that follows instead of building it twice
    private (SearchSpec Spec, IPatternPolicy Policy)? _built;

    public SearchState? State { get; private set; }
    public IPatternPolicy? Policy { get; private set; }

    /// <summary>Decides; a new spec whose policy cannot be built is refused here, before it is persisted, because a
    /// persisted one would fail again at every recovery.</summary>
    public Decision Decide(SearchCommand command)
    {
        var decision = SearchDecider.Decide(State, command, Policy);
        if (decision.Events is not [SearchCreated created]) return decision;
        DisposeBuilt();
        try { _built = (created.Spec, newPolicy(created.Spec)); }
        catch (Exception e) // whatever the policy's library throws: the spec is refused, the controller lives on
        {
            return Decision.Refuse(RejectionKind.Invalid, $"policy: cannot be built for this spec: {e.Message}");
        }
        return decision;
    }

    public void Apply(ISearchEvent e)
    {
        if (e is SearchCreated created)
        {
            Policy?.Dispose();
            State = SearchState.Create(created.Spec);
            if (_built is { } built && ReferenceEquals(built.Spec, created.Spec))
            {
                Policy = built.Policy;
                _built = null;
            }
            else Policy = newPolicy(created.Spec);
            return;
        }
        var state = State ?? throw new InvalidOperationException($"{e.GetType().Name} before SearchCreated");
        if (e is PolicyUpdated update)
        {
            var stats = Policy!.Learn(BatchOf(update));
            Learned(update, stats);
            return;
        }
        State = state.Apply(e);
    }

    /// <summary>What <paramref name="update"/> learns from, in its order: each trial's tokens and reward.</summary>
    public IReadOnlyList<(int[] Tokens, double Reward)> BatchOf(PolicyUpdated update)
    {
        var state = State ?? throw new InvalidOperationException("no search");
        var space = state.Spec.PatternSpace;
        return update.TrialIds.Select(id => state.Trials[id]).Select(t => (space.EncodePattern(t.Pattern), t.Reward ?? 0)).ToArray();
    }

    /// <summary>
    /// Folds an update that a copy of the policy learned elsewhere from <see cref="BatchOf"/>: the policy takes the
    /// copy's state instead of learning again. A replay learns it afresh (<see cref="Apply"/>) and lands on the same
    /// state, since learning is deterministic and a policy's state round-trips exactly.
    /// </summary>
    public void ApplyLearned(PolicyUpdated update, byte[] policyState, PolicyUpdateStats stats)
    {
        Policy!.LoadState(policyState);
        Learned(update, stats);
    }

    private void Learned(PolicyUpdated update, PolicyUpdateStats stats)
    {
        var state = State!;
        if (Policy!.Version != update.Version)
            throw new InvalidOperationException($"search {state.Spec.Name}: policy update {update.Version} replayed as version {Policy.Version}");
        State = state.Apply(update).Recorded(stats);
    }

    public void Restore(SearchSnapshot snapshot)
    {
        Policy?.Dispose();
        State = SearchState.FromSnapshot(snapshot);
        Policy = newPolicy(snapshot.Spec);
        Policy.LoadState(snapshot.PolicyState);
        if (Policy.Version != State.PolicyVersion)
            throw new InvalidOperationException($"snapshot of {snapshot.Spec.Name}: policy version {Policy.Version}, bookkeeping {State.PolicyVersion}");
    }

    public SearchSnapshot ToSnapshot() => State!.ToSnapshot(Policy!.SaveState());

    /// <summary>Folds a whole journal.</summary>
    public static SearchModel Replay(IEnumerable<ISearchEvent> events, Func<SearchSpec, IPatternPolicy> newPolicy)
    {
        var model = new SearchModel(newPolicy);
        foreach (var e in events) model.Apply(e);
        return model;
    }

    private void DisposeBuilt()
    {
        _built?.Policy.Dispose();
        _built = null;
    }

    public void Dispose()
    {
        DisposeBuilt();
        Policy?.Dispose();
    }
}

using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>What can be asked of a search. Times come in with the command, so deciding stays a pure function.</summary>
public abstract record SearchCommand
{
    public sealed record Start(SearchSpec Spec) : SearchCommand;

    /// <summary>An idle trainer would take a trial now.</summary>
    public sealed record Offer(string TrainerId, DateTimeOffset Now) : SearchCommand;

    public sealed record Report(TrialResult Result) : SearchCommand;

    /// <summary>End the leases whose time is up: by their trainers' heartbeats when <paramref name="Heartbeats"/> is
    /// given, else by each lease's own deadline.</summary>
    public sealed record ExpireLeases(DateTimeOffset Now, LeaseClock? Heartbeats = null) : SearchCommand;

    /// <summary>A trainer is gone: its trials go back to the queue at once.</summary>
    public sealed record ReleaseTrainer(string TrainerId, string Why) : SearchCommand;

    public sealed record Pause : SearchCommand;

    public sealed record Resume : SearchCommand;

    public sealed record Stop : SearchCommand;

    public sealed record Extend(int AdditionalTrials) : SearchCommand;

    /// <summary>Patterns sampled ahead of demand, away from the dispatch path, for the trials from <paramref name="FirstId"/> on.</summary>
    public sealed record AddProposals(int FirstId, int PolicyVersion, IReadOnlyList<int[]> Tokens) : SearchCommand;

    /// <summary>An update learned away from the dispatch path (from <see cref="SearchDecider.UpdateDue"/>), to be recorded.</summary>
    public sealed record RecordUpdate(PolicyUpdated Update) : SearchCommand;
}

/// <summary>Patterns to sample ahead of demand: the trials from <paramref name="FirstId"/> on, one seed each.</summary>
public sealed record ProposalRequest(int FirstId, int PolicyVersion, IReadOnlyList<long> Seeds);

public enum RejectionKind { NotFound, Conflict, Invalid }

public sealed record Rejection(RejectionKind Kind, string Reason);

/// <summary>The events to persist, or why the command was refused. No events and no rejection: nothing to do.
/// <paramref name="Warning"/> is for the operator's log: a trainer's result was refused or implausible.</summary>
public sealed record Decision(IReadOnlyList<ISearchEvent> Events, Rejection? Rejected = null, string? Message = null, string? Warning = null)
{
    public static readonly Decision Nothing = new([]);

    public static Decision Refuse(RejectionKind kind, string reason) => new([], new Rejection(kind, reason));
}

/// <summary>
/// Every decision of a search, as a pure function of its state, the command and (for sampling) its policy. The
/// persistent actor persists what this returns and folds it with <see cref="SearchState.Apply"/>; replay folds the
/// same events, so a recovered search is the one that was running.
/// </summary>
public static class SearchDecider
{
    public static Decision Decide(SearchState? state, SearchCommand command, IPatternPolicy? policy)
    {
        if (command is SearchCommand.Start start) return StartSearch(state, start.Spec);
        if (state is null)
            return command is SearchCommand.Pause or SearchCommand.Resume or SearchCommand.Stop or SearchCommand.Extend
                ? Decision.Refuse(RejectionKind.NotFound, "no such search") : Decision.Nothing;
        string name = state.Spec.Name;
        return command switch
        {
            SearchCommand.Offer offer => OfferTrial(state, offer, policy ?? throw new ArgumentNullException(nameof(policy))),
            SearchCommand.Report report => PauseIfFailingAlike(state, Record(state, report.Result)),
            SearchCommand.ExpireLeases expire => PauseIfFailingAlike(state, TrialLifecycle.Expire(state.LeasedTrials, expire, state.Spec.LeaseSeconds)),
            SearchCommand.ReleaseTrainer release => PauseIfFailingAlike(state, TrialLifecycle.Release(state.LeasedTrials.Where(t => t.Trainer == release.TrainerId),
                RequeueCause.TrainerLost, _ => $"trainer {release.TrainerId} {release.Why}")),
            SearchCommand.Pause => state.Status == SearchStatus.Running
                ? new([new SearchPaused()], Message: $"search '{name}' paused") : CannotBe(state, "paused"),
            SearchCommand.Resume => state.Status == SearchStatus.Paused
                ? new([new SearchResumed()], Message: $"search '{name}' resumed") : CannotBe(state, "resumed"),
            SearchCommand.Stop => state.Status is SearchStatus.Stopped or SearchStatus.Completed
                ? Decision.Refuse(RejectionKind.Conflict, $"search '{name}' is {state.Status.Name()} already")
                : new([new SearchStopped()], Message: $"search '{name}' stopped"),
            SearchCommand.Extend extend => ExtendSearch(state, extend.AdditionalTrials),
            SearchCommand.AddProposals add => AddProposals(state, add),
            SearchCommand.RecordUpdate record => RecordUpdate(state, record.Update),
            _ => throw new ArgumentException($"a search does not know the command {command.GetType().Name}"),
        };
    }

    private static Decision StartSearch(SearchState? state, SearchSpec spec)
    {
        if (state is not null)
            return Decision.Refuse(RejectionKind.Conflict, $"search '{state.Spec.Name}' exists already ({state.Status.Name()})");
        try { spec.Validate(); }
        catch (ArgumentException e) { return Decision.Refuse(RejectionKind.Invalid, e.Message); }
        var baselines = spec.BaselineCount > 0 ? $" after {spec.BaselineCount} baseline trials" : "";
        // the policy options are written out, so a later change of defaults cannot change how this journal replays
        return new([new SearchCreated(spec with { Policy = spec.PolicyOrDefault })], Message: $"search '{spec.Name}' started: {spec.Trials} trials of {spec.Target}{baselines}");
    }

    private static Decision OfferTrial(SearchState state, SearchCommand.Offer offer, IPatternPolicy policy)
    {
        if (state.Status != SearchStatus.Running) return Decision.Nothing;
        var leaseUntil = offer.Now.AddSeconds(state.Spec.LeaseSeconds);
        if (state.Waiting.Count > 0) return new([new TrialLeased(state.Waiting[0], offer.TrainerId, leaseUntil)]);
        if (!state.MayProposeMore) return Decision.Nothing;
        if (policy.Version != state.PolicyVersion)
            throw new InvalidOperationException($"the policy is at version {policy.Version}, the search at {state.PolicyVersion}");
        int id = state.NextTrialId;
        var pattern = state.NextBaseline is { } baseline
            ? new BaselinePattern(baseline)
            : state.Spec.PatternSpace.DecodePattern(policy.Sample(PatternSeed(state.Spec, id)));
        return new([
            new TrialProposed(id, pattern, state.PolicyVersion, TrialSeed(state.Spec, id)),
            new TrialLeased(id, offer.TrainerId, leaseUntil),
        ]);
    }

    private static long PatternSeed(SearchSpec spec, int trialId) => Seeds.Derive(spec.Seed, trialId, SeedStream.PatternSample);

    private static long TrialSeed(SearchSpec spec, int trialId) => Seeds.Derive(spec.Seed, trialId, SeedStream.Trial);

    /// <summary>How many waiting trials a running search keeps ahead of demand: half the trials running (one for a
    /// lone trainer), so a request finds its pattern sampled already while proposals stay close to the policy; none
    /// before a trainer has asked.</summary>
    public static int ProposalsAhead(SearchState state) => state.Running == 0 ? 0 : Math.Clamp((state.Running + 1) / 2, 1, 256);

    /// <summary>The patterns to sample now so that <paramref name="ahead"/> trials wait; null if none are wanted
    /// (the search is not running, has proposed all its trials, or still has baselines to propose: those need no
    /// sampling), or while more than half of them still wait: a batch costs about what one pattern costs, so the
    /// queue is refilled in halves, not one pattern each time a trainer takes one.</summary>
    public static ProposalRequest? ProposalsWanted(SearchState state, int ahead)
    {
        if (!state.MayProposeMore || state.NextBaseline is not null) return null;
        int missing = ahead - state.Waiting.Count;
        if (state.Waiting.Count > 0 && missing < (ahead + 1) / 2) return null;
        int count = Math.Min(missing, state.TotalTrials - state.ProposedCount);
        if (count <= 0) return null;
        int first = state.NextTrialId;
        return new(first, state.PolicyVersion, Enumerable.Range(first, count).Select(id => PatternSeed(state.Spec, id)).ToArray());
    }

    /// <summary>
    /// A batch sampled for <see cref="ProposalsWanted"/>. A pattern's seed depends on its trial's id alone, so when
    /// trials were proposed meanwhile the rest of the batch still fits the ids that follow; a pause, a stop or the
    /// search's end drops it. Each pattern records the policy version that wrote it.
    /// </summary>
    private static Decision AddProposals(SearchState state, SearchCommand.AddProposals add)
    {
        int skip = state.NextTrialId - add.FirstId;
        if (!state.MayProposeMore || state.NextBaseline is not null || skip < 0 || skip >= add.Tokens.Count || add.PolicyVersion > state.PolicyVersion)
            return Decision.Nothing;
        int count = Math.Min(add.Tokens.Count - skip, state.TotalTrials - state.ProposedCount);
        return new(Enumerable.Range(state.NextTrialId, count).Select(id => (ISearchEvent)new TrialProposed(
            id, state.Spec.PatternSpace.DecodePattern(add.Tokens[id - add.FirstId]), add.PolicyVersion, TrialSeed(state.Spec, id))).ToArray());
    }

    /// <summary>Updates take whole policy batches of results, as many as have finished, up to this many: with many
    /// trainers the batch grows with them instead of the updates falling behind.</summary>
    public const int MaxBatchesPerUpdate = 16;

    /// <summary>The update to learn now, if a full batch of results waits: every whole batch of them, oldest first.</summary>
    public static PolicyUpdated? UpdateDue(SearchState state)
    {
        int batches = Math.Min(state.Unlearned.Count / state.Spec.PolicyBatch, MaxBatchesPerUpdate);
        return batches == 0 ? null : new PolicyUpdated(state.PolicyVersion + 1, state.Unlearned.Take(batches * state.Spec.PolicyBatch).ToArray());
    }

    /// <summary>An update learned from <see cref="UpdateDue"/>: the oldest unlearned results, in order, for the next
    /// version; one that another update overtook is dropped.</summary>
    private static Decision RecordUpdate(SearchState state, PolicyUpdated update) =>
        update.Version == state.PolicyVersion + 1 && update.TrialIds.Count > 0
            && update.TrialIds.SequenceEqual(state.Unlearned.Take(update.TrialIds.Count))
            ? new([update]) : Decision.Nothing;

    /// <summary>A trainer's result; a resend or a result for a trial we never proposed changes nothing. Learning
    /// from it happens apart (<see cref="UpdateDue"/>), so recording a result never waits on an update.</summary>
    private static Decision Record(SearchState state, TrialResult result) =>
        TrialLifecycle.Outcome(state.Find(result.TrialId), result, state.MaxReward);

    /// <summary>
    /// When these events make the search's first <see cref="SearchState.AutoPauseAfter"/> finished trials, and every
    /// one of them failed for the same reason that is not the pattern's, with the same message, the search pauses
    /// itself in the same write, saying why: the cause (data that cannot be read, a broken trainer set-up) would
    /// fail every trial left. Only then: once a search is past its first trials, failures never pause it.
    /// </summary>
    private static Decision PauseIfFailingAlike(SearchState state, Decision decision)
    {
        if (decision.Events.Count == 0 || state.Completed + state.Failed >= SearchState.AutoPauseAfter) return decision;
        var after = decision.Events.Aggregate(state, (s, e) => s.Apply(e));
        // a search with no trials left completes instead; a paused or stopped one needs no pause
        if (after.Completed + after.Failed < SearchState.AutoPauseAfter || after.Status != SearchStatus.Running) return decision;
        var finished = after.Trials.Values.Where(t => t.IsFinished).ToList();
        var first = finished[0];
        if (first is not { Status: TrialStatus.Failed, FailureReason: { } reason } || reason.IsPatternFault()) return decision;
        if (finished.Any(t => t.Status != TrialStatus.Failed || t.FailureReason != reason || t.FailureMessage != first.FailureMessage)) return decision;
        var why = $"the first {finished.Count} trials all failed ({reason.Name()}): {first.FailureMessage}";
        return decision with { Events = [.. decision.Events, new SearchPaused(why)] };
    }

    private static Decision ExtendSearch(SearchState state, int additional)
    {
        if (additional <= 0) return Decision.Refuse(RejectionKind.Invalid, "trials: an extension adds at least 1 trial");
        // the count is folded into an int on every replay: keep it far from overflowing
        if ((long)state.Spec.Trials + state.ExtraTrials + additional > SearchSpec.MaxTrials)
            return Decision.Refuse(RejectionKind.Invalid, $"trials: a search runs at most {SearchSpec.MaxTrials} trials besides its baselines");
        if (state.Stopped) return Decision.Refuse(RejectionKind.Conflict, $"search '{state.Spec.Name}' is stopped; start a new one");
        return new([new SearchExtended(additional)],
            Message: $"search '{state.Spec.Name}' extended by {additional} trials to {state.TotalTrials + additional}");
    }

    private static Decision CannotBe(SearchState state, string verb) =>
        Decision.Refuse(RejectionKind.Conflict, $"search '{state.Spec.Name}' is {state.Status.Name()}; it cannot be {verb}");
}

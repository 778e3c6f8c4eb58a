using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// Every decision of an evaluation job, as a pure function of its state and the command: the same leases, results,
/// expiries and attempts as a search's trials, without a policy. Its commands are a search's
/// (<see cref="SearchCommand.Offer"/>, <see cref="SearchCommand.Report"/>, <see cref="SearchCommand.ExpireLeases"/>,
/// <see cref="SearchCommand.ReleaseTrainer"/>, <see cref="SearchCommand.Stop"/>).
/// </summary>
public static class EvaluationDecider
{
    public static Decision Start(EvaluationState? state, EvaluationSpec spec)
    {
        if (state is not null)
            return Decision.Refuse(RejectionKind.Conflict, $"evaluation '{state.Spec.Name}' exists already ({state.Status.Name()})");
        try { EvaluationPlanner.Validate(spec); }
        catch (ArgumentException e) { return Decision.Refuse(RejectionKind.Invalid, e.Message); }
        return new([new EvaluationCreated(spec)],
            Message: $"evaluation '{spec.Name}' started: {spec.Candidates.Count} candidates x {spec.Seeds.Count} seeds = {spec.TrialCount} trials of {spec.Target}");
    }

    public static Decision Decide(EvaluationState? state, SearchCommand command)
    {
        if (state is null) return command is SearchCommand.Stop ? Decision.Refuse(RejectionKind.NotFound, "no such evaluation") : Decision.Nothing;
        return command switch
        {
            SearchCommand.Offer offer => state.Status == SearchStatus.Running && state.Waiting.Count > 0
                ? new([new TrialLeased(state.Waiting[0], offer.TrainerId, offer.Now.AddSeconds(state.Spec.LeaseSeconds))])
                : Decision.Nothing,
            SearchCommand.Report report => Record(state, report.Result),
            SearchCommand.ExpireLeases expire => TrialLifecycle.Expire(state.LeasedTrials, expire, state.Spec.LeaseSeconds),
            SearchCommand.ReleaseTrainer release => TrialLifecycle.Release(state.LeasedTrials.Where(t => t.Trainer == release.TrainerId),
                RequeueCause.TrainerLost, _ => $"trainer {release.TrainerId} {release.Why}"),
            SearchCommand.Stop => state.Status is SearchStatus.Stopped or SearchStatus.Completed
                ? Decision.Refuse(RejectionKind.Conflict, $"evaluation '{state.Spec.Name}' is {state.Status.Name()} already")
                : new([new SearchStopped()], Message: $"evaluation '{state.Spec.Name}' stopped"),
            _ => Decision.Refuse(RejectionKind.Invalid, $"an evaluation cannot be asked to {command.GetType().Name.ToLowerInvariant()}"),
        };
    }

    /// <summary>A trainer's result; a resend, or a result for a trial that does not exist, changes nothing.</summary>
    private static Decision Record(EvaluationState state, TrialResult result) =>
        TrialLifecycle.Outcome(state.Trials.GetValueOrDefault(result.TrialId), result, state.MaxReward);

    /// <summary>What a trainer needs to run one leased trial: the whole training split, scored on the test split.</summary>
    public static WorkAssignment Assignment(EvaluationState state, int trialId)
    {
        var spec = state.Spec;
        var trial = state.Trials[trialId];
        var trialSpec = new TrialSpec(spec.Target, spec.Dataset, spec.DataDirectory, spec.Budget, spec.BatchSize, spec.LearningRate,
            trial.Pattern, ValidationFraction: 0, SplitSeed: 0, trial.Seed, spec.Optimizer, spec.IsLanguageModel ? spec.Text ?? new TextOptions() : null,
            ScoreOnTest: true);
        return new WorkAssignment(spec.Name, trial.Id, trialSpec, trial.LeaseUntil!.Value);
    }
}

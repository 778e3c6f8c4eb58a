using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// What searches and evaluation jobs share about one trial: how its events move it, and what a trainer's result
/// means for it. Each owner keeps its own queues and counts around these.
/// </summary>
public static class TrialLifecycle
{
    /// <summary>The trial after a lease, requeue, completion or failure; null for any other event.</summary>
    public static TrialRecord? Moved(TrialRecord trial, ISearchEvent e) => e switch
    {
        TrialLeased l => trial with { Status = TrialStatus.Leased, Trainer = l.TrainerId, LeaseUntil = l.LeaseUntil, Attempts = trial.Attempts + 1 },
        TrialRequeued => trial with { Status = TrialStatus.Proposed, Trainer = null, LeaseUntil = null },
        TrialCompleted c => trial with { Status = TrialStatus.Completed, Trainer = c.TrainerId, LeaseUntil = null, Reward = c.Reward, Metrics = c.Metrics },
        TrialFailed f => trial with { Status = TrialStatus.Failed, Trainer = f.TrainerId, LeaseUntil = null, FailureReason = f.Reason, Reward = f.Reward },
        _ => null,
    };

    /// <summary>The event a trainer's result makes of a trial, or null when it changes nothing.</summary>
    public static ISearchEvent? Outcome(TrialRecord? trial, TrialResult result)
    {
        if (trial is null || trial.IsFinished) return null;
        return result.FailureReason switch
        {
            null => new TrialCompleted(trial.Id, result.TrainerId, result.Reward,
                result.Metrics ?? new TrialMetricsReport(result.Reward, double.NaN, 0, 0, 0)),
            { } reason when reason.IsPatternFault() => new TrialFailed(trial.Id, result.TrainerId, reason, result.FailureMessage ?? "", 0),
            // an infrastructure failure speaks for the lease it was given: once the trial was requeued or leased to
            // another trainer, a late report of it changes nothing
            _ when trial.Status != TrialStatus.Leased || trial.Trainer != result.TrainerId => null,
            // the search was paused or stopped, or the trainer was busy: not the trial's fault
            FailureReason.Cancelled => new TrialRequeued(trial.Id, RequeueCause.Cancelled, $"cancelled: {result.FailureMessage}"),
            { } reason when trial.Attempts >= SearchState.MaxAttempts =>
                new TrialFailed(trial.Id, result.TrainerId, reason, result.FailureMessage ?? "", 0),
            { } reason => new TrialRequeued(trial.Id, RequeueCause.TrainerFailure, $"{reason.Name()}: {result.FailureMessage}"),
        };
    }

    public static Decision Requeue(IEnumerable<TrialRecord> trials, RequeueCause cause, Func<TrialRecord, string> detail) =>
        new(trials.Select(t => (ISearchEvent)new TrialRequeued(t.Id, cause, detail(t))).ToArray());
}

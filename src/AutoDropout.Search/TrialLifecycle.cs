using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// What searches and evaluation jobs share about one trial: how its events move it, and what a trainer's result
/// means for it. Each owner keeps its own queues and counts around these.
/// </summary>
public static class TrialLifecycle
{
    /// <summary>How far a reward or metric may stray past its bound (rounding), relative to the bound.</summary>
    public const double Tolerance = 1e-9;

    /// <summary>The trial after a lease, requeue, completion or failure; null for any other event.</summary>
    public static TrialRecord? Moved(TrialRecord trial, ISearchEvent e) => e switch
    {
        TrialLeased l => trial with { Status = TrialStatus.Leased, Trainer = l.TrainerId, LeaseUntil = l.LeaseUntil, Attempts = trial.Attempts + 1 },
        // the trainer stays as the trial's last holder, whose late result is still welcome while the trial waits;
        // a cancelled lease (pause, stop, a busy trainer) gives its attempt back
        TrialRequeued r => trial with
        {
            Status = TrialStatus.Proposed,
            LeaseUntil = null,
            Attempts = r.Cause == RequeueCause.Cancelled ? Math.Max(0, trial.Attempts - 1) : trial.Attempts,
        },
        TrialCompleted c => trial with { Status = TrialStatus.Completed, Trainer = c.TrainerId, LeaseUntil = null, Reward = c.Reward, Metrics = c.Metrics },
        TrialFailed f => trial with
        {
            Status = TrialStatus.Failed,
            Trainer = f.TrainerId,
            LeaseUntil = null,
            FailureReason = f.Reason,
            FailureMessage = f.Message,
            Reward = f.Reward,
        },
        _ => null,
    };

    /// <summary>The largest reward a trial can earn: an accuracy for images, c / perplexity (perplexity at least 1)
    /// for language models.</summary>
    public static double MaxReward(bool languageModel, TextOptions? text) => languageModel ? (text ?? new TextOptions()).RewardScale : 1.0;

    /// <summary>
    /// What a trainer's result makes of a trial: at most one event, and a warning for the operator when the result
    /// is refused or implausible. A completion or a diverged pattern is accepted from the trainer holding the lease,
    /// or from the trial's last holder while the trial waits in the queue (its lease expired or the trainer was
    /// thought lost, but the work was done); an infrastructure failure only from the holder.
    /// </summary>
    public static Decision Outcome(TrialRecord? trial, TrialResult result, double maxReward)
    {
        // a resend of a recorded result, or a result for a trial that does not exist
        if (trial is null || trial.IsFinished) return Decision.Nothing;
        // one line of at most 300 characters, whatever a trainer (of any version) sent: it is persisted and shown
        result = result with { FailureMessage = result.FailureMessage is null ? null : FailureReasons.OneLine(result.FailureMessage) };
        bool holds = trial.Status == TrialStatus.Leased && trial.Trainer == result.TrainerId;
        bool heldLast = trial.Status == TrialStatus.Proposed && trial.Trainer == result.TrainerId;
        if (!holds && !heldLast)
        {
            var why = trial.Status == TrialStatus.Leased ? $"it is leased to {trial.Trainer}" : "that trainer does not hold it";
            return Warn($"result of trial {trial.Id} from {result.TrainerId} refused: {why}");
        }
        if (result.FailureReason is null && Implausible(result, maxReward) is { } wrong)
        {
            var warning = $"trial {trial.Id}: implausible result from {result.TrainerId}: {wrong}";
            // counted against the lease like any infrastructure failure of that trainer; never learned from
            return holds
                ? new Decision([Retry(trial, RequeueCause.TrainerFailure, FailureReason.Error, $"implausible result: {wrong}")], Warning: warning)
                : Warn(warning);
        }
        return result.FailureReason switch
        {
            null => new([new TrialCompleted(trial.Id, result.TrainerId, result.Reward,
                result.Metrics ?? new TrialMetricsReport(result.Reward, double.NaN, 0, 0, 0))]),
            { } reason when reason.IsPatternFault() => new([new TrialFailed(trial.Id, result.TrainerId, reason, result.FailureMessage ?? "", 0)]),
            // an infrastructure failure speaks for the lease it was given: once the trial was requeued, a late report
            // of it changes nothing
            _ when !holds => Decision.Nothing,
            // the search was paused or stopped, or the trainer was busy: not the trial's fault, and no attempt used
            FailureReason.Cancelled => new([new TrialRequeued(trial.Id, RequeueCause.Cancelled, $"cancelled: {result.FailureMessage}")]),
            { } reason => new([Retry(trial, RequeueCause.TrainerFailure, reason, $"{reason.Name()}: {result.FailureMessage}")]),
        };
    }

    /// <summary>Leases that ended without a result (expired, or the trainer was lost): each trial is requeued, or
    /// fails once it has used its attempts.</summary>
    public static Decision Release(IEnumerable<TrialRecord> trials, RequeueCause cause, Func<TrialRecord, string> detail) =>
        new(trials.Select(t => Retry(t, cause, FailureReason.Error, detail(t))).ToArray());

    /// <summary>The leases that ended: by heartbeats when the command carries them, else by each lease's deadline.</summary>
    public static Decision Expire(IEnumerable<TrialRecord> leased, SearchCommand.ExpireLeases expire, int leaseSeconds)
    {
        var ended = expire.Heartbeats?.Expired(leased, expire.Now, leaseSeconds)
                    ?? leased.Where(t => t.LeaseUntil < expire.Now).Select(t => (Trial: t, Why: $"lease of {t.Trainer} expired"));
        return new(ended.Select(e => Retry(e.Trial, RequeueCause.LeaseExpired, FailureReason.Error, e.Why)).ToArray());
    }

    /// <summary>A leased trial whose lease ended without a result goes back to the queue, unless that lease was its
    /// last attempt: then it fails (not the pattern's fault, so nothing is learned from it).</summary>
    private static ISearchEvent Retry(TrialRecord trial, RequeueCause cause, FailureReason reason, string detail) =>
        trial.Attempts >= SearchState.MaxAttempts
            ? new TrialFailed(trial.Id, trial.Trainer!, reason, FailureReasons.OneLine($"gave up after {trial.Attempts} attempts; last: {detail}"), 0)
            : new TrialRequeued(trial.Id, cause, detail);

    /// <summary>Why a completed trial's reward or metrics cannot be true, or null when they can. A forged or broken
    /// result must not reach the policy, whose every later update would carry it.</summary>
    public static string? Implausible(TrialResult result, double maxReward)
    {
        double reward = result.Reward;
        if (!double.IsFinite(reward) || reward < -Tolerance * maxReward || reward > maxReward * (1 + Tolerance))
            return $"reward {reward} is outside [0, {maxReward}]";
        if (result.Metrics is not { } m) return null;
        if (!IsFraction(m.ValidationAccuracy)) return $"validation accuracy {m.ValidationAccuracy} is outside [0, 1]";
        if (m.TrainAccuracy is { } train && !IsFraction(train)) return $"train accuracy {train} is outside [0, 1]";
        if (m.ValidationPerplexity is { } perplexity && !(double.IsFinite(perplexity) && perplexity >= 1 - Tolerance))
            return $"validation perplexity {perplexity} is below 1 or not finite";
        return null;
    }

    private static bool IsFraction(double value) => double.IsFinite(value) && value >= -Tolerance && value <= 1 + Tolerance;

    private static Decision Warn(string warning) => new([], Warning: warning);
}

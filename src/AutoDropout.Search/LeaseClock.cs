using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// The heartbeats of a job's leased trials, kept in memory by its actor: a trainer's progress reports (sent every
/// few seconds while it holds a trial) are its heartbeat. A lease ends when they stop, long before its
/// <c>lease_seconds</c> would; while they come, a trial may run past <c>lease_seconds</c> for as long as its own
/// progress says it needs. Replay stays exact: what expired is persisted as a requeue, never decided again.
/// </summary>
/// <param name="silence">How long a trainer that has reported may go quiet before its lease ends.</param>
public sealed class LeaseClock(TimeSpan silence)
{
    /// <summary>A stalled trial (heartbeats, but no step for this many times the time its steps took so far) ends
    /// too: a trainer alive but stuck must not hold a trial for ever.</summary>
    public const double StallFactor = 3;

    private readonly Dictionary<int, Beat> _beats = new();
    private DateTimeOffset? _recoveredAt;

    private sealed record Beat(TrialProgress Latest, DateTimeOffset Last, DateTimeOffset StepAt);

    public TimeSpan Silence { get; } = silence > TimeSpan.Zero ? silence : throw new ArgumentOutOfRangeException(nameof(silence), "must be positive");

    /// <summary>The latest progress report per trial, for views.</summary>
    public IReadOnlyDictionary<int, TrialProgress> Latest => _beats.ToDictionary(kv => kv.Key, kv => kv.Value.Latest);

    /// <summary>A progress report arrived now.</summary>
    public void Heard(TrialProgress progress, DateTimeOffset now)
    {
        var stepAt = _beats.TryGetValue(progress.TrialId, out var before) && before.Latest.TrainerId == progress.TrainerId
                     && before.Latest.Step == progress.Step ? before.StepAt : now;
        _beats[progress.TrialId] = new Beat(progress, now, stepAt);
    }

    /// <summary>The trial's lease ended (a result, a requeue) or a new one began: its heartbeats so far say nothing more.</summary>
    public void Forget(int trialId) => _beats.Remove(trialId);

    /// <summary>The job's actor has just recovered: nobody could report to it while it was down, so every lease gets
    /// <see cref="Silence"/> from now to be heard, whatever its <c>lease_seconds</c> say.</summary>
    public void Recovered(DateTimeOffset now)
    {
        _recoveredAt = now;
        _beats.Clear();
    }

    /// <summary>The leases that ended by <paramref name="now"/>, each with why.</summary>
    public IEnumerable<(TrialRecord Trial, string Why)> Expired(IEnumerable<TrialRecord> leased, DateTimeOffset now, int leaseSeconds)
    {
        foreach (var trial in leased)
            if (WhyExpired(trial, now, leaseSeconds) is { } why) yield return (trial, why);
    }

    private string? WhyExpired(TrialRecord trial, DateTimeOffset now, int leaseSeconds)
    {
        var leaseUntil = trial.LeaseUntil!.Value;
        var leasedAt = leaseUntil.AddSeconds(-leaseSeconds);
        if (!_beats.TryGetValue(trial.Id, out var beat) || beat.Latest.TrainerId != trial.Trainer)
        {
            // not heard yet. A trainer beats within seconds of taking a trial, data loading or not, so a lease silent
            // since it began (or since this actor recovered) was never taken up: its assignment was lost on the way
            var since = _recoveredAt is { } recovered && recovered > leasedAt ? recovered : leasedAt;
            if (now - since > Silence) return $"{trial.Trainer} never reported on its lease: no heartbeat in {(now - since).TotalSeconds:0} s";
            return since == leasedAt && now > leaseUntil ? $"lease of {trial.Trainer} expired: no progress within {leaseSeconds} s" : null;
        }
        var quiet = now - beat.Last;
        if (quiet > Silence) return $"{trial.Trainer} stopped reporting: no heartbeat for {quiet.TotalSeconds:0} s";
        var (step, steps) = (beat.Latest.Step, beat.Latest.Steps);
        // beating but no step yet (data loading, a first step compiling): the lease's own deadline still holds
        if (step <= 0 || steps <= 0) return now > leaseUntil ? $"{trial.Trainer} made no training step within the lease's {leaseSeconds} s" : null;
        // the time the trial needs at the pace of its steps so far, with room for a slow end (the validation pass)
        var projected = TimeSpan.FromTicks((long)((beat.StepAt - leasedAt).Ticks * (double)steps / step));
        var stalledAt = leasedAt + TimeSpan.FromTicks((long)(projected.Ticks * StallFactor)) + Silence;
        if (stalledAt < leaseUntil) stalledAt = leaseUntil; // progress only ever extends a lease
        return now > stalledAt
            ? $"{trial.Trainer} stalled at step {step} of {steps}: {StallFactor:0}x the {projected.TotalSeconds:0} s its progress projected has passed"
            : null;
    }
}

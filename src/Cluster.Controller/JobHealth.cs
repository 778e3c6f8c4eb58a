using System.Runtime.Serialization;

namespace AutoDropout.Cluster.Controller;

/// <summary>A job actor tells the registry why its recovery failed, just before it stops (local message: never serialised).</summary>
/// <param name="Undecodable">The journal or snapshot holds something the codec cannot read: retrying will not help.</param>
internal sealed record JobRecoveryFailed(string Reason, bool Undecodable)
{
    public static JobRecoveryFailed From(Exception cause)
    {
        var all = Flatten(cause).ToList();
        // the innermost message names the manifest; the outer ones only say that replay failed
        var undecodable = all.FirstOrDefault(e => e is SerializationException or System.Text.Json.JsonException);
        var reason = (undecodable ?? all[^1]).Message;
        return new JobRecoveryFailed(reason, undecodable is not null);
    }

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        yield return e;
        var inner = e is AggregateException a ? a.InnerExceptions : e.InnerException is { } i ? [i] : (IEnumerable<Exception>)[];
        foreach (var x in inner.SelectMany(Flatten)) yield return x;
    }
}

/// <summary>
/// What the registry knows of one search or evaluation actor beyond its reference: whether it is down (stopped after
/// a journal failure and waiting to be restarted), how often it was restarted in a row, and whether it is broken
/// (its journal cannot be read back, so it is never restarted).
/// </summary>
internal sealed class JobHealth
{
    public bool Down { get; set; }

    public DateTime StartedAt { get; set; }

    public int Restarts { get; set; }

    /// <summary>Set after a failed recovery: the next start replays events only, as a snapshot may be what failed.</summary>
    public bool SkipSnapshots { get; set; }

    public string? LastFailure { get; set; }

    public string? Broken { get; set; }

    /// <summary>What an operator's command to a job that is down is told.</summary>
    public string Rejection(string kind, string name) => Broken is { } why
        ? $"{kind} '{name}' is broken: {why}"
        : $"{kind} '{name}' is restarting after a journal failure ({LastFailure ?? "it stopped"}); try again in a few seconds";

    /// <summary>The status line a listing shows for a job that is down.</summary>
    public string Problem => Broken ?? $"restarting (attempt {Restarts}): {LastFailure ?? "it stopped"}";

    /// <summary>Exponential backoff between restarts, so a journal that is down is not hammered.</summary>
    public static TimeSpan Delay(int restarts, TimeSpan min, TimeSpan max) =>
        TimeSpan.FromTicks(Math.Min(max.Ticks, min.Ticks * (1L << Math.Clamp(restarts - 1, 0, 20))));
}

/// <summary>A job actor tells the registry a write to its journal failed, just before it stops (local message).</summary>
internal sealed record JobPersistFailed(string Reason);

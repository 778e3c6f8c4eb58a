using System.Text.Json.Serialization;
using AutoDropout.Core;

namespace AutoDropout.Messages;

/// <summary>
/// Events of a search's persistent controller. Each is bound to a versioned manifest in <see cref="AutoDropoutSerializer"/>;
/// changing one means adding a new version and keeping the reader of the old one.
/// </summary>
public interface ISearchEvent : IAutoDropoutMessage;

public sealed record SearchCreated(SearchSpec Spec) : ISearchEvent;

public sealed record TrialProposed(int TrialId, DropoutPattern Pattern, int PolicyVersion, long Seed) : ISearchEvent;

public sealed record TrialLeased(int TrialId, string TrainerId, DateTimeOffset LeaseUntil) : ISearchEvent;

public sealed record TrialCompleted(int TrialId, string TrainerId, double Reward, TrialMetricsReport Metrics) : ISearchEvent;

/// <param name="Message">Why, for people: the trainer's error (one line, at most
/// <see cref="FailureReasons.MaxMessageLength"/> characters in events written since that limit), or what gave up.</param>
public sealed record TrialFailed(int TrialId, string TrainerId, FailureReason Reason, string Message, double Reward) : ISearchEvent;

/// <summary>A trial went back to the queue. <paramref name="Detail"/> is for people; <paramref name="Cause"/> decides.</summary>
public sealed record TrialRequeued(int TrialId, RequeueCause Cause, string Detail) : ISearchEvent;

/// <summary>Why a leased trial went back to the queue. The JSON names are persisted: never rename them.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RequeueCause>))]
public enum RequeueCause
{
    /// <summary>Read from a first-version event, which kept only a sentence.</summary>
    [JsonStringEnumMemberName("unknown")] Unknown,
    [JsonStringEnumMemberName("lease-expired")] LeaseExpired,
    [JsonStringEnumMemberName("trainer-lost")] TrainerLost,
    /// <summary>The search was paused or stopped while the trial ran, or a busy trainer handed it back; no attempt is used up.</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    /// <summary>The trainer reported an infrastructure failure (out of memory, an error) or sent an impossible result,
    /// and attempts are left.</summary>
    [JsonStringEnumMemberName("trainer-failure")] TrainerFailure,
}

/// <summary>The first form of <see cref="TrialRequeued"/>: a sentence only. Still read from old journals, never written.</summary>
public sealed record TrialRequeuedV1(int TrialId, string Reason)
{
    public TrialRequeued Upcast() => new(TrialId, RequeueCause.Unknown, Reason);
}

/// <summary>The policy was updated on these trials' results, in this order; replaying it rebuilds the policy exactly.</summary>
public sealed record PolicyUpdated(int Version, IReadOnlyList<int> TrialIds) : ISearchEvent;

/// <summary>The search was paused: by an operator (no reason), or by itself, with the reason it gives.</summary>
/// <param name="Reason">Why the search paused itself (its first trials all failed alike); null when an operator paused
/// it, and in events written before searches paused themselves (manifest search-paused-v1, which has no fields).</param>
public sealed record SearchPaused(string? Reason = null) : ISearchEvent;

public sealed record SearchResumed : ISearchEvent;

public sealed record SearchStopped : ISearchEvent;

/// <summary>The search was given more trials (also reopening a completed search).</summary>
public sealed record SearchExtended(int AdditionalTrials) : ISearchEvent;

/// <summary>Event of the search registry (the singleton), so it knows every search after a restart.</summary>
public sealed record SearchRegistered(string Name) : IAutoDropoutMessage;

/// <summary>Event of the search registry: the search was deleted (its journal first), so its name is free.</summary>
public sealed record SearchDeleted(string Name) : IAutoDropoutMessage;

/// <summary>
/// Event of the search registry, written once per journal: a random id that names this journal, so a controller
/// started on another database can tell that it is not the journal the cluster has been using.
/// </summary>
public sealed record JournalIdentified(string JournalId) : IAutoDropoutMessage;

/// <summary>One trial as stored in a snapshot.</summary>
/// <param name="LearnedAtVersion">The policy version whose update used this trial's reward, if any.</param>
public sealed record TrialSnapshot(
    int TrialId, DropoutPattern Pattern, int PolicyVersion, long Seed, TrialStatus Status, string? Trainer,
    DateTimeOffset? LeaseUntil, double? Reward, TrialMetricsReport? Metrics, FailureReason? FailureReason, int Attempts,
    int? LearnedAtVersion, string? FailureMessage = null);

/// <summary>
/// A search's whole state at one point of its journal: bookkeeping plus the policy's bytes (weights, optimiser
/// state, baseline, version). Recovery loads the newest one and replays only the events after it.
/// Since search-snapshot-v3 it keeps each failed trial's message and why a paused search paused itself; older
/// snapshots read with neither.
/// </summary>
public sealed record SearchSnapshot(
    SearchSpec Spec, IReadOnlyList<TrialSnapshot> Trials, IReadOnlyList<int> Waiting, IReadOnlyList<int> Unlearned,
    bool Paused, bool Stopped, byte[] PolicyState, int ExtraTrials = 0, IReadOnlyList<PolicyUpdateStats>? Updates = null,
    string? PauseReason = null) : IAutoDropoutMessage;

/// <summary>Where a trial is. The JSON names are persisted in snapshots: never rename them.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrialStatus>))]
public enum TrialStatus
{
    [JsonStringEnumMemberName("proposed")] Proposed,
    [JsonStringEnumMemberName("leased")] Leased,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("failed")] Failed,
}

[JsonConverter(typeof(JsonStringEnumConverter<SearchStatus>))]
public enum SearchStatus
{
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("stopped")] Stopped,
    [JsonStringEnumMemberName("completed")] Completed,
    /// <summary>Its journal cannot be read back (never persisted: the registry's view only).</summary>
    [JsonStringEnumMemberName("broken")] Broken,
    /// <summary>Restarting after a journal failure, or not answering (never persisted: the registry's view only).</summary>
    [JsonStringEnumMemberName("unavailable")] Unavailable,
}

public static class StatusNames
{
    /// <summary>The name operators see and JSON carries ("completed").</summary>
    public static string Name(this TrialStatus status) => status.ToString().ToLowerInvariant();

    public static string Name(this SearchStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>
/// What one policy update did, for plots and views: the batch's mean reward, the baseline after it and the policy's
/// entropy over a whole pattern (summed over its tokens), averaged over the batch. Recomputed by every replay;
/// snapshots carry the history.
/// </summary>
public sealed record PolicyUpdateStats(int Version, double MeanReward, double Baseline, double MeanEntropy);

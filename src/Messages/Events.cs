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

public sealed record TrialFailed(int TrialId, string TrainerId, string Reason, string Message, double Reward) : ISearchEvent;

public sealed record TrialRequeued(int TrialId, string Reason) : ISearchEvent;

/// <summary>The policy was updated on these trials' results, in this order; replaying it rebuilds the policy exactly.</summary>
public sealed record PolicyUpdated(int Version, IReadOnlyList<int> TrialIds) : ISearchEvent;

public sealed record SearchPaused : ISearchEvent;

public sealed record SearchResumed : ISearchEvent;

public sealed record SearchStopped : ISearchEvent;

/// <summary>The search was given more trials (also reopening a completed search).</summary>
public sealed record SearchExtended(int AdditionalTrials) : ISearchEvent;

/// <summary>Event of the search registry (the singleton), so it knows every search after a restart.</summary>
public sealed record SearchRegistered(string Name) : IAutoDropoutMessage;

/// <summary>One trial as stored in a snapshot.</summary>
/// <param name="Status">proposed, leased, completed or failed.</param>
/// <param name="LearnedAtVersion">The policy version whose update used this trial's reward, if any.</param>
public sealed record TrialSnapshot(
    int TrialId, DropoutPattern Pattern, int PolicyVersion, long Seed, string Status, string? Trainer,
    DateTimeOffset? LeaseUntil, double? Reward, TrialMetricsReport? Metrics, string? FailureReason, int Attempts,
    int? LearnedAtVersion);

/// <summary>
/// A search's whole state at one point of its journal: bookkeeping plus the policy's bytes (weights, optimiser
/// state, baseline, version). Recovery loads the newest one and replays only the events after it.
/// </summary>
public sealed record SearchSnapshot(
    SearchSpec Spec, IReadOnlyList<TrialSnapshot> Trials, IReadOnlyList<int> Waiting, IReadOnlyList<int> Unlearned,
    bool Paused, bool Stopped, byte[] PolicyState, int ExtraTrials = 0) : IAutoDropoutMessage;

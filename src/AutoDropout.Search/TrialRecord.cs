using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>One trial of a search as its events left it.</summary>
public sealed record TrialRecord(int Id, DropoutPattern Pattern, int PolicyVersion, long Seed)
{
    public TrialStatus Status { get; init; } = TrialStatus.Proposed;
    /// <summary>The trainer holding the lease; for a waiting trial, its last holder (null if it never had one).</summary>
    public string? Trainer { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public double? Reward { get; init; }
    public TrialMetricsReport? Metrics { get; init; }
    public FailureReason? FailureReason { get; init; }

    /// <summary>Why it failed, in words (the trainer's error, or what gave up); null unless it failed.</summary>
    public string? FailureMessage { get; init; }

    /// <summary>How many of its leases count as attempts: all but those cancelled (pause, stop, a busy trainer).</summary>
    public int Attempts { get; init; }

    /// <summary>The policy version whose update learned from this trial's reward.</summary>
    public int? LearnedAtVersion { get; init; }

    /// <summary>A hand-made regulariser trained for comparison: never learned from, never the best pattern.</summary>
    public bool IsBaseline => Pattern is BaselinePattern;

    public bool IsFinished => Status is TrialStatus.Completed or TrialStatus.Failed;
}

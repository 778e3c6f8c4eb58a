using AutoDropout.Core;

namespace AutoDropout.Messages;

/// <summary>An idle trainer asks the controller for work. Trainers pull; the controller never pushes.</summary>
/// <param name="Kind">Which work: a search's trials (trainer actors) or evaluation jobs' (evaluator actors).</param>
public sealed record RequestWork(string TrainerId, string Device, WorkKind Kind = WorkKind.Search) : IAutoDropoutMessage;

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<WorkKind>))]
public enum WorkKind
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("search")] Search,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("evaluation")] Evaluation,
}

/// <summary>No trial is ready; ask again after the given delay.</summary>
public sealed record NoWorkAvailable(int RetryAfterMilliseconds) : IAutoDropoutMessage;

/// <summary>A leased trial: what to train, and until when the lease holds.</summary>
public sealed record WorkAssignment(string Search, int TrialId, TrialSpec Trial, DateTimeOffset LeaseUntil) : IAutoDropoutMessage;

/// <param name="ValidationAccuracy">Top-1 accuracy; next-token accuracy for language models.</param>
/// <param name="ImagesPerSecond">Training throughput: images, or tokens for language models.</param>
/// <param name="ValidationPerplexity">Language models only.</param>
/// <param name="TrainAccuracy">The same accuracy on a fixed sample of the training data; null in results from
/// trainers that predate it. Last, and optional, so events and snapshots written before it still read.</param>
public sealed record TrialMetricsReport(
    double ValidationAccuracy, double FinalTrainLoss, double ImagesPerSecond, double WallSeconds, int Steps,
    double? ValidationPerplexity = null, double? TrainAccuracy = null);

/// <summary>A finished trial. Resent until acknowledged; the controller handles it idempotently by trial id.</summary>
/// <param name="FailureReason">Null when the trial completed; why it did not otherwise.</param>
public sealed record TrialResult(
    string Search, int TrialId, string TrainerId, double Reward, TrialMetricsReport? Metrics,
    FailureReason? FailureReason, string? FailureMessage) : IAutoDropoutMessage;

public sealed record TrialResultAck(string Search, int TrialId) : IAutoDropoutMessage;

/// <summary>Sent by a trainer every few seconds while it trains, so operators see how far a trial is. Not persisted.</summary>
public sealed record TrialProgress(string Search, int TrialId, string TrainerId, int Step, int Steps, double TrainLoss) : IAutoDropoutMessage;

/// <summary>The controller asks the trainer holding a trial to abandon it (the search was paused or stopped). The
/// trainer stops between two steps and reports the trial as failed with reason "cancelled"; the controller requeues it.</summary>
public sealed record CancelTrial(string Search, int TrialId, string Reason) : IAutoDropoutMessage;

/// <summary>What a trainer's device is: as the trainer names it ("cuda:0", "cpu", "sim:3"), as people know it
/// ("NVIDIA H200", "AMD EPYC 7B13, 2 threads", "simulated"), and its memory where the trainer can tell.</summary>
public sealed record DeviceFacts(string Device, string Name, long? MemoryBytes);

/// <summary>Asked of a trainer node's status actor: what its trainers are doing.</summary>
public sealed record GetTrainers : IAutoDropoutMessage;

/// <summary>One trainer (or the evaluator beside it) as it is now.</summary>
/// <param name="State">idle, training, reporting (its result not yet acknowledged) or drained.</param>
/// <param name="Draining">Asked to take no more work: it finishes the trial it holds.</param>
/// <param name="ItemsPerSecond">The throughput of its last completed trial: images, or tokens for language models.</param>
public sealed record TrainerStatus(
    string TrainerId, WorkKind Kind, DeviceFacts Device, string State, bool Draining, string? Search, int? TrialId, int Step, int Steps,
    double ItemsPerSecond, int TrialsDone);

/// <summary>A trainer node's answer: its address and every trainer on it.</summary>
public sealed record TrainerNodeStatus(string Node, IReadOnlyList<TrainerStatus> Trainers) : IAutoDropoutMessage;

/// <summary>Drain a trainer node (each trainer finishes its trial and takes no more) or let it take work again.
/// Answered with the node's <see cref="TrainerNodeStatus"/>.</summary>
public sealed record DrainTrainers(bool Drain) : IAutoDropoutMessage;

/// <summary>Asked of a trainer node (it has torch, which draws masks as training does): a picture of a pattern's
/// masks for one example of the target and data set, one row per site.</summary>
/// <param name="SequenceLength">Transformer patterns: the positions drawn.</param>
public sealed record RenderMasks(DropoutPattern Pattern, string Target, string Dataset, int SequenceLength) : IAutoDropoutMessage;

/// <summary>The picture, PNG-encoded; <see cref="CommandRejected"/> when the pattern cannot be drawn.</summary>
public sealed record MaskPicture(byte[] Png) : IAutoDropoutMessage;

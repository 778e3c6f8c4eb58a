using System.Text.Json.Serialization;

namespace AutoDropout.Core;

/// <summary>Why a trial did not finish. Only <see cref="Diverged"/> is the pattern's fault; the others are the
/// infrastructure's. The JSON names are part of persisted events: never rename them.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FailureReason>))]
public enum FailureReason
{
    [JsonStringEnumMemberName("diverged")] Diverged,
    [JsonStringEnumMemberName("out-of-memory")] OutOfMemory,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("error")] Error,
}

public static class FailureReasons
{
    /// <summary>A diverged pattern (NaN loss) scores 0 and teaches the policy; any other failure is retried.</summary>
    public static bool IsPatternFault(this FailureReason reason) => reason == FailureReason.Diverged;

    /// <summary>The name as written in events and shown to operators ("out-of-memory").</summary>
    public static string Name(this FailureReason reason) => reason switch
    {
        FailureReason.Diverged => "diverged",
        FailureReason.OutOfMemory => "out-of-memory",
        FailureReason.Cancelled => "cancelled",
        _ => "error",
    };
}

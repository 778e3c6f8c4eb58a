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

    /// <summary>The longest failure message kept with a trial; longer ones are cut.</summary>
    public const int MaxMessageLength = 300;

    /// <summary>
    /// A failure message as it is carried and persisted: one line (line breaks and runs of white space become one
    /// space), at most <see cref="MaxMessageLength"/> characters (a cut one ends with "..."). Empty for null.
    /// </summary>
    public static string OneLine(string? message)
    {
        if (string.IsNullOrWhiteSpace(message)) return "";
        var line = string.Join(' ', message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= MaxMessageLength ? line : string.Concat(line.AsSpan(0, MaxMessageLength - 3), "...");
    }
}

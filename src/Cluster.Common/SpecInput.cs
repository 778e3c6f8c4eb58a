using System.Text.Json;
using System.Text.Json.Serialization;
using AutoDropout.Messages;

namespace AutoDropout.Cluster;

/// <summary>
/// Reads what an operator writes (a spec file, a POST body) strictly: a field the spec does not have, or null where
/// it needs a value, is an error naming the field rather than a default taken in silence. Persisted events are read
/// by <see cref="MessageJsonContext"/>, which stays lenient so old journals load.
/// </summary>
public static class SpecInput
{
    public static SearchSpec ReadSearchSpec(string json) => Read(json, StrictSpecJsonContext.Default.SearchSpec, "search spec");

    public static EvaluationRequest ReadEvaluationRequest(string json) => Read(json, StrictSpecJsonContext.Default.EvaluationRequest, "evaluation request");

    /// <exception cref="FormatException">What is wrong and where ("$.target: ..."), in one line.</exception>
    private static T Read<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new FormatException($"not a {what}: null");
        }
        catch (JsonException e)
        {
            // the message names the member in C#'s spelling; the path names it as the JSON does
            var message = e.Message.Split(" Path:", 2)[0];
            throw new FormatException($"not a {what}: {(e.Path is { Length: > 0 } path ? $"{path}: " : "")}{message}");
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(SearchSpec))]
[JsonSerializable(typeof(EvaluationRequest))]
internal sealed partial class StrictSpecJsonContext : JsonSerializerContext;

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AutoDropout.Core;

/// <summary>A pattern of either search space, as events, assignments and results carry it.</summary>
[JsonConverter(typeof(DropoutPatternJsonConverter))]
public abstract class DropoutPattern
{
    /// <summary>"conv" or "transformer".</summary>
    public abstract string Space { get; }

    public abstract int SiteCount { get; }

    /// <summary>One line; stable, so it is also the pattern's identity.</summary>
    public abstract string ToCompact();

    /// <summary>A short stable hash, so identical patterns are recognised: the SHA-256 of the compact form.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(HashPrefix + ToCompact())))[..12];

    /// <summary>Keeps the hashes of the two spaces apart; empty for ConvNet patterns, whose hashes predate the prefix.</summary>
    protected virtual string HashPrefix => "";

    public override string ToString() => ToCompact();
}

/// <summary>
/// A search space as the controller sees it: token vocabularies per site and the mapping between token indices and
/// patterns. The policy writes <see cref="TokensPerSite"/> tokens for every site, cycling through the vocabularies.
/// </summary>
public interface IPatternSpace
{
    string Name { get; }
    IReadOnlyList<int> VocabularySizes();
    int TokensPerSite => VocabularySizes().Count;
    DropoutPattern DecodePattern(IReadOnlyList<int> tokens);
    int[] EncodePattern(DropoutPattern pattern);
}

/// <summary>
/// Reads and writes either kind: Transformer patterns carry "space": "transformer"; ConvNet patterns are written
/// exactly as before the Transformer space existed (no "space" field), so journals written then still read.
/// </summary>
public sealed class DropoutPatternJsonConverter : JsonConverter<DropoutPattern>
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(DropoutPattern);

    public override DropoutPattern Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return FromElement(document.RootElement);
    }

    public override void Write(Utf8JsonWriter writer, DropoutPattern value, JsonSerializerOptions options)
    {
        switch (value)
        {
            case ConvPattern conv: new ConvPatternJsonConverter().Write(writer, conv, options); break;
            case TransformerPattern transformer: new TransformerPatternJsonConverter().Write(writer, transformer, options); break;
            case BaselinePattern baseline:
                writer.WriteStartObject();
                writer.WriteString("space", baseline.Space);
                writer.WriteString("baseline", baseline.Baseline.ToString());
                writer.WriteEndObject();
                break;
            default: throw new JsonException($"unknown pattern type {value.GetType().Name}");
        }
    }

    public static DropoutPattern FromElement(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("space", out var space)
            ? space.GetString() switch
            {
                "transformer" => TransformerPatternJsonConverter.FromElement(root),
                "conv" => ConvPatternJsonConverter.FromElement(root),
                "baseline" => root.TryGetProperty("baseline", out var baseline) && baseline.ValueKind == JsonValueKind.String
                    ? new BaselinePattern(BaselineSpec.Parse(baseline.GetString()!))
                    : throw new PatternException("a baseline trial names its baseline, e.g. {\"space\":\"baseline\",\"baseline\":\"dropout:0.1\"}"),
                var other => throw new PatternException($"unknown pattern space '{other}' (known: conv, transformer, baseline)"),
            }
            : ConvPatternJsonConverter.FromElement(root);

    private static readonly JsonSerializerOptions Options = new() { Converters = { new DropoutPatternJsonConverter() } };

    public static string Serialize(DropoutPattern pattern) => JsonSerializer.Serialize(pattern, Options);

    public static DropoutPattern Deserialize(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FromElement(document.RootElement);
    }
}

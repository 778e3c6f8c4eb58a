using System.Text.Json;
using System.Text.Json.Serialization;

namespace AutoDropout.Core;

/// <summary>
/// The canonical JSON form of a Transformer pattern:
/// {"space":"transformer","sites":[{"size":2,"stride":8,"share":"hidden","apply":true}, ...]}.
/// </summary>
public sealed class TransformerPatternJsonConverter : JsonConverter<TransformerPattern>
{
    private static readonly HashSet<string> Known = ["size", "stride", "share", "apply"];

    public override TransformerPattern Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return FromElement(document.RootElement);
    }

    public override void Write(Utf8JsonWriter writer, TransformerPattern value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("space", "transformer");
        writer.WriteStartArray("sites");
        foreach (var s in value.Sites)
        {
            writer.WriteStartObject();
            writer.WriteNumber("size", s.Size);
            writer.WriteNumber("stride", s.Stride);
            writer.WriteString("share", TransformerSiteTokens.ShareName(s.Share));
            writer.WriteBoolean("apply", s.Apply);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static readonly JsonSerializerOptions Options = new() { Converters = { new TransformerPatternJsonConverter() } };

    public static string Serialize(TransformerPattern pattern) => JsonSerializer.Serialize(pattern, Options);

    public static TransformerPattern Deserialize(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FromElement(document.RootElement);
    }

    public static TransformerPattern FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sites", out var sites) || sites.ValueKind != JsonValueKind.Array)
            throw new PatternException("a pattern is a JSON object with a \"sites\" array");
        if (root.TryGetProperty("space", out var space) && space.GetString() != "transformer")
            throw new PatternException($"expected a Transformer pattern, found space '{space}'");
        var list = new List<TransformerSiteTokens>();
        int index = 0;
        foreach (var site in sites.EnumerateArray())
        {
            foreach (var property in site.EnumerateObject())
                if (!Known.Contains(property.Name)) throw new PatternException($"site {index}: unknown token '{property.Name}'");
            JsonElement Get(string name) => site.TryGetProperty(name, out var v) ? v : throw new PatternException($"site {index}: token '{name}' is missing");
            int Int(string name) => Get(name).TryGetInt32(out var v) ? v : throw new PatternException($"site {index}: token '{name}' must be an integer");
            var shareText = Get("share").ValueKind == JsonValueKind.String ? Get("share").GetString()! : "";
            var share = TransformerSiteTokens.ParseShare(shareText)
                ?? throw new PatternException($"site {index}: token 'share' must be \"hidden\", \"channel\" or \"head\"");
            bool apply = Get("apply").ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new PatternException($"site {index}: token 'apply' must be true or false"),
            };
            list.Add(new TransformerSiteTokens(Int("size"), Int("stride"), share, apply));
            index++;
        }
        return new TransformerPattern(list);
    }
}

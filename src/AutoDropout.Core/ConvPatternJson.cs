using System.Text.Json;
using System.Text.Json.Serialization;

namespace AutoDropout.Core;

/// <summary>
/// The canonical JSON form of a ConvNet pattern: {"sites":[{"size":3,"stride":4,"repeat":2,"rotate":15,
/// "shear_x":0.1,"shear_y":0,"share_c":true,"residual":false}, ...]}. Field names are the paper's token names.
/// </summary>
public sealed class ConvPatternJsonConverter : JsonConverter<ConvPattern>
{
    public override ConvPattern Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return FromElement(document.RootElement);
    }

    public override void Write(Utf8JsonWriter writer, ConvPattern value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("sites");
        foreach (var s in value.Sites)
        {
            writer.WriteStartObject();
            writer.WriteNumber("size", s.Size);
            writer.WriteNumber("stride", s.Stride);
            writer.WriteNumber("repeat", s.Repeat);
            writer.WriteNumber("rotate", s.Rotate);
            writer.WriteNumber("shear_x", s.ShearX);
            writer.WriteNumber("shear_y", s.ShearY);
            writer.WriteBoolean("share_c", s.ShareChannels);
            writer.WriteBoolean("residual", s.Residual);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static ConvPattern FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sites", out var sites) || sites.ValueKind != JsonValueKind.Array)
            throw new PatternException("a pattern is a JSON object with a \"sites\" array");
        var list = new List<ConvSiteTokens>();
        int index = 0;
        foreach (var site in sites.EnumerateArray())
        {
            var known = new HashSet<string> { "size", "stride", "repeat", "rotate", "shear_x", "shear_y", "share_c", "residual" };
            foreach (var property in site.EnumerateObject())
                if (!known.Contains(property.Name))
                    throw new PatternException($"site {index}: unknown token '{property.Name}'");
            JsonElement Get(string name) => site.TryGetProperty(name, out var v)
                ? v
                : throw new PatternException($"site {index}: token '{name}' is missing");
            int Int(string name) => Get(name).TryGetInt32(out var v) ? v : throw new PatternException($"site {index}: token '{name}' must be an integer");
            double Number(string name) => Get(name).TryGetDouble(out var v) ? v : throw new PatternException($"site {index}: token '{name}' must be a number");
            bool Bool(string name) => Get(name).ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new PatternException($"site {index}: token '{name}' must be true or false"),
            };
            list.Add(new ConvSiteTokens(Int("size"), Int("stride"), Int("repeat"), Int("rotate"),
                Number("shear_x"), Number("shear_y"), Bool("share_c"), Bool("residual")));
            index++;
        }
        return new ConvPattern(list);
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace AutoDropout.Core;

/// <summary>
/// Names a decoder-only Transformer language model, "lm-L-W-H": L layers of width W with H attention heads (the
/// feed-forward layer is 4W wide). Knows its number of mask sites without building it.
/// </summary>
public sealed partial record LanguageModelSpec(int Layers, int Width, int Heads)
{
    public string Name => $"lm-{Layers}-{Width}-{Heads}";

    public int MaskSites => TransformerSites.Count(Layers);

    public static bool IsLanguageModelName(string name) => name.Trim().StartsWith("lm-", StringComparison.OrdinalIgnoreCase);

    public static LanguageModelSpec Parse(string name)
    {
        var match = LmName().Match(name.Trim().ToLowerInvariant());
        if (!match.Success)
            throw new ArgumentException($"unknown language model '{name}': expected lm-LAYERS-WIDTH-HEADS (e.g. lm-2-64-4)");
        int layers = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), width = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
            heads = int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
        if (layers < 1) throw new ArgumentException($"target '{name}': at least one layer");
        if (heads < 1 || width % heads != 0) throw new ArgumentException($"target '{name}': the width {width} must split into {heads} heads");
        return new LanguageModelSpec(layers, width, heads);
    }

    [GeneratedRegex(@"^lm-(\d+)-(\d+)-(\d+)$")]
    private static partial Regex LmName();
}

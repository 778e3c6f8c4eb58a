using System.Text.RegularExpressions;

namespace AutoDropout.Core;

/// <summary>
/// Names a decoder-only Transformer language model, "lm-L-W-H": L layers of width W with H attention heads (the
/// feed-forward layer is 4W wide). Knows its number of mask sites without building it.
/// </summary>
public sealed partial record LanguageModelSpec(int Layers, int Width, int Heads)
{
    /// <summary>Largest model a new search may name: 24 layers make 169 sites, 676 tokens for the controller to write
    /// (as many as a WRN-100); 4096 wide with 64 heads is beyond what a trainer of this project fits.</summary>
    public const int MaxLayers = 24, MaxWidth = 4096, MaxHeads = 64;

    public string Name => $"lm-{Layers}-{Width}-{Heads}";

    public int MaskSites => TransformerSites.Count(Layers);

    public static bool IsLanguageModelName(string name) => name.Trim().StartsWith("lm-", StringComparison.OrdinalIgnoreCase);

    public static LanguageModelSpec Parse(string name)
    {
        var match = LmName().Match(name.Trim().ToLowerInvariant());
        if (!match.Success)
            throw new ArgumentException($"unknown language model '{name}': expected lm-LAYERS-WIDTH-HEADS (e.g. lm-2-64-4)");
        int layers = TargetSpec.Number(name, match.Groups[1].Value, "layer count"), width = TargetSpec.Number(name, match.Groups[2].Value, "width"),
            heads = TargetSpec.Number(name, match.Groups[3].Value, "head count");
        if (layers < 1) throw new ArgumentException($"target '{name}': at least one layer");
        if (heads < 1 || width % heads != 0) throw new ArgumentException($"target '{name}': the width {width} must split into {heads} heads");
        return new LanguageModelSpec(layers, width, heads);
    }

    /// <summary>Refuses a model larger than a new search may train; not part of <see cref="Parse"/>, so specs persisted
    /// before the limits existed still load.</summary>
    public void CheckLimits()
    {
        if (Layers > MaxLayers) throw new ArgumentException($"target '{Name}': at most {MaxLayers} layers");
        if (Width > MaxWidth) throw new ArgumentException($"target '{Name}': width at most {MaxWidth}");
        if (Heads > MaxHeads) throw new ArgumentException($"target '{Name}': at most {MaxHeads} heads");
    }

    [GeneratedRegex(@"^lm-(\d+)-(\d+)-(\d+)$")]
    private static partial Regex LmName();
}

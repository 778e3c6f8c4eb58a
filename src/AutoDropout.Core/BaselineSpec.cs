using System.Globalization;

namespace AutoDropout.Core;

/// <summary>The hand-made regularisers a baseline trial puts at mask sites.</summary>
public enum RegulariserKind
{
    /// <summary>Nothing at the sites: the target trains without dropout.</summary>
    None,
    /// <summary>Standard dropout of single units.</summary>
    Dropout,
    /// <summary>Dropout of whole channels (dropout2d).</summary>
    Spatial,
    /// <summary>DropBlock (Ghiasi et al. 2018).</summary>
    DropBlock,
}

/// <summary>Which of a target's mask sites a baseline's module goes to.</summary>
public enum BaselinePlacement
{
    /// <summary>Every mask site (written without a suffix, or "@all").</summary>
    All,
    /// <summary>
    /// "@late": the sites of every group but the first, as Ghiasi et al. (2018) place DropBlock in the last groups
    /// of a ResNet: groups 2 and 3 of a Wide-ResNet (with the final BN, at group 3's resolution), the second site of
    /// the small CNN.
    /// </summary>
    Late,
}

/// <summary>
/// The hand-made regularisers AutoDropout is compared with, placed at the same sites as patterns:
/// "none", "dropout:P" (units), "spatial:P" (whole channels, dropout2d) and "dropblock:SIZE:KEEP" (Ghiasi et al. 2018),
/// each optionally followed by "@all" (every site, the default) or "@late" (see <see cref="BaselinePlacement"/>).
/// </summary>
/// <param name="Rate">The drop probability; keep_prob for DropBlock; 0 for none.</param>
/// <param name="Placement">Which mask sites get the module.</param>
public sealed record BaselineSpec(RegulariserKind Kind, double Rate = 0, int BlockSize = 0, BaselinePlacement Placement = BaselinePlacement.All)
{
    public static readonly BaselineSpec None = new(RegulariserKind.None);

    /// <summary>Refuses a block larger than any feature map here; not part of <see cref="Parse"/>, which reads persisted
    /// baselines too. A size too large for an int came out of Parse as int.MaxValue.</summary>
    public void CheckLimits()
    {
        if (BlockSize > GridLimits.MaxValue) throw new ArgumentException($"baseline '{this}': the block size is at most {GridLimits.MaxValue}");
    }

    private const string Known = "none, dropout:P, spatial:P or dropblock:SIZE:KEEP, optionally followed by @all or @late";

    /// <summary>
    /// Language models have no channel maps and no groups: they take standard dropout (or none) at every site.
    /// </summary>
    public bool FitsLanguageModels => (Kind is RegulariserKind.None or RegulariserKind.Dropout) && Placement == BaselinePlacement.All;

    public static BaselineSpec Parse(string text)
    {
        var (regulariser, placement) = SplitPlacement(text);
        var spec = ParseRegulariser(text, regulariser);
        if (spec.Kind == RegulariserKind.None && placement != BaselinePlacement.All)
            throw new ArgumentException($"baseline '{text}': none has no sites to choose");
        return spec with { Placement = placement };
    }

    private static (string Regulariser, BaselinePlacement Placement) SplitPlacement(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('@');
        if (parts.Length == 1) return (parts[0], BaselinePlacement.All);
        if (parts.Length > 2) throw new ArgumentException($"baseline '{text}': at most one @placement");
        return parts[1] switch
        {
            "all" => (parts[0], BaselinePlacement.All),
            "late" => (parts[0], BaselinePlacement.Late),
            _ => throw new ArgumentException($"baseline '{text}': unknown placement '@{parts[1]}': expected @all or @late"),
        };
    }

    private static BaselineSpec ParseRegulariser(string text, string regulariser)
    {
        var parts = regulariser.Split(':');
        double Number(int i, string what) =>
            parts.Length > i && double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v : throw new ArgumentException($"baseline '{text}': {what} is missing or not a number");
        switch (parts[0])
        {
            case "none":
                return None;
            case "dropout" or "spatial":
                {
                    double p = Number(1, "the drop probability");
                    if (p is < 0 or >= 1) throw new ArgumentException($"baseline '{text}': the drop probability must be in [0, 1)");
                    return new BaselineSpec(parts[0] == "dropout" ? RegulariserKind.Dropout : RegulariserKind.Spatial, p);
                }
            case "dropblock":
                {
                    int size = (int)Number(1, "the block size");
                    double keep = Number(2, "keep_prob");
                    if (size < 1) throw new ArgumentException($"baseline '{text}': the block size must be at least 1");
                    if (keep is <= 0 or > 1) throw new ArgumentException($"baseline '{text}': keep_prob must be in (0, 1]");
                    return new BaselineSpec(RegulariserKind.DropBlock, keep, size);
                }
            default:
                throw new ArgumentException($"unknown baseline '{text}': expected {Known}");
        }
    }

    /// <summary>
    /// The form users type, which is also how persisted baseline trials name their baseline; an every-site baseline
    /// has no suffix, as before placements existed.
    /// </summary>
    public override string ToString() => Regulariser() + (Placement == BaselinePlacement.Late ? "@late" : "");

    private string Regulariser() => Kind switch
    {
        RegulariserKind.None => "none",
        RegulariserKind.Dropout => FormattableString.Invariant($"dropout:{Rate}"),
        RegulariserKind.Spatial => FormattableString.Invariant($"spatial:{Rate}"),
        RegulariserKind.DropBlock => FormattableString.Invariant($"dropblock:{BlockSize}:{Rate}"),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown regulariser kind"),
    };
}

/// <summary>
/// A reference trial of a search: a hand-made regulariser at mask sites instead of a learned pattern, trained
/// with the same budget so its reward can be compared with the patterns'. The policy never learns from it.
/// </summary>
public sealed class BaselinePattern(BaselineSpec baseline) : DropoutPattern, IEquatable<BaselinePattern>
{
    public BaselineSpec Baseline { get; } = baseline;
    public override string Space => "baseline";
    public override int SiteCount => 0;
    public override string ToCompact() => $"baseline {Baseline}";
    protected override string HashPrefix => "baseline:";

    public bool Equals(BaselinePattern? other) => other is not null && Baseline == other.Baseline;
    public override bool Equals(object? obj) => Equals(obj as BaselinePattern);
    public override int GetHashCode() => Baseline.GetHashCode();
}

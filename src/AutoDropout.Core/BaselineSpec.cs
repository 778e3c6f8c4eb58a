using System.Globalization;

namespace AutoDropout.Core;

/// <summary>The hand-made regularisers a baseline trial puts at every mask site.</summary>
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

/// <summary>
/// The hand-made regularisers AutoDropout is compared with, placed at the same sites as patterns:
/// "none", "dropout:P" (units), "spatial:P" (whole channels, dropout2d) and "dropblock:SIZE:KEEP" (Ghiasi et al. 2018).
/// </summary>
/// <param name="Rate">The drop probability; keep_prob for DropBlock; 0 for none.</param>
public sealed record BaselineSpec(RegulariserKind Kind, double Rate = 0, int BlockSize = 0)
{
    public static readonly BaselineSpec None = new(RegulariserKind.None);

    private const string Known = "none, dropout:P, spatial:P or dropblock:SIZE:KEEP";

    /// <summary>Language models have no channel maps: they take standard dropout (or none) at their sites.</summary>
    public bool FitsLanguageModels => Kind is RegulariserKind.None or RegulariserKind.Dropout;

    public static BaselineSpec Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
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

    /// <summary>The form users type, which is also how persisted baseline trials name their baseline.</summary>
    public override string ToString() => Kind switch
    {
        RegulariserKind.None => "none",
        RegulariserKind.Dropout => FormattableString.Invariant($"dropout:{Rate}"),
        RegulariserKind.Spatial => FormattableString.Invariant($"spatial:{Rate}"),
        RegulariserKind.DropBlock => FormattableString.Invariant($"dropblock:{BlockSize}:{Rate}"),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown regulariser kind"),
    };
}

/// <summary>
/// A reference trial of a search: a hand-made regulariser at every mask site instead of a learned pattern, trained
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

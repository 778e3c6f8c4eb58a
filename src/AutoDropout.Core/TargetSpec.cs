using System.Globalization;
using System.Text.RegularExpressions;

namespace AutoDropout.Core;

/// <summary>
/// Names a target network and knows how many mask sites it has, without building it, so the controller can write
/// patterns of the right length. "cnn": two conv+BN layers (fast on CPU); "wrn-D-K": a pre-activation Wide-ResNet.
/// </summary>
public sealed partial record TargetSpec(string Name, int Depth, int Widen)
{
    public const string Cnn = "cnn";

    /// <summary>Largest WRN a new search may name: deeper nets make patterns of hundreds more tokens that the
    /// controller samples one by one (WRN-100 has 97 sites, 776 tokens); wider ones only cost trainers memory.</summary>
    public const int MaxDepth = 100, MaxWiden = 20;

    public bool IsWideResNet => Depth > 0;

    /// <summary>Residual blocks per group of a WRN-D-K: (D - 4) / 6.</summary>
    public int BlocksPerGroup => IsWideResNet ? (Depth - 4) / 6 : 0;

    /// <summary>One site after every batch-norm: two per WRN block plus the final BN; two in the small CNN.</summary>
    public int MaskSites => IsWideResNet ? BlocksPerGroup * 3 * 2 + 1 : 2;

    public static TargetSpec Parse(string name)
    {
        var lower = name.Trim().ToLowerInvariant();
        if (lower == Cnn) return new TargetSpec(Cnn, 0, 0);
        var match = WrnName().Match(lower);
        if (match.Success)
        {
            int depth = Number(name, match.Groups[1].Value, "depth"), widen = Number(name, match.Groups[2].Value, "widen factor");
            if (depth < 10 || (depth - 4) % 6 != 0)
                throw new ArgumentException($"target '{name}': WRN depth must be 6n+4 and at least 10 (10, 16, 22, 28, ...)");
            if (widen < 1) throw new ArgumentException($"target '{name}': WRN widen factor must be at least 1");
            return new TargetSpec(lower, depth, widen);
        }
        throw new ArgumentException($"unknown target '{name}': expected 'cnn' or 'wrn-D-K' (e.g. wrn-16-2)");
    }

    /// <summary>Refuses a WRN larger than a new search may train; not part of <see cref="Parse"/>, so specs persisted
    /// before the limits existed still load.</summary>
    public void CheckLimits()
    {
        if (Depth > MaxDepth) throw new ArgumentException($"target '{Name}': WRN depth at most {MaxDepth}");
        if (Widen > MaxWiden) throw new ArgumentException($"target '{Name}': WRN widen factor at most {MaxWiden}");
    }

    /// <summary>A number of a target's name; one too large for an int is a bad name, not a crash.</summary>
    internal static int Number(string name, string digits, string what) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value : throw new ArgumentException($"target '{name}': the {what} {digits} is too large");

    [GeneratedRegex(@"^wrn-(\d+)-(\d+)$")]
    private static partial Regex WrnName();
}

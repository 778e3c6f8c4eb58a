using System.Collections.Immutable;

namespace AutoDropout.Core;

/// <summary>
/// The value grids of the ConvNet space. The paper's appendix with its grids is not available, so these are ours
/// (DESIGN.md §1). Size and stride are clipped to the feature map when a mask is rendered, so one grid serves every
/// site whatever its resolution.
/// </summary>
public sealed record ConvSearchSpace(
    ImmutableArray<int> Sizes,
    ImmutableArray<int> Strides,
    ImmutableArray<int> Repeats,
    ImmutableArray<int> Rotations,
    ImmutableArray<double> Shears) : IPatternSpace
{
    [System.Text.Json.Serialization.JsonIgnore] public string Name => "conv";

    DropoutPattern IPatternSpace.DecodePattern(IReadOnlyList<int> tokens) => Decode(tokens);

    int[] IPatternSpace.EncodePattern(DropoutPattern pattern) => pattern is ConvPattern p
        ? Encode(p)
        : throw new PatternException($"a {pattern.Space} pattern in a ConvNet search");

    public static ConvSearchSpace Default { get; } = new(
        [1, 2, 3, 4, 5, 6, 7],
        [1, 2, 4, 8, 16],
        [1, 2, 3, 4, 5],
        [0, 15, 30, 45, 60, 75],
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);

    /// <summary>Checks the grids; the message names the grid at fault.</summary>
    public void Validate()
    {
        static void Check<T>(string name, ImmutableArray<T> grid, Func<T, bool> valid, string rule)
        {
            if (grid.IsDefaultOrEmpty) throw new ArgumentException($"grid.{name}: needs at least one value");
            // each value is a choice the policy has an output for
            if (grid.Length > GridLimits.MaxValues) throw new ArgumentException($"grid.{name}: at most {GridLimits.MaxValues} values");
            if (grid.Distinct().Count() != grid.Length) throw new ArgumentException($"grid.{name}: values must be distinct");
            foreach (var value in grid)
                if (!valid(value)) throw new ArgumentException($"grid.{name}: {value} is not {rule}");
        }
        Check("sizes", Sizes, v => v is >= 1 and <= GridLimits.MaxValue, $"a size from 1 to {GridLimits.MaxValue}");
        Check("strides", Strides, v => v is >= 1 and <= GridLimits.MaxValue, $"a stride from 1 to {GridLimits.MaxValue}");
        Check("repeats", Repeats, v => v is >= 1 and <= GridLimits.MaxValue, $"a repeat count from 1 to {GridLimits.MaxValue}");
        Check("rotations", Rotations, v => v is >= 0 and < 360, "an angle in [0, 360) degrees");
        Check("shears", Shears, v => v is >= 0 and < 1 && double.IsFinite(v), "a shear in [0, 1)");
    }

    /// <summary>How many choices the token of this type has.</summary>
    public int VocabularySize(TokenType type) => type switch
    {
        TokenType.Size => Sizes.Length,
        TokenType.Stride => Strides.Length,
        TokenType.Repeat => Repeats.Length,
        TokenType.Rotate => Rotations.Length,
        TokenType.ShearX or TokenType.ShearY => Shears.Length,
        TokenType.ShareChannels or TokenType.Residual => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public IReadOnlyList<int> VocabularySizes() =>
        Enumerable.Range(0, TokenTypes.PerSite).Select(t => VocabularySize((TokenType)t)).ToArray();

    /// <summary>Turns the controller's token indices (8 per site) into a pattern.</summary>
    public ConvPattern Decode(IReadOnlyList<int> tokens)
    {
        if (tokens.Count == 0 || tokens.Count % TokenTypes.PerSite != 0)
            throw new PatternException($"a ConvNet pattern has {TokenTypes.PerSite} tokens per site; got {tokens.Count} tokens");
        var sites = new List<ConvSiteTokens>();
        for (int site = 0; site < tokens.Count / TokenTypes.PerSite; site++)
        {
            int At(TokenType type)
            {
                int index = tokens[site * TokenTypes.PerSite + (int)type];
                if (index < 0 || index >= VocabularySize(type))
                    throw new PatternException(
                        $"site {site}, token {type.WireName()}: index {index} is outside its grid of {VocabularySize(type)} values");
                return index;
            }
            sites.Add(new ConvSiteTokens(
                Sizes[At(TokenType.Size)], Strides[At(TokenType.Stride)], Repeats[At(TokenType.Repeat)],
                Rotations[At(TokenType.Rotate)], Shears[At(TokenType.ShearX)], Shears[At(TokenType.ShearY)],
                At(TokenType.ShareChannels) == 1, At(TokenType.Residual) == 1));
        }
        return new ConvPattern(sites);
    }

    /// <summary>The token indices of a pattern; fails naming the site and token when a value is off the grid.</summary>
    public int[] Encode(ConvPattern pattern)
    {
        var tokens = new int[pattern.Sites.Length * TokenTypes.PerSite];
        for (int site = 0; site < pattern.Sites.Length; site++)
        {
            var s = pattern.Sites[site];
            int o = site * TokenTypes.PerSite;
            tokens[o + (int)TokenType.Size] = IndexIn(Sizes, s.Size, site, TokenType.Size);
            tokens[o + (int)TokenType.Stride] = IndexIn(Strides, s.Stride, site, TokenType.Stride);
            tokens[o + (int)TokenType.Repeat] = IndexIn(Repeats, s.Repeat, site, TokenType.Repeat);
            tokens[o + (int)TokenType.Rotate] = IndexIn(Rotations, s.Rotate, site, TokenType.Rotate);
            tokens[o + (int)TokenType.ShearX] = IndexIn(Shears, s.ShearX, site, TokenType.ShearX);
            tokens[o + (int)TokenType.ShearY] = IndexIn(Shears, s.ShearY, site, TokenType.ShearY);
            tokens[o + (int)TokenType.ShareChannels] = s.ShareChannels ? 1 : 0;
            tokens[o + (int)TokenType.Residual] = s.Residual ? 1 : 0;
        }
        return tokens;
    }

    /// <summary>Checks a pattern against the grids and the number of mask sites of the target.</summary>
    public void Validate(ConvPattern pattern, int expectedSites)
    {
        if (pattern.Sites.Length != expectedSites)
            throw new PatternException($"the target has {expectedSites} mask sites but the pattern has {pattern.Sites.Length}");
        Encode(pattern);
    }

    /// <summary>
    /// Checks only what any renderer needs (positive size, stride and repeat, angles in [0, 360), shears in [0, 1))
    /// and the site count, not grid membership: a search with custom grids writes patterns off the default grid.
    /// </summary>
    public static void ValidateStructure(ConvPattern pattern, int expectedSites)
    {
        if (pattern.Sites.Length != expectedSites)
            throw new PatternException($"the target has {expectedSites} mask sites but the pattern has {pattern.Sites.Length}");
        for (int site = 0; site < pattern.Sites.Length; site++)
        {
            var s = pattern.Sites[site];
            void Check(bool valid, TokenType type, IFormattable value, string rule)
            {
                if (!valid)
                    throw new PatternException(
                        $"site {site}, token {type.WireName()}: {value.ToString(null, System.Globalization.CultureInfo.InvariantCulture)} is not {rule}");
            }
            Check(s.Size >= 1, TokenType.Size, s.Size, "a size of at least 1");
            Check(s.Stride >= 1, TokenType.Stride, s.Stride, "a stride of at least 1");
            Check(s.Repeat >= 1, TokenType.Repeat, s.Repeat, "a repeat count of at least 1");
            Check(s.Rotate is >= 0 and < 360, TokenType.Rotate, s.Rotate, "an angle in [0, 360) degrees");
            Check(s.ShearX is >= 0 and < 1, TokenType.ShearX, s.ShearX, "a shear in [0, 1)");
            Check(s.ShearY is >= 0 and < 1, TokenType.ShearY, s.ShearY, "a shear in [0, 1)");
        }
    }

    private static int IndexIn<T>(ImmutableArray<T> grid, T value, int site, TokenType type)
    {
        int index = grid.IndexOf(value);
        if (index < 0)
            throw new PatternException(
                $"site {site}, token {type.WireName()}: value {value} is not in its grid [{string.Join(", ", grid)}]");
        return index;
    }
}

public sealed class PatternException(string message) : Exception(message);

/// <summary>Limits on a new search's grids; replayed grids are not checked again.</summary>
public static class GridLimits
{
    /// <summary>Values per grid.</summary>
    public const int MaxValues = 64;

    /// <summary>A size, stride or repeat count in pixels or tokens: larger than any feature map or context here.</summary>
    public const int MaxValue = 4096;
}

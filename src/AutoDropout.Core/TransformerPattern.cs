using System.Collections.Immutable;
using System.Globalization;

namespace AutoDropout.Core;

/// <summary>How a Transformer site's mask is shared across the hidden vector of one position.</summary>
public enum SequenceSharing
{
    /// <summary>One mask per example for the whole hidden vector: shape (N, T, 1).</summary>
    Hidden = 0,
    /// <summary>An independent offset per channel: shape (N, T, C).</summary>
    Channel = 1,
    /// <summary>An independent offset per attention head (C split into heads): shape (N, heads, T, 1).</summary>
    Head = 2,
}

/// <summary>The decisions for one Transformer mask site (DESIGN.md §1, Transformer space).</summary>
/// <param name="Size">Length of each run of dropped positions.</param>
/// <param name="Stride">A run starts every Stride positions; a run never covers a whole period (see docs/patterns.md).</param>
/// <param name="Share">Whether the hidden vector, each channel or each head gets its own offset.</param>
/// <param name="Apply">Whether this sub-layer gets a mask at all.</param>
public sealed record TransformerSiteTokens(int Size, int Stride, SequenceSharing Share, bool Apply)
{
    public const int PerSite = 4;

    /// <summary>Positions dropped per period: at most Stride - 1, so every period keeps a position.</summary>
    public int DroppedPerPeriod => Math.Clamp(Size, 0, Stride - 1);

    public string ToCompact() =>
        string.Create(CultureInfo.InvariantCulture, $"s{Size} t{Stride} {ShareName(Share)} {(Apply ? "on" : "off")}");

    public static string ShareName(SequenceSharing share) => share switch
    {
        SequenceSharing.Hidden => "hidden",
        SequenceSharing.Channel => "channel",
        SequenceSharing.Head => "head",
        _ => throw new ArgumentOutOfRangeException(nameof(share)),
    };

    public static SequenceSharing? ParseShare(string name) => name switch
    {
        "hidden" => SequenceSharing.Hidden,
        "channel" => SequenceSharing.Channel,
        "head" => SequenceSharing.Head,
        _ => null,
    };
}

/// <summary>The sub-layer a Transformer mask site sits on; the embedding once, the rest once per layer.</summary>
public enum TransformerSiteKind
{
    Embedding,
    Query,
    Key,
    Value,
    AttentionOutput,
    FeedForwardHidden,
    FeedForwardOutput,
    Residual,
}

/// <summary>
/// A dropout pattern for a Transformer: one group of 4 tokens per site, sites in the order of
/// <see cref="TransformerSites.Layout"/> (embedding, then q, k, v, attention output, FFN hidden, FFN output and
/// residual of each layer).
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(TransformerPatternJsonConverter))]
public sealed class TransformerPattern : DropoutPattern, IEquatable<TransformerPattern>
{
    public TransformerPattern(IEnumerable<TransformerSiteTokens> sites)
    {
        Sites = sites.ToImmutableArray();
        if (Sites.IsEmpty) throw new ArgumentException("a pattern needs at least one site", nameof(sites));
    }

    public ImmutableArray<TransformerSiteTokens> Sites { get; }

    public override string Space => "transformer";

    public override int SiteCount => Sites.Length;

    public override string ToCompact() => string.Join(" | ", Sites.Select(s => s.ToCompact()));

    /// <summary>Reads the compact form back; errors name the site and the token.</summary>
    public static TransformerPattern ParseCompact(string text)
    {
        var sites = new List<TransformerSiteTokens>();
        var parts = text.Split('|');
        for (int site = 0; site < parts.Length; site++)
        {
            var words = parts[site].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != TransformerSiteTokens.PerSite)
                throw new PatternException($"site {site}: expected 4 tokens 'sN tN hidden|channel|head on|off', found '{parts[site].Trim()}'");
            int Number(string word, char prefix, string token) =>
                word.Length > 1 && word[0] == prefix && int.TryParse(word.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                    ? v
                    : throw new PatternException($"site {site}, token {token}: expected '{prefix}<integer>', found '{word}'");
            var share = TransformerSiteTokens.ParseShare(words[2])
                ?? throw new PatternException($"site {site}, token share: expected hidden, channel or head, found '{words[2]}'");
            bool apply = words[3] switch
            {
                "on" => true,
                "off" => false,
                _ => throw new PatternException($"site {site}, token apply: expected on or off, found '{words[3]}'"),
            };
            sites.Add(new TransformerSiteTokens(Number(words[0], 's', "size"), Number(words[1], 't', "stride"), share, apply));
        }
        return new TransformerPattern(sites);
    }

    protected override string HashPrefix => "transformer:";

    public bool Equals(TransformerPattern? other) => other is not null && Sites.SequenceEqual(other.Sites);
    public override bool Equals(object? obj) => Equals(obj as TransformerPattern);
    public override int GetHashCode() => ToCompact().GetHashCode(StringComparison.Ordinal);
}

/// <summary>Where the sites of a Transformer with a given number of layers are.</summary>
public static class TransformerSites
{
    private static readonly TransformerSiteKind[] PerLayer =
    [
        TransformerSiteKind.Query, TransformerSiteKind.Key, TransformerSiteKind.Value, TransformerSiteKind.AttentionOutput,
        TransformerSiteKind.FeedForwardHidden, TransformerSiteKind.FeedForwardOutput, TransformerSiteKind.Residual,
    ];

    public static int Count(int layers) => 1 + PerLayer.Length * layers;

    /// <summary>(layer, kind) of every site in pattern order; the embedding has layer -1.</summary>
    public static IReadOnlyList<(int Layer, TransformerSiteKind Kind)> Layout(int layers)
    {
        var layout = new List<(int, TransformerSiteKind)> { (-1, TransformerSiteKind.Embedding) };
        for (int layer = 0; layer < layers; layer++)
            foreach (var kind in PerLayer) layout.Add((layer, kind));
        return layout;
    }

    public static string Name(int layer, TransformerSiteKind kind) => kind switch
    {
        TransformerSiteKind.Embedding => "embedding",
        TransformerSiteKind.Query => $"layer{layer}.q",
        TransformerSiteKind.Key => $"layer{layer}.k",
        TransformerSiteKind.Value => $"layer{layer}.v",
        TransformerSiteKind.AttentionOutput => $"layer{layer}.attention",
        TransformerSiteKind.FeedForwardHidden => $"layer{layer}.ffn_hidden",
        TransformerSiteKind.FeedForwardOutput => $"layer{layer}.ffn_output",
        TransformerSiteKind.Residual => $"layer{layer}.residual",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>
/// The value grids of the Transformer space (ours, like the ConvNet grids: the paper's were never published). Token
/// order per site: size, stride, share, apply.
/// </summary>
public sealed record TransformerSearchSpace(ImmutableArray<int> Sizes, ImmutableArray<int> Strides) : IPatternSpace
{
    [System.Text.Json.Serialization.JsonIgnore] public string Name => "transformer";

    DropoutPattern IPatternSpace.DecodePattern(IReadOnlyList<int> tokens) => Decode(tokens);

    int[] IPatternSpace.EncodePattern(DropoutPattern pattern) => pattern is TransformerPattern p
        ? Encode(p)
        : throw new PatternException($"a {pattern.Space} pattern in a Transformer search");

    public static TransformerSearchSpace Default { get; } = new([1, 2, 3, 4, 6, 8], [2, 4, 8, 16, 32]);

    private static readonly string[] TokenNames = ["size", "stride", "share", "apply"];

    public void Validate()
    {
        static void Check(string name, ImmutableArray<int> grid, int minimum)
        {
            if (grid.IsDefaultOrEmpty) throw new ArgumentException($"grid.{name}: needs at least one value");
            // each value is a choice the policy has an output for
            if (grid.Length > GridLimits.MaxValues) throw new ArgumentException($"grid.{name}: at most {GridLimits.MaxValues} values");
            if (grid.Distinct().Count() != grid.Length) throw new ArgumentException($"grid.{name}: values must be distinct");
            foreach (var value in grid)
                if (value < minimum) throw new ArgumentException($"grid.{name}: {value} is below {minimum}");
                else if (value > GridLimits.MaxValue) throw new ArgumentException($"grid.{name}: {value} is above {GridLimits.MaxValue}");
        }
        Check("sizes", Sizes, 1);
        Check("strides", Strides, 2);
    }

    public IReadOnlyList<int> VocabularySizes() => [Sizes.Length, Strides.Length, 3, 2];

    public TransformerPattern Decode(IReadOnlyList<int> tokens)
    {
        const int per = TransformerSiteTokens.PerSite;
        if (tokens.Count == 0 || tokens.Count % per != 0)
            throw new PatternException($"a Transformer pattern has {per} tokens per site; got {tokens.Count} tokens");
        var vocabularies = VocabularySizes();
        var sites = new List<TransformerSiteTokens>();
        for (int site = 0; site < tokens.Count / per; site++)
        {
            int At(int type)
            {
                int index = tokens[site * per + type];
                if (index < 0 || index >= vocabularies[type])
                    throw new PatternException($"site {site}, token {TokenNames[type]}: index {index} is outside its grid of {vocabularies[type]} values");
                return index;
            }
            sites.Add(new TransformerSiteTokens(Sizes[At(0)], Strides[At(1)], (SequenceSharing)At(2), At(3) == 1));
        }
        return new TransformerPattern(sites);
    }

    public int[] Encode(TransformerPattern pattern)
    {
        const int per = TransformerSiteTokens.PerSite;
        var tokens = new int[pattern.Sites.Length * per];
        for (int site = 0; site < pattern.Sites.Length; site++)
        {
            var s = pattern.Sites[site];
            tokens[site * per] = IndexIn(Sizes, s.Size, site, "size");
            tokens[site * per + 1] = IndexIn(Strides, s.Stride, site, "stride");
            tokens[site * per + 2] = Enum.IsDefined(s.Share)
                ? (int)s.Share
                : throw new PatternException($"site {site}, token share: {(int)s.Share} is not hidden, channel or head");
            tokens[site * per + 3] = s.Apply ? 1 : 0;
        }
        return tokens;
    }

    /// <summary>Checks a pattern against the grids and the number of sites of a model with this many layers.</summary>
    public void Validate(TransformerPattern pattern, int layers)
    {
        int expected = TransformerSites.Count(layers);
        if (pattern.Sites.Length != expected)
            throw new PatternException($"a {layers}-layer Transformer has {expected} mask sites but the pattern has {pattern.Sites.Length}");
        Encode(pattern);
    }

    /// <summary>
    /// Checks only what rendering needs (size of at least 1, stride of at least 2, a known sharing) and the site
    /// count, not grid membership: a search with custom grids writes patterns off the default grid.
    /// </summary>
    public static void ValidateStructure(TransformerPattern pattern, int layers)
    {
        int expected = TransformerSites.Count(layers);
        if (pattern.Sites.Length != expected)
            throw new PatternException($"a {layers}-layer Transformer has {expected} mask sites but the pattern has {pattern.Sites.Length}");
        for (int site = 0; site < pattern.Sites.Length; site++)
        {
            var s = pattern.Sites[site];
            if (s.Size < 1) throw new PatternException($"site {site}, token size: {s.Size} is not a size of at least 1");
            if (s.Stride < 2) throw new PatternException($"site {site}, token stride: {s.Stride} is not a stride of at least 2");
            if (!Enum.IsDefined(s.Share)) throw new PatternException($"site {site}, token share: {(int)s.Share} is not hidden, channel or head");
        }
    }

    private static int IndexIn(ImmutableArray<int> grid, int value, int site, string token)
    {
        int index = grid.IndexOf(value);
        return index >= 0
            ? index
            : throw new PatternException($"site {site}, token {token}: value {value} is not in its grid [{string.Join(", ", grid)}]");
    }
}

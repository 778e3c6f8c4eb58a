using System.Collections.Immutable;
using System.Globalization;

namespace AutoDropout.Core;

/// <summary>A dropout pattern for a ConvNet: one group of tokens per mask site, in the target's site order.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ConvPatternJsonConverter))]
public sealed class ConvPattern : DropoutPattern, IEquatable<ConvPattern>
{
    public ConvPattern(IEnumerable<ConvSiteTokens> sites)
    {
        Sites = sites.ToImmutableArray();
        if (Sites.IsEmpty) throw new ArgumentException("a pattern needs at least one site", nameof(sites));
    }

    public ImmutableArray<ConvSiteTokens> Sites { get; }

    public override string Space => "conv";

    public override int SiteCount => Sites.Length;

    /// <summary>One line, sites separated by " | "; stable, so it also serves as the pattern's identity.</summary>
    public override string ToCompact() => string.Join(" | ", Sites.Select(s => s.ToCompact()));

    /// <summary>Reads the compact form back; errors name the site and the token.</summary>
    public static ConvPattern ParseCompact(string text)
    {
        var sites = new List<ConvSiteTokens>();
        var parts = text.Split('|');
        for (int site = 0; site < parts.Length; site++)
        {
            var words = parts[site].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != TokenTypes.PerSite)
                throw new PatternException($"site {site}: expected 8 tokens 'sN tN rN rotN sxX syX c0|c1 res0|res1', found '{parts[site].Trim()}'");
            string Value(TokenType type, string prefix, string what)
            {
                var word = words[(int)type];
                return word.Length > prefix.Length && word.StartsWith(prefix, StringComparison.Ordinal)
                    ? word[prefix.Length..]
                    : throw new PatternException($"site {site}, token {type.WireName()}: expected '{prefix}<{what}>', found '{word}'");
            }
            // signs are accepted so that out-of-range values reach the structural check, which says what is allowed
            int Integer(TokenType type, string prefix) =>
                int.TryParse(Value(type, prefix, "integer"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
                    ? v
                    : throw new PatternException($"site {site}, token {type.WireName()}: expected '{prefix}<integer>', found '{words[(int)type]}'");
            double Number(TokenType type, string prefix) =>
                double.TryParse(Value(type, prefix, "number"), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                    CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                    ? v
                    : throw new PatternException($"site {site}, token {type.WireName()}: expected '{prefix}<number>', found '{words[(int)type]}'");
            bool Flag(TokenType type, string prefix) => Value(type, prefix, "0 or 1") switch
            {
                "0" => false,
                "1" => true,
                _ => throw new PatternException($"site {site}, token {type.WireName()}: expected '{prefix}0' or '{prefix}1', found '{words[(int)type]}'"),
            };
            sites.Add(new ConvSiteTokens(
                Integer(TokenType.Size, "s"), Integer(TokenType.Stride, "t"), Integer(TokenType.Repeat, "r"),
                Integer(TokenType.Rotate, "rot"), Number(TokenType.ShearX, "sx"), Number(TokenType.ShearY, "sy"),
                Flag(TokenType.ShareChannels, "c"), Flag(TokenType.Residual, "res")));
        }
        return new ConvPattern(sites);
    }

    public bool Equals(ConvPattern? other) => other is not null && Sites.SequenceEqual(other.Sites);
    public override bool Equals(object? obj) => Equals(obj as ConvPattern);
    public override int GetHashCode() => ToCompact().GetHashCode(StringComparison.Ordinal);
}

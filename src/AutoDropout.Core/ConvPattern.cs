using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

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

    /// <summary>One line, sites separated by " | "; stable, so it also serves as the pattern's identity.</summary>
    public override string Space => "conv";

    public override int SiteCount => Sites.Length;

    public override string ToCompact() => string.Join(" | ", Sites.Select(s => s.ToCompact()));

    /// <summary>A short stable hash of the pattern, so identical patterns are recognised.</summary>
    public override string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToCompact())))[..12];

    public bool Equals(ConvPattern? other) => other is not null && Sites.SequenceEqual(other.Sites);
    public override bool Equals(object? obj) => Equals(obj as ConvPattern);
    public override int GetHashCode() => ToCompact().GetHashCode(StringComparison.Ordinal);
}

namespace AutoDropout.Core;

/// <summary>Patterns drawn uniformly from a space's grids, e.g. to look at what a space can express.</summary>
public static class PatternSampler
{
    /// <summary>
    /// Every token index is <c>new System.Random(seed).Next(vocabulary size)</c>, sites in order and each site's
    /// tokens in the space's order, so a seed names one pattern on every platform .NET runs on.
    /// </summary>
    public static DropoutPattern Sample(IPatternSpace space, int sites, int seed)
    {
        if (sites < 1) throw new ArgumentOutOfRangeException(nameof(sites), "a pattern needs at least one site");
        var random = new Random(seed);
        var vocabularies = space.VocabularySizes();
        var tokens = new int[sites * vocabularies.Count];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = random.Next(vocabularies[i % vocabularies.Count]);
        return space.DecodePattern(tokens);
    }
}

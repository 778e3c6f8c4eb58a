namespace AutoDropout.Core;

/// <summary>Derives independent seeds from one root seed, so a search is reproducible from its spec alone.</summary>
public static class Seeds
{
    /// <summary>A seed for item <paramref name="index"/> of stream <paramref name="stream"/> (SplitMix64 mixing).</summary>
    public static long Derive(long root, long index, SeedStream stream)
    {
        ulong z = unchecked((ulong)root * 0x9E3779B97F4A7C15UL + (ulong)index * 0xBF58476D1CE4E5B9UL + (ulong)stream * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (long)(z & 0x7FFF_FFFF_FFFF_FFFFUL); // non-negative: torch generators take unsigned seeds
    }

    /// <summary>A .NET generator for a 64-bit seed (its two halves folded into the 32 bits Random takes).</summary>
    public static Random Random(long seed) => new(unchecked((int)(seed ^ (seed >> 32))));
}

public enum SeedStream
{
    Policy = 1,
    PatternSample = 2,
    Trial = 3,
    ValidationSplit = 4,
    Evaluation = 5,
}

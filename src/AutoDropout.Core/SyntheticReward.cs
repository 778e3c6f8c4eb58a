namespace AutoDropout.Core;

/// <summary>
/// A stand-in for training, for simulated trainers, benchmarks and search-quality tests: a reward over a pattern's
/// tokens with a known best pattern, interactions between neighbouring sites, and noise. No torch, microseconds per
/// call. The hidden best pattern is drawn from <paramref name="seed"/>; every token position has a weight in
/// [0.5, 1.5). The noiseless score is 0.6 x the weighted share of tokens equal to the best pattern's, plus
/// 0.4 x the mean over neighbouring sites of the product of their shares of matching tokens (one site: its share
/// squared), so a site pays most when its neighbours are right too. The best pattern, and only it, scores 1.
/// </summary>
public sealed class SyntheticReward
{
    private const double UnaryShare = 0.6;
    private readonly IPatternSpace _space;
    private readonly int[] _best;
    private readonly double[] _weights;
    private readonly int _sites;
    private readonly int _tokensPerSite;

    /// <param name="noise">Standard deviation of the Gaussian noise added to each trial's reward (clipped to [0, 1]).</param>
    public SyntheticReward(IPatternSpace space, int sites, long seed, double noise = 0.02)
    {
        if (sites < 1) throw new ArgumentOutOfRangeException(nameof(sites), "a pattern needs at least one site");
        if (!(noise >= 0)) throw new ArgumentOutOfRangeException(nameof(noise), "noise: a standard deviation >= 0");
        _space = space;
        _sites = sites;
        _tokensPerSite = space.TokensPerSite;
        Noise = noise;
        var random = Seeds.Random(seed);
        var vocabularies = space.VocabularySizes();
        var drawn = Enumerable.Range(0, sites * _tokensPerSite).Select(i => random.Next(vocabularies[i % _tokensPerSite])).ToArray();
        // a space may spell one pattern in several ways: the best pattern is scored in its canonical spelling
        Best = space.DecodePattern(drawn);
        _best = space.EncodePattern(Best);
        _weights = _best.Select(_ => 0.5 + random.NextDouble()).ToArray();
    }

    public DropoutPattern Best { get; }

    public double Noise { get; }

    /// <summary>The noiseless score, in [0, 1]; 1 for <see cref="Best"/> only.</summary>
    public double Score(DropoutPattern pattern)
    {
        var tokens = _space.EncodePattern(pattern);
        if (tokens.Length != _best.Length)
            throw new ArgumentException($"the pattern has {tokens.Length / _tokensPerSite} sites; this reward scores {_sites}");
        double matched = 0, total = 0;
        var siteShares = new double[_sites];
        for (int i = 0; i < tokens.Length; i++)
        {
            total += _weights[i];
            if (tokens[i] != _best[i]) continue;
            matched += _weights[i];
            siteShares[i / _tokensPerSite] += 1.0 / _tokensPerSite;
        }
        double pairs = _sites == 1
            ? siteShares[0] * siteShares[0]
            : Enumerable.Range(1, _sites - 1).Average(s => siteShares[s - 1] * siteShares[s]);
        return UnaryShare * matched / total + (1 - UnaryShare) * pairs;
    }

    /// <summary>The score plus noise drawn from the trial's seed (a retried trial gets the same reward), clipped to [0, 1].</summary>
    public double Reward(DropoutPattern pattern, long trialSeed)
    {
        var random = Seeds.Random(trialSeed);
        // Box-Muller: one standard normal draw
        double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Math.Clamp(Score(pattern) + Noise * gaussian, 0, 1);
    }
}

namespace AutoDropout.Core;

/// <summary>Settings of language-model trials.</summary>
/// <param name="Context">Tokens per training window.</param>
/// <param name="RewardScale">c in reward = c / validation perplexity.</param>
public sealed record TextOptions(int Context = 32, double RewardScale = 1.0)
{
    public void Validate()
    {
        if (Context < 2) throw new ArgumentException("text.context: at least 2 tokens");
        if (!(RewardScale > 0) || !double.IsFinite(RewardScale)) throw new ArgumentException("text.reward_scale: must be positive");
    }
}

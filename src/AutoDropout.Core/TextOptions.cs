namespace AutoDropout.Core;

/// <summary>Settings of language-model trials.</summary>
/// <param name="Context">Tokens per training window.</param>
/// <param name="RewardScale">c in reward = c / validation perplexity.</param>
public sealed record TextOptions(int Context = 32, double RewardScale = 1.0)
{
    /// <summary>Attention is quadratic in the context: past this a trial's memory, not the text, sets the limit.</summary>
    public const int MaxContext = 4096;

    public void Validate()
    {
        if (Context is < 2 or > MaxContext) throw new ArgumentException($"text.context: from 2 to {MaxContext} tokens");
        if (!(RewardScale > 0) || !double.IsFinite(RewardScale)) throw new ArgumentException("text.reward_scale: must be positive");
    }
}

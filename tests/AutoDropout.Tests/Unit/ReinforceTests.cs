using AutoDropout.Core;
using AutoDropout.Policy;

namespace AutoDropout.Tests.Unit;

public class ReinforceTests
{
    private static readonly int[] Vocabularies = ConvSearchSpace.Default.VocabularySizes().ToArray();

    [Fact]
    public void On_a_toy_reward_the_better_token_becomes_more_likely()
    {
        using var policy = new ReinforceController(Vocabularies, 8, new PolicyOptions(Layers: 1, Width: 16, LearningRate: 0.05), seed: 1);
        const int best = 4; // reward is 1 when the first token (size) is index 4, else 0
        float before = policy.Probabilities([], 0)[best];
        long seed = 0;
        for (int update = 0; update < 30; update++)
        {
            var batch = Enumerable.Range(0, 8).Select(_ => policy.Sample(seed++))
                .Select(s => new RewardedSample(s.Tokens, s.Tokens[0] == best ? 1 : 0)).ToArray();
            policy.Update(batch);
        }
        float after = policy.Probabilities([], 0)[best];
        Assert.True(after > before + 0.2f, $"p(best) went from {before:0.000} to {after:0.000}");
        Assert.Equal(best, policy.Greedy()[0]);
    }

    [Fact]
    public void The_same_seed_and_results_give_bit_identical_state()
    {
        string Run()
        {
            using var policy = new ReinforceController(Vocabularies, 16, new PolicyOptions(), seed: 7);
            for (int update = 0; update < 3; update++)
            {
                var batch = Enumerable.Range(0, 4).Select(i => policy.Sample(update * 10 + i))
                    .Select(s => new RewardedSample(s.Tokens, s.Tokens.Sum() % 7 / 7.0)).ToArray();
                policy.Update(batch);
            }
            return policy.StateHash() + string.Join(",", policy.Sample(99).Tokens);
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Samples_are_valid_patterns_and_depend_on_their_seed()
    {
        using var policy = new ReinforceController(Vocabularies, 16, new PolicyOptions(), seed: 3);
        var a = policy.Sample(1);
        Assert.Equal(a.Tokens, policy.Sample(1).Tokens);
        Assert.NotEqual(a.Tokens, policy.Sample(2).Tokens);
        Assert.Equal(2, ConvSearchSpace.Default.Decode(a.Tokens).Sites.Length);
        Assert.True(a.LogProbability < 0);
    }
}

public class PolicyStateTests
{
    private static readonly int[] Vocabularies = ConvSearchSpace.Default.VocabularySizes().ToArray();

    private static void Train(ReinforceController policy, int fromUpdate, int updates)
    {
        for (int update = fromUpdate; update < fromUpdate + updates; update++)
        {
            var batch = Enumerable.Range(0, 4).Select(i => policy.Sample(update * 10 + i))
                .Select(s => new RewardedSample(s.Tokens, s.Tokens.Take(8).Sum() % 5 / 5.0)).ToArray();
            policy.Update(batch);
        }
    }

    [Fact]
    public void A_saved_and_loaded_state_continues_bit_identically()
    {
        using var uninterrupted = new ReinforceController(Vocabularies, 16, new PolicyOptions(), seed: 4);
        Train(uninterrupted, 0, 5);

        using var first = new ReinforceController(Vocabularies, 16, new PolicyOptions(), seed: 4);
        Train(first, 0, 3);
        var state = first.SaveState();
        using var restored = new ReinforceController(Vocabularies, 16, new PolicyOptions(), seed: 99); // other initial weights
        restored.LoadState(state);
        Assert.Equal(first.StateHash(), restored.StateHash());
        Train(restored, 3, 2);

        Assert.Equal(uninterrupted.StateHash(), restored.StateHash());
        Assert.Equal(uninterrupted.Baseline, restored.Baseline);
        Assert.Equal(uninterrupted.Sample(1234).Tokens, restored.Sample(1234).Tokens);
    }
}

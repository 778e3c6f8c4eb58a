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

    /// <summary>p(best) of the first token before and after 30 updates on an accuracy-like reward times <paramref name="scale"/>.</summary>
    private static (float[] Before, float[] After) LearnScaled(double scale, string advantage)
    {
        using var policy = new ReinforceController(Vocabularies, 8, new PolicyOptions(Layers: 1, Width: 16, LearningRate: 0.02, Advantage: advantage), seed: 2);
        const int best = 4;
        var before = policy.Probabilities([], 0);
        long seed = 0;
        for (int update = 0; update < 30; update++)
        {
            var batch = Enumerable.Range(0, 8).Select(_ => policy.Sample(seed++))
                .Select(s => new RewardedSample(s.Tokens, scale * (s.Tokens[0] == best ? 0.8 : 0.7))).ToArray();
            policy.Update(batch);
        }
        return (before, policy.Probabilities([], 0));
    }

    [Fact]
    public void Rewards_a_thousand_times_smaller_learn_as_rewards_of_scale_one()
    {
        // a language model's rewards with c = 1 are ~0.005: raw advantages that small sit below the entropy bonus
        var (before, unit) = LearnScaled(1, PolicyOptions.Normalized);
        var (_, small) = LearnScaled(0.001, PolicyOptions.Normalized);
        Assert.True(unit[4] > before[4] + 0.2f, $"scale 1: p(best) went from {before[4]:0.000} to {unit[4]:0.000}");
        Assert.True(small[4] > before[4] + 0.2f, $"scale 0.001: p(best) went from {before[4]:0.000} to {small[4]:0.000}");
        for (int i = 0; i < unit.Length; i++) Assert.Equal(unit[i], small[i], 0.01f);

        // what normalising fixes: raw advantages of scale 0.001 barely move the policy
        var (_, rawSmall) = LearnScaled(0.001, PolicyOptions.Raw);
        Assert.True(rawSmall[4] < before[4] + 0.1f, $"raw, scale 0.001: p(best) went from {before[4]:0.000} to {rawSmall[4]:0.000}");
    }

    [Fact]
    public void Equal_rewards_give_zero_advantages_not_exploding_ones()
    {
        var options = new PolicyOptions(Layers: 1, Width: 16);
        using var policy = new ReinforceController(Vocabularies, 8, options, seed: 5);
        for (int update = 0; update < 10; update++)
        {
            var report = policy.Update(Enumerable.Range(0, 4).Select(i => new RewardedSample(policy.Sample(update * 10 + i).Tokens, 0.7)).ToArray());
            Assert.Equal(0, policy.RewardVariance);
            // with every advantage 0 the loss is the entropy bonus alone
            Assert.Equal(-options.EntropyWeight * report.MeanEntropy, report.Loss, 1e-6);
        }
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
    public void A_batch_writes_each_pattern_as_its_seed_alone_would_and_as_the_full_forward_pass_scores_it()
    {
        using var policy = new ReinforceController(Vocabularies, 64, new PolicyOptions(Layers: 2, Width: 32, Heads: 4), seed: 5);
        policy.Update(Enumerable.Range(0, 4).Select(i => new RewardedSample(policy.Sample(i).Tokens, i / 4.0)).ToArray()); // not the initial weights alone
        var seeds = Enumerable.Range(100, 24).Select(i => (long)i).ToArray();
        var batch = policy.SampleBatch(seeds);
        Assert.Equal(24, batch.Select(b => string.Join(",", b.Tokens)).Distinct().Count());
        for (int b = 0; b < seeds.Length; b++)
        {
            var alone = policy.Sample(seeds[b]);
            Assert.Equal(alone.Tokens, batch[b].Tokens);
            Assert.Equal(alone.LogProbability, batch[b].LogProbability, 1e-5);
            // the cached keys and values give what recomputing the whole prefix at every position gives
            double full = Enumerable.Range(0, 64).Sum(t => Math.Log(policy.Probabilities(batch[b].Tokens[..t], t)[batch[b].Tokens[t]]));
            Assert.Equal(full, batch[b].LogProbability, 1e-3);
        }
        Assert.Empty(policy.SampleBatch([]));
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
        Assert.Equal(uninterrupted.RewardVariance, restored.RewardVariance);
        Assert.Equal(uninterrupted.Sample(1234).Tokens, restored.Sample(1234).Tokens);
    }
}

using AutoDropout.Core;
using AutoDropout.Policy;
using Xunit.Abstractions;

namespace AutoDropout.Tests;

/// <summary>
/// Does the controller learn? On a synthetic reward with a known best pattern (the share of tokens equal to a
/// hidden target pattern of the 2-site ConvNet space), compare the policy with random search at equal samples.
/// Measured at 320 samples: greedy decoding gets most tokens right but rarely all 16 yet; see docs/performance.md.
/// </summary>
public class SearchQualityTests(ITestOutputHelper output)
{
    private const int Samples = 320, Batch = 8, Seeds = 10;
    private static readonly int[] Vocabularies = ConvSearchSpace.Default.VocabularySizes().ToArray();

    private static int[] Target(int seed)
    {
        var random = new Random(1000 + seed);
        return Enumerable.Range(0, 16).Select(t => random.Next(Vocabularies[t % 8])).ToArray();
    }

    private static double Reward(int[] tokens, int[] target) => Enumerable.Range(0, target.Length).Count(i => tokens[i] == target[i]) / (double)target.Length;

    [Fact]
    public void The_policy_learns_towards_the_best_pattern_and_beats_random_search_at_equal_samples()
    {
        int policyWins = 0;
        double policyBest = 0, randomBest = 0, greedyBefore = 0, greedyAfter = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            var target = Target(seed);
            using var policy = new ReinforceController(Vocabularies, 16, new PolicyOptions(LearningRate: 0.02, EntropyWeight: 1e-3), seed);
            double before = Reward(policy.Greedy(), target), best = 0;
            for (int done = 0; done < Samples; done += Batch)
            {
                var batch = Enumerable.Range(done, Batch).Select(i => policy.Sample(seed * 100_000 + i))
                    .Select(s => new RewardedSample(s.Tokens, Reward(s.Tokens, target))).ToArray();
                best = Math.Max(best, batch.Max(b => b.Reward));
                policy.Update(batch);
            }
            double after = Reward(policy.Greedy(), target);
            var random = new Random(seed);
            double randomSeedBest = Enumerable.Range(0, Samples)
                .Max(_ => Reward(Enumerable.Range(0, 16).Select(t => random.Next(Vocabularies[t % 8])).ToArray(), target));
            policyWins += best > randomSeedBest ? 1 : 0;
            policyBest += best / Seeds;
            randomBest += randomSeedBest / Seeds;
            greedyBefore += before / Seeds;
            greedyAfter += after / Seeds;
            output.WriteLine($"seed {seed}: greedy reward {before:0.000} -> {after:0.000}; best of {Samples}: policy {best:0.000}, random {randomSeedBest:0.000}");
        }
        output.WriteLine($"mean over {Seeds} seeds: greedy {greedyBefore:0.000} -> {greedyAfter:0.000}; best of {Samples}: policy {policyBest:0.000}, random {randomBest:0.000}; policy ahead in {policyWins} seeds");
        Assert.True(policyBest > randomBest + 0.2, $"policy best-of-N {policyBest:0.000} vs random {randomBest:0.000}");
        Assert.True(policyWins >= 9, $"the policy beat random search in only {policyWins}/{Seeds} seeds");
        Assert.True(greedyAfter > greedyBefore + 0.4, $"greedy reward went only from {greedyBefore:0.000} to {greedyAfter:0.000}");
    }
}

using AutoDropout.Core;
using AutoDropout.Policy;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Quality;

/// <summary>
/// Does the controller learn? On a synthetic reward with a known best pattern (the share of the 16 tokens of the
/// 2-site ConvNet space that equal a hidden target pattern), with the default policy options and batches of 8:
/// greedy decoding must reach the target within 640 samples in at least 9 of 10 seeds, and the policy's best of
/// 640 samples must beat random search's best of 640 on average.
/// </summary>
public class SearchQualityTests(ITestOutputHelper output)
{
    private const int Samples = 640, Batch = 8, Seeds = 10, CheckEvery = 40;
    private static readonly int[] Vocabularies = ConvSearchSpace.Default.VocabularySizes().ToArray();

    private static int[] Target(int seed)
    {
        var random = new Random(1000 + seed);
        return Enumerable.Range(0, 16).Select(t => random.Next(Vocabularies[t % 8])).ToArray();
    }

    private static double Reward(int[] tokens, int[] target) =>
        Enumerable.Range(0, target.Length).Count(i => tokens[i] == target[i]) / (double)target.Length;

    private sealed record SeedRun(int Seed, int? GreedyFoundAt, double PolicyBest, double RandomBest);

    private static SeedRun Run(int seed)
    {
        var target = Target(seed);
        using var policy = new ReinforceController(Vocabularies, 16, new PolicyOptions(), seed);
        int? foundAt = null;
        double best = 0;
        for (int done = 0; done < Samples; done += Batch)
        {
            var batch = Enumerable.Range(done, Batch).Select(i => policy.Sample(seed * 100_000 + i))
                .Select(s => new RewardedSample(s.Tokens, Reward(s.Tokens, target))).ToArray();
            best = Math.Max(best, batch.Max(b => b.Reward));
            policy.Update(batch);
            if (foundAt is null && (done + Batch) % CheckEvery == 0 && policy.Greedy().SequenceEqual(target)) foundAt = done + Batch;
        }
        var random = new Random(seed);
        double randomBest = Enumerable.Range(0, Samples)
            .Max(_ => Reward(Enumerable.Range(0, 16).Select(t => random.Next(Vocabularies[t % 8])).ToArray(), target));
        return new SeedRun(seed, foundAt, best, randomBest);
    }

    [Fact]
    public void Greedy_decoding_reaches_the_best_pattern_and_the_policy_beats_random_search()
    {
        // seeds are independent and each is deterministic, so they may run side by side
        var runs = new SeedRun[Seeds];
        Parallel.For(0, Seeds, seed => runs[seed] = Run(seed));
        foreach (var r in runs)
            output.WriteLine($"seed {r.Seed}: greedy = best pattern after {(r.GreedyFoundAt is { } at ? $"{at} samples" : $"more than {Samples} samples")}; " +
                             $"best of {Samples}: policy {r.PolicyBest:0.000}, random {r.RandomBest:0.000}");
        int found = runs.Count(r => r.GreedyFoundAt is not null);
        double policyBest = runs.Average(r => r.PolicyBest), randomBest = runs.Average(r => r.RandomBest);
        output.WriteLine($"greedy reached the best pattern in {found}/{Seeds} seeds; mean best of {Samples}: policy {policyBest:0.000}, random {randomBest:0.000}");

        Assert.True(found >= 9, $"greedy decoding reached the best pattern within {Samples} samples in only {found}/{Seeds} seeds");
        Assert.True(policyBest > randomBest, $"policy best-of-{Samples} {policyBest:0.000} vs random {randomBest:0.000}");
    }
}

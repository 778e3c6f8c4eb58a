using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Policy;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>The policy a search's spec asks for: the REINFORCE controller, seeded from the spec, or the random control.</summary>
public static class SearchPolicies
{
    public static IPatternPolicy Create(SearchSpec spec) => spec.PolicyOrDefault.Kind == PolicyOptions.Random
        ? new RandomPolicy(spec.PatternSpace.VocabularySizes(), spec.MaskSites, spec.PolicyOrDefault.BaselineDecay)
        : new ReinforcePolicy(new ReinforceController(spec.PatternSpace.VocabularySizes(), spec.MaskSites * spec.PatternSpace.TokensPerSite,
            spec.PolicyOrDefault, Seeds.Derive(spec.Seed, 0, SeedStream.Policy)));

    private sealed class ReinforcePolicy(ReinforceController controller) : IPatternPolicy
    {
        public int Version => controller.Version;
        public double? Baseline => controller.Baseline;
        public int[] Sample(long seed) => controller.Sample(seed).Tokens;
        public int[][] SampleBatch(IReadOnlyList<long> seeds) => controller.SampleBatch(seeds).Select(s => s.Tokens).ToArray();
        public PolicyUpdateStats Learn(IReadOnlyList<(int[] Tokens, double Reward)> batch)
        {
            var report = controller.Update(batch.Select(b => new RewardedSample(b.Tokens, b.Reward)).ToArray());
            return new PolicyUpdateStats(report.Version, report.MeanReward, report.BaselineAfter, report.MeanEntropy);
        }
        public string StateHash() => controller.StateHash();
        public byte[] SaveState() => controller.SaveState();
        public void LoadState(byte[] state) => controller.LoadState(state);
        public void Dispose() => controller.Dispose();
    }
}

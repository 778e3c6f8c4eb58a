using System.Text.Json;
using AutoDropout.Core;
using AutoDropout.Policy;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// Snapshots hold the policy's state bytes, so every byte format written once must still load. Golden/ keeps one
/// state per format with what it must restore; AUTODROPOUT_WRITE_GOLDEN (as for events) writes a missing file.
/// </summary>
public class PolicyStateGoldenTests
{
    private static readonly int[] Vocabularies = ConvSearchSpace.Default.VocabularySizes().ToArray();
    private static readonly PolicyOptions Options = new(Layers: 1, Width: 16);
    private const long SampleSeed = 1234;

    private sealed record GoldenState(string State, int Version, double? Baseline, int[] Sample, double? RewardVariance = null);

    private static ReinforceController Trained(PolicyOptions options)
    {
        var policy = new ReinforceController(Vocabularies, 16, options, seed: 4);
        for (int update = 0; update < 3; update++)
        {
            var batch = Enumerable.Range(0, 4).Select(i => policy.Sample(update * 10 + i))
                .Select(s => new RewardedSample(s.Tokens, s.Tokens.Take(8).Sum() % 5 / 5.0)).ToArray();
            policy.Update(batch);
        }
        return policy;
    }

    [Theory]
    [InlineData("policy-state-v0")] // 0.2: no reward variance
    [InlineData("policy-state-v1")] // normalised advantages: the variance too
    public void A_state_written_by_an_earlier_format_still_loads(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Golden", name + ".json");
        if (Environment.GetEnvironmentVariable("AUTODROPOUT_WRITE_GOLDEN") is { Length: > 0 } writeTo)
        {
            path = Path.Combine(writeTo, name + ".json");
            if (!File.Exists(path))
            {
                using var trained = Trained(Options);
                File.WriteAllText(path, JsonSerializer.Serialize(new GoldenState(
                    Convert.ToBase64String(trained.SaveState()), trained.Version, trained.Baseline, trained.Sample(SampleSeed).Tokens, trained.RewardVariance)));
            }
        }
        var golden = JsonSerializer.Deserialize<GoldenState>(File.ReadAllText(path))!;

        using var policy = new ReinforceController(Vocabularies, 16, Options, seed: 99);
        policy.LoadState(Convert.FromBase64String(golden.State));

        Assert.Equal(golden.Version, policy.Version);
        Assert.Equal(golden.Baseline, policy.Baseline);
        Assert.Equal(golden.RewardVariance, policy.RewardVariance);
        Assert.Equal(golden.Sample, policy.Sample(SampleSeed).Tokens);
    }

    /// <summary>
    /// Searches created by 0.2 replay with raw advantages: the same updates must give the very state 0.2 wrote, so
    /// their journals rebuild the policy that ran (controller verify, recovery).
    /// </summary>
    [Fact]
    public void Raw_advantages_learn_bit_for_bit_as_0_2_did()
    {
        var golden = JsonSerializer.Deserialize<GoldenState>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "policy-state-v0.json")))!;
        using var written = new ReinforceController(Vocabularies, 16, Options with { Advantage = PolicyOptions.Raw }, seed: 99);
        written.LoadState(Convert.FromBase64String(golden.State));
        using var replayed = Trained(Options with { Advantage = PolicyOptions.Raw });
        Assert.Equal(written.StateHash(), replayed.StateHash());

        using var normalized = Trained(Options);
        Assert.NotEqual(written.StateHash(), normalized.StateHash());
    }
}

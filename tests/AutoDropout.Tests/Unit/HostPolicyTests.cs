using AutoDropout.Core;
using AutoDropout.Policy;
using AutoDropout.Torch;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

/// <summary>Sampling's hand-written forward pass against torch's, which learning and scoring use.</summary>
public class HostPolicyTests
{
    [Fact]
    public void Gelu_matches_torch_across_its_range()
    {
        var x = Enumerable.Range(-2004, 4008).Select(i => i / 200f).ToArray(); // -10..10, in rows of 12: vector and scalar parts
        float[] expected;
        using (var input = tensor(x)) using (var output = nn.functional.gelu(input)) expected = output.data<float>().ToArray();
        var actual = x.ToArray();
        HostPolicy.Gelu(actual, 12);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f + 1e-6f * Math.Abs(expected[i]), $"gelu({x[i]}): torch {expected[i]}, host {actual[i]}");
    }

    [Theory]
    [InlineData(2, 32, 2)] // head width 16: whole vectors
    [InlineData(1, 36, 3)] // head width 12 and layer widths of 108 and 36: vector and scalar tails
    public void Host_steps_give_the_logits_of_torchs_full_forward_pass(int layers, int width, int heads)
    {
        int[] vocabularies = [5, 3, 7];
        const int length = 40, batch = 3;
        using var network = TorchRuntime.Seeded(7, () => new PolicyNetwork(vocabularies, length, new PolicyOptions(Layers: layers, Width: width, Heads: heads)));
        network.eval();
        var random = new Random(3);
        var tokens = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, length).Select(t => (long)random.Next(vocabularies[t % 3])).ToArray()).ToArray();

        var host = network.ToHost();
        var caches = host.NewCaches(batch);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var hidden = network.call(network.InputIds(tokens, length));
        for (int t = 0; t < length; t++)
        {
            var ids = tokens.Select(p => t == 0 ? network.FirstInputId : network.NextInputId(t - 1, (int)p[t - 1])).ToArray();
            var actual = host.Step(ids, t, caches);
            var expected = network.Logits(hidden.select(1, t), t).data<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"position {t}, logit {i}: torch {expected[i]}, host {actual[i]}");
        }
    }

    [Fact]
    public void A_pattern_gets_the_same_numbers_whatever_batch_it_is_written_in()
    {
        using var network = TorchRuntime.Seeded(11, () => new PolicyNetwork([4, 6], 30, new PolicyOptions(Width: 24, Heads: 2)));
        var host = network.ToHost();
        long[] Ids(int t, int pattern) => [t == 0 ? network.FirstInputId : network.NextInputId(t - 1, (pattern + t) % 4)];
        var together = host.NewCaches(5);
        var alone = host.NewCaches(1);
        for (int t = 0; t < 30; t++)
        {
            var batch = host.Step(Enumerable.Range(0, 5).Select(p => Ids(t, p)[0]).ToArray(), t, together);
            var single = host.Step(Ids(t, 3), t, alone);
            Assert.Equal(single, batch.AsSpan(3 * single.Length, single.Length).ToArray());
        }
    }

    [Fact]
    public void Attention_weighs_the_values_seen_so_far_by_the_softmax_of_scaled_scores()
    {
        const int batch = 2, heads = 3, headWidth = 10, length = 21;
        var cache = new AttentionCache(batch, heads, headWidth, length);
        var random = new Random(5);
        int width = heads * headWidth;
        var history = new List<float[]>();
        for (int position = 0; position < length; position++)
        {
            var qkv = Enumerable.Range(0, batch * 3 * width).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            history.Add(qkv);
            var actual = cache.Attend(qkv, position);
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < heads; h++)
                {
                    double At(float[] row, int part, int j) => row[b * 3 * width + part * width + h * headWidth + j];
                    var scores = history.Select(row => Enumerable.Range(0, headWidth).Sum(j => At(qkv, 0, j) * At(row, 1, j)) / Math.Sqrt(headWidth)).ToArray();
                    var weights = scores.Select(s => Math.Exp(s - scores.Max())).ToArray();
                    for (int j = 0; j < headWidth; j++)
                    {
                        double expected = history.Select((row, s) => weights[s] * At(row, 2, j)).Sum() / weights.Sum();
                        Assert.Equal(expected, actual[b * width + h * headWidth + j], 1e-5);
                    }
                }
        }
    }

    [Fact]
    public void Attention_refuses_inputs_of_the_wrong_shape()
    {
        var cache = new AttentionCache(2, 2, 4, 5);
        Assert.Throws<ArgumentException>(() => cache.Attend(new float[47], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Attend(new float[48], 5));
        Assert.Throws<ArgumentException>(() => new AttentionCache(0, 2, 4, 5));
    }
}

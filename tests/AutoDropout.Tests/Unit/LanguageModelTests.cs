using AutoDropout.Core;
using AutoDropout.Torch;
using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class LanguageModelTests
{
    /// <summary>A small seeded "language": sentences from a toy grammar, so there is structure to learn.</summary>
    private static long[] Corpus(int sentences, int seed)
    {
        var random = new Random(seed);
        var ids = new List<long>();
        for (int i = 0; i < sentences; i++)
        {
            int subject = random.Next(5), verb = 5 + random.Next(5);
            ids.Add(subject);
            ids.Add(verb);
            ids.Add(10 + (subject + verb) % 7); // the object depends on subject and verb
            ids.Add(17);                        // end of sentence
        }
        return ids.ToArray();
    }

    private static TokenStreams Streams() => TokenStreams.FromIds(Corpus(1500, 1), Corpus(200, 2), 18, CPU);

    private static readonly LanguageModelSpec Tiny = LanguageModelSpec.Parse("lm-1-32-4");

    [Fact]
    public void The_model_gives_next_token_logits_and_carries_every_site()
    {
        using var model = TorchRuntime.Seeded(1, () => new TransformerLm(LanguageModelSpec.Parse("lm-2-32-4"), 18, 16));
        Assert.Equal(15, model.Sites.Count);
        using var g = new Generator(1);
        var random = new Random(1);
        var vocab = TransformerSearchSpace.Default.VocabularySizes();
        model.ApplyPattern(TransformerSearchSpace.Default.Decode(Enumerable.Range(0, 60).Select(i => random.Next(vocab[i % 4])).ToArray()), g);
        model.train();
        using var logits = model.call(randint(0, 18, [3, 16], generator: g));
        Assert.Equal(new long[] { 3, 16, 18 }, logits.shape);
        Assert.Throws<PatternException>(() => model.ApplyPattern(TransformerPattern.ParseCompact("s2 t8 hidden on"), g));
    }

    [Fact]
    public void Attention_is_causal()
    {
        using var model = TorchRuntime.Seeded(1, () => new TransformerLm(Tiny, 18, 8));
        using var g = new Generator(2);
        model.eval();
        using var ids = randint(0, 18, [1, 8], generator: g);
        using var changed = ids.clone();
        changed[0, 7] = tensor(ids[0, 7].item<long>() == 0 ? 1L : 0L);
        using var a = model.call(ids);
        using var b = model.call(changed);
        Assert.True(a.narrow(1, 0, 7).allclose(b.narrow(1, 0, 7)));
    }

    [Fact]
    public void A_short_trial_with_a_pattern_learns_and_is_bit_for_bit_reproducible()
    {
        using var data = Streams();
        var pattern = TransformerPattern.ParseCompact(string.Join(" | ", Enumerable.Repeat("s1 t4 channel on", Tiny.MaskSites)));
        var plan = new TrialPlan(Steps: 60, BatchSize: 8, LearningRate: 3e-3, Seed: 4, pattern);
        var family = new LanguageModelTrial(data, Tiny, context: 16);
        var first = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(family, plan, CancellationToken.None));
        var second = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(family, plan, CancellationToken.None));
        // uniform guessing over 18 tokens is perplexity 18; the grammar allows about 2.6
        double perplexity = Assert.NotNull(first.Metrics.ValidationPerplexity);
        Assert.InRange(perplexity, 1, 8);
        Assert.Equal(1 / perplexity, first.Metrics.Reward, 12);
        Assert.InRange(Assert.NotNull(first.Metrics.TrainAccuracy), 0.1, 1.0);
        Assert.Equal(first.Metrics with { ItemsPerSecond = 0, WallSeconds = 0 }, second.Metrics with { ItemsPerSecond = 0, WallSeconds = 0 });
    }

    [Theory]
    [InlineData("spatial:0.1")]
    [InlineData("dropblock:3:0.9")]
    public void A_language_model_takes_baselines_through_the_conv_type_but_not_channel_ones(string text)
    {
        using var data = Streams();
        var dropout = TrialLoop.Run(new LanguageModelTrial(data, Tiny, 16),
            new TrialPlan(3, 8, 3e-3, 1, new BaselinePattern(BaselineSpec.Parse("dropout:0.1"))), CancellationToken.None);
        Assert.IsType<TrialOutcome.Completed>(dropout);
        var refused = Assert.IsType<TrialOutcome.Failed>(TrialLoop.Run(new LanguageModelTrial(data, Tiny, 16),
            new TrialPlan(3, 8, 3e-3, 1, new BaselinePattern(BaselineSpec.Parse(text))), CancellationToken.None));
        Assert.Equal(FailureReason.Error, refused.Reason);
        Assert.Contains("dropout:P", refused.Message);
    }

    [Fact]
    public void An_exploding_learning_rate_ends_as_diverged()
    {
        using var data = Streams();
        var plan = new TrialPlan(30, 8, 1e30, Seed: 1);
        var failed = Assert.IsType<TrialOutcome.Failed>(TrialLoop.Run(new LanguageModelTrial(data, Tiny, 16), plan, CancellationToken.None));
        Assert.Equal(FailureReason.Diverged, failed.Reason);
    }
}

using System.Text.Json;
using AutoDropout.Core;
using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class TransformerSpaceTests
{
    private static readonly TransformerSearchSpace Space = TransformerSearchSpace.Default;

    private static TransformerPattern RandomPattern(Random random, int sites)
    {
        var vocabularies = Space.VocabularySizes();
        return Space.Decode(Enumerable.Range(0, sites * TransformerSiteTokens.PerSite)
            .Select(i => random.Next(vocabularies[i % TransformerSiteTokens.PerSite])).ToArray());
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Compact_json_and_tokens_round_trip_exactly_for_many_random_patterns()
    {
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            var pattern = RandomPattern(random, TransformerSites.Count(1 + i % 3));
            Assert.Equal(pattern, TransformerPattern.ParseCompact(pattern.ToCompact()));
            Assert.Equal(pattern, JsonSerializer.Deserialize<TransformerPattern>(JsonSerializer.Serialize(pattern)));
            Assert.Equal(pattern, Space.Decode(Space.Encode(pattern)));
            Assert.Equal(pattern.Hash(), TransformerPattern.ParseCompact(pattern.ToCompact()).Hash());
        }
    }

    [Fact]
    public void Sites_follow_the_documented_layout()
    {
        var layout = TransformerSites.Layout(2);
        Assert.Equal(15, layout.Count);
        Assert.Equal(TransformerSites.Count(2), layout.Count);
        Assert.Equal("embedding", TransformerSites.Name(layout[0].Layer, layout[0].Kind));
        Assert.Equal("layer1.residual", TransformerSites.Name(layout[14].Layer, layout[14].Kind));
        Assert.Equal(15, LanguageModelSpec.Parse("lm-2-32-4").MaskSites);
    }

    [Theory]
    [InlineData("s2 t8 hidden on | s3 t4 head", "site 1: expected 4 tokens")]
    [InlineData("s2 t8 hidden on | x3 t4 head on", "site 1, token size")]
    [InlineData("s2 t8 everyone on", "site 0, token share")]
    [InlineData("s2 t8 hidden maybe", "site 0, token apply")]
    public void Bad_compact_patterns_name_the_site_and_token(string text, string expected)
    {
        var error = Assert.Throws<PatternException>(() => TransformerPattern.ParseCompact(text));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Off_grid_values_unknown_tokens_and_wrong_site_counts_are_rejected_by_name()
    {
        var offGrid = TransformerPattern.ParseCompact("s5 t8 hidden on");
        Assert.Contains("site 0, token size: value 5", Assert.Throws<PatternException>(() => Space.Encode(offGrid)).Message);
        Assert.Contains("site 0: unknown token 'rate'", Assert.Throws<PatternException>(() =>
            TransformerPatternJsonConverter.Deserialize("""{"sites":[{"size":2,"stride":8,"share":"head","apply":true,"rate":1}]}""")).Message);
        Assert.Contains("has 8 mask sites but the pattern has 1", Assert.Throws<PatternException>(() =>
            Space.Validate(TransformerPattern.ParseCompact("s2 t8 hidden on"), 1)).Message);
        Assert.Throws<ArgumentException>(() => LanguageModelSpec.Parse("lm-2-30-4"));
    }

    [Theory]
    [InlineData(SequenceSharing.Hidden, new long[] { 3, 20, 1 })]
    [InlineData(SequenceSharing.Channel, new long[] { 3, 20, 8 })]
    [InlineData(SequenceSharing.Head, new long[] { 3, 2, 20, 1 })]
    public void Masks_have_the_shape_of_their_sharing_drop_runs_and_keep_the_mean(SequenceSharing share, long[] shape)
    {
        var tokens = new TransformerSiteTokens(2, 4, share, true);
        using var g = new Generator(7);
        using var mask = SequenceMasks.Render(tokens, 3, 20, 8, 2, g, CPU);
        Assert.Equal(shape, mask.shape);
        // 20 positions, runs of 2 every 4: exactly half dropped in every row, kept ones scaled by 2
        Assert.Equal(0.5, mask.eq(0).to_type(float32).mean().item<float>(), 5);
        Assert.Equal(1.0, mask.mean().item<float>(), 5);
        Assert.Equal(2.0, mask.max().item<float>(), 5);
        // along the sequence, runs: a position 4 later has the same state
        var sequenceAxis = share == SequenceSharing.Head ? 2 : 1;
        Assert.True(Same(mask.narrow(sequenceAxis, 0, 16).ne(0), mask.narrow(sequenceAxis, 4, 16).ne(0)));
    }

    [Fact]
    public void Same_seed_same_mask_different_seed_different_offsets_and_heads_share_within()
    {
        var tokens = new TransformerSiteTokens(1, 8, SequenceSharing.Head, true);
        using var x = ones(16, 24, 8);
        Tensor Draw(ulong seed)
        {
            using var g = new Generator(seed);
            return SequenceMasks.Apply(x, tokens, 2, g);
        }
        using var a = Draw(1);
        using var b = Draw(1);
        using var c = Draw(2);
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        // channels 0..3 form head 0 and share its mask; heads differ somewhere over 16 examples
        Assert.True(Same(a.narrow(2, 0, 1).expand(16, 24, 4), a.narrow(2, 0, 4)));
        Assert.False(Same(a.narrow(2, 0, 4), a.narrow(2, 4, 4)));
    }

    [Fact]
    public void A_sequence_shorter_than_one_period_is_never_dropped_entirely()
    {
        var tokens = new TransformerSiteTokens(8, 32, SequenceSharing.Channel, true);
        using var g = new Generator(1);
        using var mask = SequenceMasks.Render(tokens, 64, 4, 8, 1, g, CPU);
        Assert.True(mask.sum(1).gt(0).all().item<bool>());
        Assert.Equal(1.0, mask.mean(new long[] { 1 }).mean().item<float>(), 4);
    }

    [Fact]
    public void A_site_is_the_identity_at_evaluation_and_when_switched_off()
    {
        using var site = new SequenceDropout("s", 2);
        using var g = new Generator(1);
        using var x = randn(2, 16, 4, generator: g);
        site.Configure(new TransformerSiteTokens(3, 4, SequenceSharing.Hidden, Apply: false), g);
        site.train();
        Assert.True(Same(x, site.call(x)));
        site.Configure(new TransformerSiteTokens(3, 4, SequenceSharing.Hidden, Apply: true), g);
        Assert.False(Same(x, site.call(x)));
        site.eval();
        Assert.True(Same(x, site.call(x)));
    }
}

using AutoDropout.Core;

namespace AutoDropout.Tests.Unit;

public class PatternTransferTests
{
    // every site's tokens differ (the size token is the site's index), so a test can read where a site came from
    private static ConvPattern NumberedConv(int sites) =>
        new(Enumerable.Range(0, sites).Select(i => new ConvSiteTokens(i, 2, 1, 0, 0, 0, i % 2 == 0, false)));

    private static TransformerPattern NumberedTransformer(int sites) =>
        new(Enumerable.Range(0, sites).Select(i => new TransformerSiteTokens(i + 1, 2 + i, (SequenceSharing)(i % 3), i % 2 == 0)));

    [Theory]
    [InlineData("wrn-28-2", "wrn-28-10")]
    [InlineData("wrn-16-2", "wrn-16-2")]
    [InlineData("cnn", "cnn")]
    public void Same_site_layout_gives_an_equal_pattern(string from, string to)
    {
        var pattern = NumberedConv(TargetSpec.Parse(from).MaskSites);
        Assert.Equal(pattern, PatternTransfer.Map(pattern, from, to));
    }

    [Fact]
    public void Language_models_of_the_same_depth_keep_the_pattern_whatever_the_width_and_heads()
    {
        var pattern = NumberedTransformer(TransformerSites.Count(2));
        var mapped = PatternTransfer.Map(pattern, "lm-2-64-4", "lm-2-256-8");
        Assert.Equal(pattern, mapped);
        Assert.Contains(((TransformerPattern)mapped).Sites, s => s.Share == SequenceSharing.Head);
    }

    [Fact]
    public void Wrn_16_to_28_takes_blocks_by_group_site_by_site()
    {
        // WRN-16: 2 blocks a group, sites 0..11 and the final 12; WRN-28: 4 blocks a group, 25 sites
        var mapped = (ConvPattern)PatternTransfer.Map(NumberedConv(13), "wrn-16-2", "wrn-28-2");
        Assert.Equal(TargetSpec.Parse("wrn-28-2").MaskSites, mapped.SiteCount);
        // target block j of a group takes source block floor(j * 2 / 4): blocks 0,0,1,1; each block's two sites in order
        int[] expected =
        [
            0, 1, 0, 1, 2, 3, 2, 3,        // group 0: source blocks 0, 0, 1, 1 (sites 0-3)
            4, 5, 4, 5, 6, 7, 6, 7,        // group 1: source sites 4-7
            8, 9, 8, 9, 10, 11, 10, 11,    // group 2: source sites 8-11
            12,                            // final BN
        ];
        Assert.Equal(expected, mapped.Sites.Select(s => s.Size));
    }

    [Fact]
    public void Wrn_28_to_16_takes_every_other_block_starting_with_the_first()
    {
        var mapped = (ConvPattern)PatternTransfer.Map(NumberedConv(25), "wrn-28-10", "wrn-16-4");
        Assert.Equal([0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24], mapped.Sites.Select(s => s.Size));
    }

    [Fact]
    public void A_language_model_of_2_layers_maps_to_4_layer_by_layer_with_the_embedding_kept()
    {
        var pattern = NumberedTransformer(TransformerSites.Count(2));
        var mapped = (TransformerPattern)PatternTransfer.Map(pattern, "lm-2-64-4", "lm-4-128-8");
        Assert.Equal(TransformerSites.Count(4), mapped.SiteCount);
        var layout = TransformerSites.Layout(4);
        var sourceLayout = TransformerSites.Layout(2).ToList();
        for (int site = 0; site < mapped.SiteCount; site++)
        {
            var (layer, kind) = layout[site];
            // layer j takes layer floor(j * 2 / 4): 0, 0, 1, 1; the embedding (layer -1) takes the embedding
            int sourceLayer = layer < 0 ? -1 : layer * 2 / 4;
            Assert.Equal(pattern.Sites[sourceLayout.IndexOf((sourceLayer, kind))], mapped.Sites[site]);
        }
        Assert.Equal(pattern.Sites[0], mapped.Sites[0]);
        Assert.Equal(pattern.Sites[1..8].ToArray(), mapped.Sites[8..15].ToArray());
        Assert.Equal(pattern.Sites[8..15].ToArray(), mapped.Sites[22..29].ToArray());
    }

    [Fact]
    public void A_pattern_mapped_to_a_deeper_model_fits_it()
    {
        var mapped = (TransformerPattern)PatternTransfer.Map(NumberedTransformer(TransformerSites.Count(3)), "lm-3-64-4", "lm-5-64-4");
        TransformerSearchSpace.ValidateStructure(mapped, 5);
        var conv = (ConvPattern)PatternTransfer.Map(NumberedConv(19), "wrn-22-2", "wrn-40-4");
        Assert.Equal(TargetSpec.Parse("wrn-40-4").MaskSites, conv.SiteCount);
    }

    [Theory]
    [InlineData("cnn", "wrn-28-2", "different sites")]
    [InlineData("wrn-16-2", "cnn", "different sites")]
    [InlineData("wrn-16-2", "lm-2-64-4", "different sites")]
    [InlineData("lm-2-64-4", "cnn", "different sites")]
    [InlineData("wrn-16-2", "resnet-50", "unknown target 'resnet-50'")]
    [InlineData("vgg", "wrn-16-2", "unknown target 'vgg'")]
    [InlineData("lm-2-64", "lm-4-64-4", "unknown language model 'lm-2-64'")]
    [InlineData("wrn-16-2", "lm-2-64", "unknown language model 'lm-2-64'")]
    public void Different_families_and_unknown_targets_are_refused(string from, string to, string message)
    {
        var pattern = from.StartsWith("lm-", StringComparison.Ordinal) ? (DropoutPattern)NumberedTransformer(15) : NumberedConv(from == "cnn" ? 2 : 13);
        var error = Assert.Throws<ArgumentException>(() => PatternTransfer.Map(pattern, from, to));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_whose_site_count_is_not_the_source_targets_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => PatternTransfer.Map(NumberedConv(25), "wrn-16-2", "wrn-28-2"));
        Assert.Contains("25 sites but wrn-16-2", error.Message, StringComparison.Ordinal);
        // also when no mapping is needed: the claim about where the pattern was found is checked
        Assert.Throws<ArgumentException>(() => PatternTransfer.Map(NumberedConv(3), "cnn", "cnn"));
        Assert.Throws<ArgumentException>(() => PatternTransfer.Map(NumberedTransformer(8), "lm-2-64-4", "lm-4-64-4"));
    }

    [Fact]
    public void A_pattern_of_the_other_space_or_a_baseline_is_refused()
    {
        Assert.Contains("takes ConvNet patterns", Assert.Throws<ArgumentException>(
            () => PatternTransfer.Map(NumberedTransformer(2), "cnn", "cnn")).Message, StringComparison.Ordinal);
        Assert.Contains("takes Transformer patterns", Assert.Throws<ArgumentException>(
            () => PatternTransfer.Map(NumberedConv(15), "lm-2-64-4", "lm-4-64-4")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PatternTransfer.Map(new BaselinePattern(BaselineSpec.None), "cnn", "cnn"));
    }
}

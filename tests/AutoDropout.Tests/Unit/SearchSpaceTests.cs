using System.Text.Json;
using AutoDropout.Core;

namespace AutoDropout.Tests.Unit;

public class SearchSpaceTests
{
    private static readonly ConvSearchSpace Space = ConvSearchSpace.Default;

    [Fact]
    public void Tokens_decode_to_a_pattern_and_encode_back()
    {
        var random = new Random(1);
        for (int trial = 0; trial < 50; trial++)
        {
            var tokens = Enumerable.Range(0, 3 * TokenTypes.PerSite).Select(i => random.Next(Space.VocabularySize((TokenType)(i % TokenTypes.PerSite)))).ToArray();
            var pattern = Space.Decode(tokens);
            Assert.Equal(tokens, Space.Encode(pattern));
            var json = JsonSerializer.Serialize(pattern);
            Assert.Equal(pattern, JsonSerializer.Deserialize<ConvPattern>(json));
            Assert.Equal(pattern.Hash(), JsonSerializer.Deserialize<ConvPattern>(json)!.Hash());
        }
    }

    [Fact]
    public void An_index_outside_a_grid_names_the_site_and_token()
    {
        var tokens = new int[16];
        tokens[8 + (int)TokenType.Stride] = 99;
        var error = Assert.Throws<PatternException>(() => Space.Decode(tokens));
        Assert.Contains("site 1", error.Message);
        Assert.Contains("stride", error.Message);
    }

    [Fact]
    public void A_value_off_the_grid_or_the_wrong_site_count_is_refused()
    {
        var pattern = new ConvPattern([new ConvSiteTokens(3, 3, 1, 0, 0, 0, false, false)]);
        var error = Assert.Throws<PatternException>(() => Space.Validate(pattern, 1));
        Assert.Contains("site 0, token stride", error.Message);
        Assert.Throws<PatternException>(() => Space.Validate(Space.Decode(new int[8]), 2));
    }

    [Fact]
    public void An_unknown_token_in_json_is_named()
    {
        const string json = """{"sites":[{"size":1,"stride":1,"repeat":1,"rotate":0,"shear_x":0,"shear_y":0,"share_c":false,"residual":false,"colour":3}]}""";
        var error = Assert.Throws<PatternException>(() => JsonSerializer.Deserialize<ConvPattern>(json));
        Assert.Contains("colour", error.Message);
    }

    [Fact]
    public void A_custom_grid_is_used_and_a_bad_one_is_refused_naming_the_grid()
    {
        var grid = Space with { Sizes = [2, 4], Rotations = [0, 90] };
        grid.Validate();
        Assert.Equal(2, grid.VocabularySize(TokenType.Size));
        Assert.Equal(4, grid.Decode([1, 0, 0, 1, 0, 0, 0, 0]).Sites[0].Size);
        Assert.Contains("grid.strides", Assert.Throws<ArgumentException>(() => (Space with { Strides = [] }).Validate()).Message);
        Assert.Contains("grid.shears", Assert.Throws<ArgumentException>(() => (Space with { Shears = [0, 1.5] }).Validate()).Message);
        Assert.Contains("grid.sizes", Assert.Throws<ArgumentException>(() => (Space with { Sizes = [3, 3] }).Validate()).Message);
    }

    [Theory]
    [InlineData("space", "{\"name\":\"x\",\"space\":\"graph\"}")]
    [InlineData("grid.repeats", "{\"name\":\"x\",\"grid\":{\"sizes\":[1],\"strides\":[1],\"repeats\":[0],\"rotations\":[0],\"shears\":[0]}}")]
    [InlineData("target", "{\"name\":\"x\",\"target\":\"vgg\"}")]
    [InlineData("trials", "{\"name\":\"x\",\"trials\":0}")]
    [InlineData("train_steps", "{\"name\":\"x\",\"train_steps\":-5}")]
    public void A_bad_search_spec_is_refused_naming_the_field(string field, string json)
    {
        var spec = System.Text.Json.JsonSerializer.Deserialize(json, AutoDropout.Cluster.SpecJsonContext.Default.SearchSpec)!;
        Assert.StartsWith(field, Assert.Throws<ArgumentException>(spec.Validate).Message);
    }

    [Theory]
    [InlineData("cnn", 2)]
    [InlineData("wrn-10-1", 7)]
    [InlineData("wrn-28-2", 25)]
    public void Targets_know_their_mask_sites(string name, int sites) => Assert.Equal(sites, TargetSpec.Parse(name).MaskSites);

    [Theory]
    [InlineData("wrn-11-2")]
    [InlineData("resnet")]
    public void Unknown_targets_are_refused(string name) => Assert.Throws<ArgumentException>(() => TargetSpec.Parse(name));
}

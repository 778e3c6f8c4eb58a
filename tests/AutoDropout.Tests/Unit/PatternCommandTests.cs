using AutoDropout.Cli;
using AutoDropout.Core;

namespace AutoDropout.Tests.Unit;

public sealed class PatternCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pattern-command-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The whole command line, in process; usage mistakes and bad input come out as exceptions.</summary>
    private static (int Code, string Output) Run(params string[] args)
    {
        var output = new StringWriter();
        int code = CliApp.Invoke(args, output).GetAwaiter().GetResult();
        return (code, output.ToString());
    }

    [Fact]
    public void Compact_conv_patterns_round_trip_exactly_for_many_random_patterns()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var pattern = (ConvPattern)PatternSampler.Sample(ConvSearchSpace.Default, 1 + seed % 25, seed);
            var parsed = ConvPattern.ParseCompact(pattern.ToCompact());
            Assert.Equal(pattern, parsed);
            Assert.Equal(pattern.ToCompact(), parsed.ToCompact());
            Assert.Equal(pattern.Hash(), parsed.Hash());
        }
        var offGrid = new ConvPattern([new ConvSiteTokens(11, 3, 9, 359, 0.25, 0.99, true, true)]);
        Assert.Equal(offGrid, ConvPattern.ParseCompact(offGrid.ToCompact()));
    }

    [Theory]
    [InlineData("s3 t4 r2 rot15 sx0.1 sy0 c1 res0 | s3 t4 r2 rot15 sx0.1 sy0 c1", "site 1: expected 8 tokens")]
    [InlineData("s3 t4 r2 rot15 sx0.1 sy0 c1 res0 | s3 t4 r2 rit15 sx0.1 sy0 c1 res0", "site 1, token rotate: expected 'rot<integer>', found 'rit15'")]
    [InlineData("sx t4 r2 rot15 sx0.1 sy0 c1 res0", "site 0, token size")]
    [InlineData("s3 t4 r2.5 rot15 sx0.1 sy0 c1 res0", "site 0, token repeat")]
    [InlineData("s3 t4 r2 rot15 sxa sy0 c1 res0", "site 0, token shear_x")]
    [InlineData("s3 t4 r2 rot15 sx0.1 syNaN c1 res0", "site 0, token shear_y")]
    [InlineData("s3 t4 r2 rot15 sx0.1 sy0 c2 res0", "site 0, token share_c: expected 'c0' or 'c1'")]
    [InlineData("s3 t4 r2 rot15 sx0.1 sy0 c1 residual", "site 0, token residual")]
    public void Bad_compact_conv_patterns_name_the_site_and_token(string text, string expected)
    {
        var error = Assert.Throws<PatternException>(() => ConvPattern.ParseCompact(text));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("s0 t4 r2 rot15 sx0.1 sy0 c1 res0", "site 0, token size: 0")]
    [InlineData("s3 t0 r2 rot15 sx0.1 sy0 c1 res0", "site 0, token stride: 0")]
    [InlineData("s3 t4 r0 rot15 sx0.1 sy0 c1 res0", "site 0, token repeat: 0")]
    [InlineData("s3 t4 r2 rot-15 sx0.1 sy0 c1 res0", "site 0, token rotate: -15")]
    [InlineData("s3 t4 r2 rot15 sx1 sy0 c1 res0", "site 0, token shear_x: 1")]
    [InlineData("s3 t4 r2 rot15 sx0 sy-0.5 c1 res0", "site 0, token shear_y: -0.5")]
    public void Structural_checks_name_the_site_and_token(string text, string expected)
    {
        var error = Assert.Throws<PatternException>(() => ConvSearchSpace.ValidateStructure(ConvPattern.ParseCompact(text), 1));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(new[] { "--space", "conv" }, "conv", 2)]
    [InlineData(new[] { "--target", "wrn-16-2" }, "conv", 13)]
    [InlineData(new[] { "--space", "transformer" }, "transformer", 15)]
    [InlineData(new[] { "--target", "lm-3-32-4" }, "transformer", 22)]
    public void Sample_json_parses_back_to_a_pattern_of_the_targets_size(string[] options, string space, int sites)
    {
        var (code, output) = Run(["pattern", "sample", "--seed", "7", "--json", .. options]);

        Assert.Equal(ExitCodes.Ok, code);
        var pattern = DropoutPatternJsonConverter.Deserialize(output);
        Assert.Equal(space, pattern.Space);
        Assert.Equal(sites, pattern.SiteCount);
        Assert.Equal(output, Run(["pattern", "sample", "--seed", "7", "--json", .. options]).Output);
        Assert.NotEqual(output, Run(["pattern", "sample", "--seed", "8", "--json", .. options]).Output);
        // on the default grids: the controller could have written it
        if (pattern is ConvPattern conv) ConvSearchSpace.Default.Encode(conv);
        else TransformerSearchSpace.Default.Encode((TransformerPattern)pattern);
    }

    [Fact]
    public void Sample_prints_the_hash_and_one_line_per_site()
    {
        var (_, conv) = Run("pattern", "sample", "--seed", "3");
        var pattern = PatternSampler.Sample(ConvSearchSpace.Default, 2, 3);
        var lines = conv.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.Contains(pattern.Hash(), lines[0]);
        Assert.Equal($"  1  {((ConvPattern)pattern).Sites[1].ToCompact()}", lines[2]);

        var (_, transformer) = Run("pattern", "sample", "--target", "lm-1-32-4");
        var rows = transformer.TrimEnd().Split('\n');
        Assert.Equal(1 + 8, rows.Length);
        Assert.Matches(@"^  7  layer0\.residual\s+s\d+ t\d+ (hidden|channel|head) (on|off)", rows[8]);
    }

    [Fact]
    public void Space_and_target_must_agree()
    {
        Assert.Throws<UsageException>(() => Run("pattern", "sample", "--space", "conv", "--target", "lm-2-64-4"));
        Assert.Throws<UsageException>(() => Run("pattern", "sample", "--space", "pictures"));
        Assert.Throws<UsageException>(() => Run("pattern", "render", "s2 t8 hidden on", "--target", "cnn", "--out", "x.png"));
    }

    [Fact]
    public void Render_writes_a_png_from_a_compact_string()
    {
        var path = Path.Combine(_dir, "conv.png");
        var (code, output) = Run("pattern", "render", "s3 t8 r2 rot30 sx0.2 sy0 c0 res0 | s2 t4 r3 rot0 sx0 sy0.1 c1 res0", "--out", path);

        Assert.Equal(ExitCodes.Ok, code);
        var image = PngReader.Decode(File.ReadAllBytes(path));
        Assert.Equal($"wrote {path} ({image.Width} x {image.Height} pixels, 2 sites)", output.Trim());
    }

    [Fact]
    public void Render_reads_sample_json_and_demo_output_of_either_space()
    {
        var conv = Path.Combine(_dir, "conv.json");
        File.WriteAllText(conv, Run("pattern", "sample", "--target", "wrn-10-1", "--json").Output);
        Assert.Equal(ExitCodes.Ok, Run("pattern", "render", conv, "--target", "wrn-10-1", "--input", "3x16x16", "--out", Path.Combine(_dir, "a.png")).Code);
        PngReader.Decode(File.ReadAllBytes(Path.Combine(_dir, "a.png")));

        var demo = Path.Combine(_dir, "demo.json");
        var lm = Run("pattern", "sample", "--target", "lm-1-32-4", "--json").Output;
        File.WriteAllText(demo, $$"""{"trials":12,"best_pattern":{{lm}},"best_pattern_compact":"..."}""");
        var (code, output) = Run("pattern", "render", demo, "--target", "lm-1-32-4", "--length", "24", "--out", Path.Combine(_dir, "b.png"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("8 sites", output);
        PngReader.Decode(File.ReadAllBytes(Path.Combine(_dir, "b.png")));
    }

    [Fact]
    public void Render_rejects_bad_input_by_name()
    {
        var png = Path.Combine(_dir, "x.png");
        Assert.Contains("site 1, token stride", Assert.Throws<PatternException>(() =>
            Run("pattern", "render", "s3 t8 r2 rot30 sx0.2 sy0 c0 res0 | s2 tt r3 rot0 sx0 sy0.1 c1 res0", "--out", png)).Message);
        Assert.Contains("has 2 mask sites but the pattern has 1", Assert.Throws<PatternException>(() =>
            Run("pattern", "render", "s3 t8 r2 rot30 sx0.2 sy0 c0 res0", "--out", png)).Message);
        Assert.Contains("site 0, token apply", Assert.Throws<PatternException>(() =>
            Run("pattern", "render", "s2 t8 hidden maybe | s2 t8 head on", "--out", png)).Message);
        var empty = Path.Combine(_dir, "empty.json");
        File.WriteAllText(empty, """{"best_pattern":null}""");
        Assert.Throws<PatternException>(() => Run("pattern", "render", empty, "--out", png));
        Assert.Throws<FileNotFoundException>(() => Run("pattern", "render", "missing.json", "--out", png));
        Assert.Throws<UsageException>(() => Run("pattern", "render", "s3 t8 r2 rot30 sx0.2 sy0 c0 res0", "--input", "28x28", "--out", png));
        Assert.Throws<UsageException>(() => Run("pattern", "render", "s3 t8 r2 rot30 sx0.2 sy0 c0 res0"));
        Assert.False(File.Exists(png));
    }
}

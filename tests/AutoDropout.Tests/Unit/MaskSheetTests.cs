using AutoDropout.Core;
using AutoDropout.Core.Pictures;
using AutoDropout.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class MaskSheetTests
{
    private static readonly ConvPattern Known = ConvPattern.ParseCompact(
        "s3 t8 r2 rot30 sx0.2 sy0 c0 res0 | s2 t4 r3 rot0 sx0 sy0.1 c1 res0");

    /// <summary>Whether each cell of a panel is drawn white (kept), read from the canvas, in row-major order.</summary>
    private static bool[] Cells(RgbCanvas canvas, MaskPanel panel)
    {
        var cells = new bool[panel.Rows * panel.Columns];
        for (int r = 0; r < panel.Rows; r++)
            for (int c = 0; c < panel.Columns; c++)
            {
                // every pixel of a cell has the cell's colour
                var colour = canvas.GetPixel(panel.X + c * panel.CellWidth, panel.Y + r * panel.CellHeight);
                Assert.Equal(colour, canvas.GetPixel(panel.X + (c + 1) * panel.CellWidth - 1, panel.Y + (r + 1) * panel.CellHeight - 1));
                Assert.True(colour == Rgb.White || colour == Rgb.Black, $"cell ({r}, {c}) is {colour}");
                cells[r * panel.Columns + c] = colour == Rgb.White;
            }
        return cells;
    }

    private static bool[] Kept(Tensor rows) => rows.gt(0).contiguous().data<bool>().ToArray();

    [Fact]
    public void Site_shapes_come_from_the_target()
    {
        Assert.Equal([[1, 32, 28, 28], [1, 64, 14, 14]], MaskSheet.ConvSiteShapes(TargetSpec.Parse("cnn"), 1, 28, 28));
        long[][] wrn = [[1, 16, 32, 32], [1, 16, 32, 32], [1, 16, 32, 32], [1, 32, 16, 16], [1, 32, 16, 16], [1, 64, 8, 8], [1, 64, 8, 8]];
        Assert.Equal(wrn, MaskSheet.ConvSiteShapes(TargetSpec.Parse("wrn-10-1"), 3, 32, 32));
    }

    [Fact]
    public void Conv_sheet_has_the_expected_layout_and_its_cells_match_the_rendered_masks()
    {
        var sheet = MaskSheet.ForConv(Known, TargetSpec.Parse("cnn"), 1, 28, 28, seed: 5);

        Assert.Equal(2, sheet.Rows.Count);
        // site 0: 8 of 32 channels at scale 3 (84 px); site 1: shared, one 14x14 panel at scale 6
        Assert.Equal(8, sheet.Rows[0].Panels.Count);
        Assert.All(sheet.Rows[0].Panels, p => Assert.Equal((28, 28, 3, 3), (p.Columns, p.Rows, p.CellWidth, p.CellHeight)));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], sheet.Rows[0].Panels.Select(p => p.Channel));
        var shared = Assert.Single(sheet.Rows[1].Panels);
        Assert.Equal((14, 14, 6, 6, -1), (shared.Columns, shared.Rows, shared.CellWidth, shared.CellHeight, shared.Channel));
        Assert.Equal(Known.Sites[0].ToCompact(), sheet.Rows[0].Tokens);
        Assert.Equal((8 * (84 + 2 + MaskSheet.PanelGap) - MaskSheet.PanelGap + 2 * MaskSheet.Margin, 291), (sheet.Canvas.Width, sheet.Canvas.Height));
        foreach (var panel in sheet.Rows.SelectMany(r => r.Panels))
        {
            Assert.InRange(panel.X + panel.Width, 0, sheet.Canvas.Width - 1);
            Assert.InRange(panel.Y + panel.Height, 0, sheet.Canvas.Height - 1);
            Assert.Equal(Rgb.Grey, sheet.Canvas.GetPixel(panel.X - 1, panel.Y - 1));
        }

        using var generator = new Generator(5);
        using var first = PatternMasks.Render(Known.Sites[0], [1, 32, 28, 28], generator, CPU);
        using var second = PatternMasks.Render(Known.Sites[1], [1, 64, 14, 14], generator, CPU);
        for (int c = 0; c < 8; c++)
            Assert.Equal(Kept(first[0, c]), Cells(sheet.Canvas, sheet.Rows[0].Panels[c]));
        Assert.Equal(Kept(second[0, 0]), Cells(sheet.Canvas, shared));
        Assert.Equal(first.gt(0).to_type(float32).mean().item<float>(), sheet.Rows[0].KeptFraction, 6);
        Assert.InRange(sheet.Rows[1].KeptFraction, 0.01, 0.99);
    }

    [Fact]
    public void Channels_differ_side_by_side_unless_shared()
    {
        var own = ConvPattern.ParseCompact("s4 t8 r2 rot15 sx0 sy0 c0 res0 | s4 t8 r2 rot15 sx0 sy0 c0 res0");
        var sharedPattern = ConvPattern.ParseCompact("s4 t8 r2 rot15 sx0 sy0 c1 res0 | s4 t8 r2 rot15 sx0 sy0 c1 res0");

        var perChannel = MaskSheet.ForConv(own, TargetSpec.Parse("cnn"), 1, 28, 28, seed: 2);
        var masks = perChannel.Rows[0].Panels.Select(p => string.Concat(Cells(perChannel.Canvas, p).Select(k => k ? '1' : '0'))).ToArray();
        Assert.Equal(8, masks.Length);
        Assert.True(masks.Distinct().Count() > 1, "every channel shows the same offset");

        var shared = MaskSheet.ForConv(sharedPattern, TargetSpec.Parse("cnn"), 1, 28, 28, seed: 2);
        var panel = Assert.Single(shared.Rows[0].Panels);
        Assert.Equal(-1, panel.Channel);
        // the same tiling, only the offset differs: as many cells dropped as in any single channel
        Assert.Equal(masks[0].Count(k => k == '0'), Cells(shared.Canvas, panel).Count(k => !k));
    }

    [Fact]
    public void Same_seed_same_picture_another_seed_another()
    {
        byte[] Draw(ulong seed) => MaskSheet.ForConv(Known, TargetSpec.Parse("cnn"), 1, 28, 28, seed).Canvas.Encode();
        Assert.Equal(Draw(3), Draw(3));
        Assert.NotEqual(Draw(3), Draw(4));
    }

    [Fact]
    public void Conv_sheet_checks_structure_and_site_count_but_not_the_grids()
    {
        var offGrid = ConvPattern.ParseCompact("s9 t3 r7 rot100 sx0.25 sy0.95 c0 res1 | s1 t1 r1 rot359 sx0 sy0 c1 res0");
        Assert.Throws<PatternException>(() => ConvSearchSpace.Default.Encode(offGrid));
        Assert.Equal(2, MaskSheet.ForConv(offGrid, TargetSpec.Parse("cnn"), 1, 16, 16, 1).Rows.Count);

        var error = Assert.Throws<PatternException>(() =>
            MaskSheet.ForConv(ConvPattern.ParseCompact("s3 t4 r2 rot0 sx0 sy0 c1 res0 | s3 t4 r2 rot360 sx0 sy0 c1 res0"), TargetSpec.Parse("cnn"), 1, 28, 28, 1));
        Assert.Contains("site 1, token rotate: 360", error.Message);
        Assert.Contains("has 2 mask sites but the pattern has 1", Assert.Throws<PatternException>(() =>
            MaskSheet.ForConv(ConvPattern.ParseCompact("s3 t4 r2 rot0 sx0 sy0 c1 res0"), TargetSpec.Parse("cnn"), 1, 28, 28, 1)).Message);
    }

    [Fact]
    public void Transformer_sheet_matches_the_sequence_masks_and_draws_off_sites_white()
    {
        var model = LanguageModelSpec.Parse("lm-1-32-4");
        var pattern = TransformerPattern.ParseCompact(
            "s2 t8 hidden on | s3 t4 head on | s1 t2 channel on | s2 t8 hidden off | s4 t16 channel on | s2 t4 head on | s1 t4 hidden on | s6 t8 channel off");
        var sheet = MaskSheet.ForTransformer(pattern, model, length: 40, seed: 9);

        Assert.Equal(8, sheet.Rows.Count);
        Assert.StartsWith("site 1  layer0.q ", sheet.Rows[1].Label);
        using var generator = new Generator(9);
        var layout = TransformerSites.Layout(1);
        for (int site = 0; site < 8; site++)
        {
            var tokens = pattern.Sites[site];
            var panel = Assert.Single(sheet.Rows[site].Panels);
            int width = layout[site].Kind == TransformerSiteKind.FeedForwardHidden ? 128 : 32;
            int groups = tokens.Share switch { SequenceSharing.Hidden => 1, SequenceSharing.Channel => Math.Min(width, 16), _ => 4 };
            Assert.Equal((40, groups), (panel.Columns, panel.Rows));
            var cells = Cells(sheet.Canvas, panel);
            if (!tokens.Apply)
            {
                Assert.All(cells, Assert.True);
                Assert.Equal(1.0, sheet.Rows[site].KeptFraction);
                continue; // an off site draws nothing from the generator
            }
            using var mask = SequenceMasks.Render(tokens, 1, 40, width, 4, generator, CPU);
            using var rows = tokens.Share switch
            {
                SequenceSharing.Hidden => mask.view(1, 40),
                SequenceSharing.Channel => mask[0].transpose(0, 1).narrow(0, 0, groups),
                _ => mask.view(4, 40),
            };
            Assert.Equal(Kept(rows), cells);
            Assert.Equal(mask.gt(0).to_type(float32).mean().item<float>(), sheet.Rows[site].KeptFraction, 6);
        }
    }

    [Fact]
    public void Transformer_sheet_checks_structure_and_site_count()
    {
        var model = LanguageModelSpec.Parse("lm-1-32-4");
        Assert.Contains("has 8 mask sites but the pattern has 1", Assert.Throws<PatternException>(() =>
            MaskSheet.ForTransformer(TransformerPattern.ParseCompact("s2 t8 hidden on"), model, 16, 1)).Message);
        var badStride = TransformerPattern.ParseCompact(string.Join(" | ", Enumerable.Repeat("s2 t8 hidden on", 7)) + " | s2 t1 head on");
        Assert.Contains("site 7, token stride: 1", Assert.Throws<PatternException>(() => MaskSheet.ForTransformer(badStride, model, 16, 1)).Message);
        // off the default grid (size 5, stride 3) but well formed
        var offGrid = TransformerPattern.ParseCompact(string.Join(" | ", Enumerable.Repeat("s5 t3 channel on", 8)));
        Assert.Equal(8, MaskSheet.ForTransformer(offGrid, model, 16, 1).Rows.Count);
    }
}

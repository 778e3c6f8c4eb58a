using System.Globalization;
using AutoDropout.Core;
using AutoDropout.Core.Pictures;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// Where one mask is drawn on a sheet: a grid of <see cref="Rows"/> x <see cref="Columns"/> cells of
/// <see cref="CellWidth"/> x <see cref="CellHeight"/> pixels with its top-left cell at (X, Y). For a ConvNet site the
/// grid is one channel's H x W map; for a Transformer site it is groups (rows) x positions (columns).
/// </summary>
/// <param name="Channel">The channel a ConvNet panel shows; -1 when the panel is shared by all channels or sequential.</param>
public sealed record MaskPanel(int X, int Y, int Columns, int Rows, int CellWidth, int CellHeight, int Channel)
{
    public int Width => Columns * CellWidth;
    public int Height => Rows * CellHeight;
}

/// <summary>One site's row of a sheet: its label, its panels, its tokens and the fraction of the mask it keeps.</summary>
public sealed record SheetRow(int Site, string Label, string Tokens, double KeptFraction, IReadOnlyList<MaskPanel> Panels);

/// <summary>
/// A picture of a pattern's masks, one row per site, so a person can check the tokens by eye: dropped cells black,
/// kept cells white, each panel in a 1-pixel grey border, the compact tokens and the kept fraction underneath.
/// Masks are drawn for one example from one generator seeded with the sheet's seed, site after site in pattern
/// order, as a training step draws them; the same seed gives the same picture.
/// </summary>
public sealed class MaskSheet
{
    public const int Margin = 10;
    public const int PanelGap = 6;
    public const int RowGap = 14;
    public const int MaxConvChannels = 8;
    public const int MaxSequenceChannels = 16;

    private static readonly Rgb Kept = Rgb.White;
    private static readonly Rgb Dropped = Rgb.Black;
    private static readonly Rgb Border = Rgb.Grey;
    private static readonly Rgb Ink = Rgb.Black;
    private static readonly Rgb Faint = new(90, 90, 90);
    private static readonly Rgb Rule = new(215, 215, 215);

    private MaskSheet(RgbCanvas canvas, IReadOnlyList<SheetRow> rows)
    {
        Canvas = canvas;
        Rows = rows;
    }

    public RgbCanvas Canvas { get; }
    public IReadOnlyList<SheetRow> Rows { get; }

    /// <summary>
    /// The sheet of a ConvNet pattern on an image target fed <paramref name="channels"/> x <paramref name="height"/>
    /// x <paramref name="width"/> images. Checks the pattern's structure and site count, not its grid membership.
    /// </summary>
    public static MaskSheet ForConv(ConvPattern pattern, TargetSpec target, int channels, int height, int width, ulong seed)
    {
        var shapes = ConvSiteShapes(target, channels, height, width);
        ConvSearchSpace.ValidateStructure(pattern, shapes.Count);
        using var generator = new Generator(seed);
        var sites = new List<SiteDrawing>();
        for (int site = 0; site < shapes.Count; site++)
        {
            var tokens = pattern.Sites[site];
            var shape = shapes[site];
            long c = shape[1], h = shape[2], w = shape[3];
            using var scope = NewDisposeScope();
            using var held = new HeldScalars();
            var mask = PatternMasks.Render(tokens, shape, generator, CPU); // [1, 1 or C, H, W]
            int shown = (int)Math.Min(mask.shape[1], MaxConvChannels);
            var cells = mask[0].narrow(0, 0, shown).gt(held.Of(0)).contiguous().data<bool>().ToArray();
            double kept = mask.gt(held.Of(0)).to_type(float32).mean().item<float>();
            int scale = Math.Clamp(96 / (int)Math.Max(h, w), 1, 12);
            var panels = Enumerable.Range(0, shown)
                .Select(i => new PanelDrawing(tokens.ShareChannels ? "all channels" : $"c{i}", (int)w, (int)h, scale, scale,
                    tokens.ShareChannels ? -1 : i, cells.AsMemory(i * (int)(h * w), (int)(h * w))))
                .ToArray();
            string channelNote = tokens.ShareChannels ? "one mask for all channels" : c > shown ? $"channels 0-{shown - 1} of {c}" : $"{c} channels";
            sites.Add(new SiteDrawing(site, $"site {site}  {c} x {h} x {w} (C x H x W), {channelNote}", tokens.ToCompact(), kept, panels));
        }
        var header = $"{target.Name}, input {channels}x{height}x{width}, pattern {pattern.Hash()}, seed {seed}; black = dropped, white = kept";
        return Draw(header, sites);
    }

    /// <summary>
    /// The sheet of a Transformer pattern on a language model, for sequences of <paramref name="length"/> positions.
    /// Checks the pattern's structure and site count, not its grid membership. Sites switched off draw nothing from
    /// the generator, as in training.
    /// </summary>
    public static MaskSheet ForTransformer(TransformerPattern pattern, LanguageModelSpec model, int length, ulong seed)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), "a sequence has at least one position");
        TransformerSearchSpace.ValidateStructure(pattern, model.Layers);
        var layout = TransformerSites.Layout(model.Layers);
        using var generator = new Generator(seed);
        int cellWidth = Math.Clamp(512 / length, 1, 8);
        var sites = new List<SiteDrawing>();
        for (int site = 0; site < layout.Count; site++)
        {
            var tokens = pattern.Sites[site];
            var (layer, kind) = layout[site];
            int width = kind == TransformerSiteKind.FeedForwardHidden ? 4 * model.Width : model.Width;
            int groups = tokens.Share switch { SequenceSharing.Hidden => 1, SequenceSharing.Channel => width, _ => model.Heads };
            int shown = Math.Min(groups, MaxSequenceChannels);
            bool[] cells;
            double kept;
            if (tokens.Apply)
            {
                using var scope = NewDisposeScope();
                using var held = new HeldScalars();
                var mask = SequenceMasks.Render(tokens, 1, length, width, model.Heads, generator, CPU);
                var rows = tokens.Share switch
                {
                    SequenceSharing.Hidden => mask.view(1, length),
                    SequenceSharing.Channel => mask[0].transpose(0, 1), // [C, T]
                    _ => mask.view(model.Heads, length),
                };
                cells = rows.narrow(0, 0, shown).gt(held.Of(0)).contiguous().data<bool>().ToArray();
                kept = mask.gt(held.Of(0)).to_type(float32).mean().item<float>();
            }
            else
            {
                cells = Enumerable.Repeat(true, shown * length).ToArray();
                kept = 1;
            }
            string what = tokens.Share switch
            {
                SequenceSharing.Hidden => "one mask for the hidden vector",
                SequenceSharing.Channel => groups > shown ? $"channels 0-{shown - 1} of {groups} (rows)" : $"{groups} channels (rows)",
                _ => $"{groups} heads (rows)",
            };
            var panel = new PanelDrawing(tokens.Apply ? "" : "off", length, shown, cellWidth, shown == 1 ? 16 : 8, -1, cells);
            var label = $"site {site}  {TransformerSites.Name(layer, kind)}  {length} x {width} (T x C), {what}";
            sites.Add(new SiteDrawing(site, label, tokens.ToCompact(), kept, [panel]));
        }
        var header = $"{model.Name}, {length} positions left to right, pattern {pattern.Hash()}, seed {seed}; black = dropped";
        return Draw(header, sites);
    }

    /// <summary>Each mask site's activation shape for one image, [1, C, H, W], from a forward pass of the target.</summary>
    public static IReadOnlyList<long[]> ConvSiteShapes(TargetSpec target, int channels, int height, int width)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentException($"input {channels}x{height}x{width}: every side must be at least 1");
        // construction draws weights from torch's global generator; holding its lock keeps other builders reproducible
        using var model = TorchRuntime.Seeded(0, () => MaskedTarget.Build(target, channels, 10));
        var shapes = new long[model.Sites.Count][];
        for (int i = 0; i < model.Sites.Count; i++)
        {
            int site = i;
            model.Sites[i].ShapeRecorder = shape => shapes[site] = shape.ToArray();
        }
        model.eval();
        using (no_grad())
        using (var input = zeros(1, channels, height, width))
            model.call(input).Dispose();
        return shapes;
    }

    private sealed record PanelDrawing(string Caption, int Columns, int Rows, int CellWidth, int CellHeight, int Channel, ReadOnlyMemory<bool> Kept);

    private sealed record SiteDrawing(int Site, string Label, string Tokens, double Kept, IReadOnlyList<PanelDrawing> Panels);

    private static MaskSheet Draw(string header, IReadOnlyList<SiteDrawing> sites)
    {
        const int line = BitmapFont.LineHeight;
        // lay out first, so the canvas is exactly as large as its content
        var rows = new List<SheetRow>();
        int y = Margin + line + RowGap / 2, right = Margin + BitmapFont.TextWidth(header);
        var tops = new List<int>();
        foreach (var site in sites)
        {
            tops.Add(y);
            int panelTop = y + 2 * line + 1, x = Margin + 1, tallest = 0;
            var panels = new List<MaskPanel>();
            foreach (var p in site.Panels)
            {
                var panel = new MaskPanel(x, panelTop, p.Columns, p.Rows, p.CellWidth, p.CellHeight, p.Channel);
                panels.Add(panel);
                x += Math.Max(panel.Width, BitmapFont.TextWidth(p.Caption)) + 2 + PanelGap;
                tallest = Math.Max(tallest, panel.Height);
            }
            // x has passed the last panel's right border and a gap
            right = Math.Max(right, Math.Max(x - PanelGap - 1, Margin + BitmapFont.TextWidth(site.Label)));
            right = Math.Max(right, Margin + BitmapFont.TextWidth(TokensLine(site)));
            rows.Add(new SheetRow(site.Site, site.Label, site.Tokens, site.Kept, panels));
            y = panelTop + tallest + 1 + 4 + line + RowGap;
        }
        var canvas = new RgbCanvas(right + Margin, y - RowGap + Margin, Rgb.White);

        canvas.DrawText(Margin, Margin, header, Ink);
        for (int i = 0; i < sites.Count; i++)
        {
            var site = sites[i];
            int top = tops[i];
            canvas.FillRectangle(0, top - RowGap / 2, canvas.Width, 1, Rule);
            canvas.DrawText(Margin, top, site.Label, Ink);
            int bottom = top;
            for (int j = 0; j < site.Panels.Count; j++)
            {
                var p = site.Panels[j];
                var panel = rows[i].Panels[j];
                canvas.DrawText(panel.X - 1, top + line, p.Caption, Faint);
                canvas.DrawBorder(panel.X, panel.Y, panel.Width, panel.Height, Border);
                var kept = p.Kept.Span;
                for (int r = 0; r < p.Rows; r++)
                    for (int c = 0; c < p.Columns; c++)
                        canvas.FillRectangle(panel.X + c * p.CellWidth, panel.Y + r * p.CellHeight, p.CellWidth, p.CellHeight,
                            kept[r * p.Columns + c] ? Kept : Dropped);
                bottom = Math.Max(bottom, panel.Y + panel.Height);
            }
            canvas.DrawText(Margin, bottom + 1 + 4, TokensLine(site), Ink);
        }
        return new MaskSheet(canvas, rows);
    }

    private static string TokensLine(SiteDrawing site) =>
        string.Create(CultureInfo.InvariantCulture, $"{site.Tokens}   kept {site.Kept:0.000}");
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AutoDropout.Core;
using AutoDropout.Training;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout pattern sample|render`: draw a random pattern from a space's default grids, and draw any pattern's
/// masks into a PNG so the tokens can be checked by eye.
/// </summary>
public static partial class PatternCommand
{
    public const string DefaultConvTarget = TargetSpec.Cnn;
    public const string DefaultTransformerTarget = "lm-2-64-4";
    private const int MaxMapSide = 64;
    private const int MaxLength = 1024;

    public static Command Create()
    {
        var pattern = new Command("pattern", "draw a random pattern, or draw a pattern's masks into a PNG");

        var sample = new Command("sample",
            "draw every token uniformly from the space's default grids with System.Random(seed) and print one site per line, or the canonical JSON with --json");
        var space = CliOptions.Text("--space", "conv or transformer (default: the target's space, else conv)", "conv|transformer");
        var sampleTarget = CliOptions.Text("--target", $"the target whose mask sites the pattern fills (default {DefaultConvTarget}, or {DefaultTransformerTarget} for the transformer space)", "cnn|wrn-D-K|lm-L-W-H");
        var sampleSeed = CliOptions.Int("--seed", "seed (default 1)");
        var json = CliOptions.Flag("--json", "print the pattern as JSON");
        foreach (var option in (Option[])[space, sampleTarget, sampleSeed, json]) sample.Add(option);
        sample.SetAction(r => Sample(r.GetValue(space), r.GetValue(sampleTarget), r.GetValue(sampleSeed) ?? 1, r.GetValue(json), r.InvocationConfiguration.Output));
        pattern.Add(sample);

        var render = new Command("render",
            "draw every site's mask for one example (black = dropped) with its tokens underneath. Patterns off the default grids are drawn too; only their structure and site count are checked");
        var text = new Argument<string>("PATTERN")
        {
            Description = "a JSON file (a pattern, or an object with a \"pattern\" or \"best_pattern\" property, as demo --json writes) or a compact pattern in quotes",
        };
        var output = new Option<string>("--out") { Description = "the PNG to write", HelpName = "FILE.png", Required = true };
        var renderTarget = CliOptions.Text("--target", $"the target (default {DefaultConvTarget}, or {DefaultTransformerTarget} for a Transformer pattern)", "cnn|wrn-D-K|lm-L-W-H");
        var renderSeed = CliOptions.Int("--seed", "seed of the random offsets (default 1)");
        var input = CliOptions.Text("--input", "ConvNets: the feature map's shape (default 1x28x28)", "CxHxW");
        var length = CliOptions.Int("--length", "Transformers: the sequence length (default 64)");
        render.Add(text);
        foreach (var option in (Option[])[output, renderTarget, renderSeed, input, length]) render.Add(option);
        render.SetAction(r => Render(r.GetValue(text)!, r.GetValue(output)!, r.GetValue(renderTarget), r.GetValue(renderSeed) ?? 1,
            r.GetValue(input) ?? "1x28x28", r.GetValue(length) ?? 64, r.InvocationConfiguration.Output));
        pattern.Add(render);
        return pattern;
    }

    private static int Sample(string? spaceName, string? targetName, int seed, bool json, TextWriter output)
    {
        if (spaceName is not null and not ("conv" or "transformer"))
            throw new UsageException($"--space: '{spaceName}' is not conv or transformer");
        bool transformer = targetName is not null ? LanguageModelSpec.IsLanguageModelName(targetName) : spaceName == "transformer";
        if (spaceName is not null && spaceName != (transformer ? "transformer" : "conv"))
            throw new UsageException($"--space {spaceName} does not fit --target {targetName}");

        DropoutPattern pattern;
        IReadOnlyList<string>? names = null;
        string target;
        if (transformer)
        {
            var model = LanguageModelSpec.Parse(targetName ?? DefaultTransformerTarget);
            pattern = PatternSampler.Sample(TransformerSearchSpace.Default, model.MaskSites, seed);
            names = TransformerSites.Layout(model.Layers).Select(s => TransformerSites.Name(s.Layer, s.Kind)).ToArray();
            target = model.Name;
        }
        else
        {
            var spec = TargetSpec.Parse(targetName ?? DefaultConvTarget);
            pattern = PatternSampler.Sample(ConvSearchSpace.Default, spec.MaskSites, seed);
            target = spec.Name;
        }

        if (json)
        {
            output.WriteLine(DropoutPatternJsonConverter.Serialize(pattern));
            return ExitCodes.Ok;
        }
        output.WriteLine($"{pattern.Space} pattern {pattern.Hash()} for {target} ({pattern.SiteCount} sites), seed {seed}");
        var compact = pattern switch
        {
            ConvPattern c => c.Sites.Select(s => s.ToCompact()).ToArray(),
            TransformerPattern t => t.Sites.Select(s => s.ToCompact()).ToArray(),
            _ => throw new InvalidOperationException($"unknown pattern type {pattern.GetType().Name}"),
        };
        int nameWidth = names?.Max(n => n.Length) ?? 0;
        for (int i = 0; i < compact.Length; i++)
            output.WriteLine(names is null ? $"{i,3}  {compact[i]}" : $"{i,3}  {names[i].PadRight(nameWidth)}  {compact[i]}");
        return ExitCodes.Ok;
    }

    private static int Render(string patternText, string outPath, string? targetName, int seed, string inputText, int length, TextWriter output)
    {
        if (seed < 0) throw new UsageException($"--seed: {seed} is negative");

        var pattern = ReadPattern(patternText);
        MaskSheet sheet;
        switch (pattern)
        {
            case TransformerPattern transformer:
                {
                    if (targetName is not null && !LanguageModelSpec.IsLanguageModelName(targetName))
                        throw new UsageException($"a Transformer pattern needs a language-model target (lm-L-W-H), not '{targetName}'");
                    if (length is < 1 or > MaxLength) throw new UsageException($"--length: {length} is not in 1..{MaxLength}");
                    var model = LanguageModelSpec.Parse(targetName ?? DefaultTransformerTarget);
                    sheet = MaskSheet.ForTransformer(transformer, model, length, (ulong)seed);
                    break;
                }
            case ConvPattern conv:
                {
                    if (targetName is not null && LanguageModelSpec.IsLanguageModelName(targetName))
                        throw new UsageException($"a ConvNet pattern needs an image target (cnn or wrn-D-K), not '{targetName}'");
                    var target = TargetSpec.Parse(targetName ?? DefaultConvTarget);
                    var (c, h, w) = ParseInput(inputText);
                    sheet = MaskSheet.ForConv(conv, target, c, h, w, (ulong)seed);
                    break;
                }
            default:
                throw new UsageException($"cannot draw a {pattern.Space} pattern");
        }
        sheet.Canvas.Save(outPath);
        output.WriteLine($"wrote {outPath} ({sheet.Canvas.Width} x {sheet.Canvas.Height} pixels, {sheet.Rows.Count} sites)");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// A JSON file (a pattern, or an object whose "pattern" or "best_pattern" holds one, as `demo --json` writes) or
    /// a compact string: Transformer when it uses the sharing words, else ConvNet.
    /// </summary>
    public static DropoutPattern ReadPattern(string text)
    {
        if (File.Exists(text))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(text));
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && !root.TryGetProperty("sites", out _))
                foreach (var name in (string[])["pattern", "best_pattern"])
                    if (root.TryGetProperty(name, out var inner))
                        return inner.ValueKind == JsonValueKind.Object
                            ? DropoutPatternJsonConverter.FromElement(inner)
                            : throw new PatternException($"{text}: \"{name}\" holds no pattern");
            return DropoutPatternJsonConverter.FromElement(root);
        }
        if (text.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new FileNotFoundException($"{text}: no such file");
        return SharingWord().IsMatch(text) ? TransformerPattern.ParseCompact(text) : ConvPattern.ParseCompact(text);
    }

    private static (int Channels, int Height, int Width) ParseInput(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int c)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            && c >= 1 && h >= 1 && w >= 1)
        {
            // every offset's mask is rendered into an (H*W)^2 table, so big maps cost memory quadratically
            if (h > MaxMapSide || w > MaxMapSide) throw new UsageException($"--input {text}: height and width are at most {MaxMapSide}");
            return (c, h, w);
        }
        throw new UsageException($"--input: '{text}' is not CxHxW (e.g. 1x28x28 or 3x32x32)");
    }

    [GeneratedRegex(@"\b(hidden|channel|head)\b")]
    private static partial Regex SharingWord();
}

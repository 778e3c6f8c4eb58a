using System.Text.Json;
using AutoDropout.Core;
using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout evaluate`: trains the target once, with no dropout, a baseline or a pattern, and prints the
/// validation accuracy (or, with --on-test, the test accuracy), to compare a found pattern with hand-made ones.
/// </summary>
public static class EvaluateCommand
{
    public static int Run(Args args)
    {
        var target = TargetSpec.Parse(args.GetOr("target", TargetSpec.Cnn));
        var baseline = args.Get("baseline") is { } b ? BaselineSpec.Parse(b) : null;
        var patternFile = args.Get("pattern");
        int steps = args.GetInt("steps", 80), batch = args.GetInt("batch-size", 128), seed = args.GetInt("seed", 1), threads = args.GetInt("threads", 1);
        double lr = args.GetDouble("lr", 1e-3);
        bool test = args.Flag("on-test");
        var data = args.Get("data");
        var optimizer = OptimizerOptions.From(args, null);
        args.RejectUnknown();
        if (baseline is not null && patternFile is not null) throw new UsageException("give --baseline or --pattern, not both");

        ConvPattern? pattern = null;
        if (patternFile is not null)
        {
            pattern = JsonSerializer.Deserialize<ConvPattern>(File.ReadAllText(patternFile))
                ?? throw new UsageException($"--pattern {patternFile}: empty");
            ConvSearchSpace.Default.Validate(pattern, target.MaskSites);
        }
        set_num_threads(threads);
        var dataset = ImageDatasets.Load(data);
        var (train, validation) = dataset.Train.SplitValidation(0.1, seed);
        using var prepared = new PreparedData(train, test ? dataset.Test : validation, CPU);
        var augmentation = AugmentationOptions.ForDataset(dataset.Name);
        var outcome = TrialRunner.Run(prepared, pattern,
            new TrialPlan(target, steps, batch, lr, seed, Baseline: baseline, Optimizer: optimizer, Augmentation: augmentation), CancellationToken.None);
        var what = baseline?.ToString() ?? (pattern is null ? "no dropout" : $"pattern {pattern.Hash()}");
        switch (outcome)
        {
            case TrialOutcome.Completed c:
                Console.WriteLine($"{target.Name} with {what}, {steps} steps x batch {batch} on {dataset.Source}{Describe(augmentation)}: " +
                                  $"{(test ? "test" : "validation")} accuracy {c.Metrics.ValidationAccuracy:0.0000}, {c.Metrics.ImagesPerSecond:0} img/s, {c.Metrics.WallSeconds:0.0} s");
                return ExitCodes.Ok;
            case TrialOutcome.Failed f:
                Console.Error.WriteLine($"training failed ({f.Reason}): {f.Message}");
                return ExitCodes.Failed;
            default:
                return ExitCodes.Failed;
        }
    }

    private static string Describe(AugmentationOptions augmentation) =>
        augmentation.IsNone ? "" : $" (augmented: pad {augmentation.Pad}{(augmentation.Flip ? ", flip" : "")})";
}

using AutoDropout.Core;
using AutoDropout.Training;
using static TorchSharp.torch;
using AutoDropout.Torch;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout evaluate`: trains the target once, with no dropout, a baseline or a pattern, and prints the
/// validation accuracy (or, with --on-test, the test accuracy), to compare a found pattern with hand-made ones.
/// </summary>
public static class EvaluateCommand
{
    public static int Run(Args args)
    {
        if (LanguageModelSpec.IsLanguageModelName(args.GetOr("target", TargetSpec.Cnn))) return RunLanguageModel(args);
        var target = TargetSpec.Parse(args.GetOr("target", TargetSpec.Cnn));
        var baseline = args.Get("baseline") is { } b ? BaselineSpec.Parse(b) : null;
        var patternFile = args.Get("pattern");
        int steps = args.GetInt("steps", 80), batch = args.GetInt("batch-size", 128), seed = args.GetInt("seed", 1), threads = args.GetInt("threads", 1);
        double? epochs = args.Get("epochs") is null ? null : args.GetDouble("epochs", 1);
        double lr = args.GetDouble("lr", 1e-3);
        bool test = args.Flag("on-test");
        var data = args.Get("data");
        var optimizer = OptimizerOptions.From(args, null);
        args.RejectUnknown();
        if (baseline is not null && patternFile is not null) throw new UsageException("give --baseline or --pattern, not both");

        ConvPattern? pattern = null;
        if (patternFile is not null)
        {
            pattern = PatternCommand.ReadPattern(patternFile) as ConvPattern
                ?? throw new UsageException($"--pattern: expected a ConvNet pattern for {target.Name}");
            ConvSearchSpace.ValidateStructure(pattern, target.MaskSites); // found with any grid, so not checked against the default one
        }
        TorchRuntime.UseThreads(threads);
        var dataset = ImageDatasets.Load(data);
        var (train, validation) = dataset.Train.SplitValidation(0.1, seed);
        using var prepared = new PreparedData(train, test ? dataset.Test : validation, CPU);
        if (epochs is { } e) steps = TrainingBudget.StepsFor(e, prepared.TrainCount, batch);
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
            default:
                return Failed(outcome);
        }
    }

    /// <summary>A language model on a word-level corpus: validation (or test) perplexity and the reward c / perplexity.</summary>
    private static int RunLanguageModel(Args args)
    {
        var model = LanguageModelSpec.Parse(args.GetOr("target", ""));
        var data = args.Get("data") ?? throw new UsageException("a language model needs --data DIR with a word-level corpus (ptb.train.txt, ...)");
        var baseline = args.Get("baseline") is { } b ? BaselineSpec.Parse(b) : null;
        var patternText = args.Get("pattern");
        int steps = args.GetInt("steps", 200), batch = args.GetInt("batch-size", 16), seed = args.GetInt("seed", 1), threads = args.GetInt("threads", 1);
        double? epochs = args.Get("epochs") is null ? null : args.GetDouble("epochs", 1);
        int context = args.GetInt("context", 32);
        double lr = args.GetDouble("lr", 1e-3), scale = args.GetDouble("reward-scale", 1.0);
        bool test = args.Flag("on-test");
        var optimizer = OptimizerOptions.From(args, null);
        args.RejectUnknown();
        if (baseline is not null && patternText is not null) throw new UsageException("give --baseline or --pattern, not both");
        if (baseline is not null && baseline.Kind != "dropout")
            throw new UsageException($"a language model takes the baseline dropout:P, not {baseline.Kind}");

        TransformerPattern? pattern = null;
        if (patternText is not null)
        {
            pattern = PatternCommand.ReadPattern(patternText) as TransformerPattern
                ?? throw new UsageException("--pattern: expected a Transformer pattern for a language model");
            TransformerSearchSpace.ValidateStructure(pattern, model.Layers);
        }
        TorchRuntime.UseThreads(threads);
        var corpus = TextCorpus.Load(data);
        if (test && corpus.Test is null) throw new UsageException($"--on-test: {data} has no test file");
        using var streams = TokenStreams.FromIds(corpus.Train, test ? corpus.Test! : corpus.Validation, corpus.Vocabulary.Count, CPU);
        if (epochs is { } e) steps = TrainingBudget.StepsFor(e, corpus.Train.Length / context, batch);
        var plan = new LanguageModelPlan(model, context, steps, batch, lr, seed, scale, baseline?.Rate, Optimizer: optimizer);
        var what = baseline?.ToString() ?? (pattern is null ? "no dropout" : $"pattern {pattern.Hash()}");
        var outcome = LanguageModelTrial.Run(streams, pattern, plan, CancellationToken.None);
        switch (outcome)
        {
            case LanguageModelCompleted c:
                Console.WriteLine($"{model.Name} with {what}, {steps} steps x {batch} x {context} tokens on {data} ({corpus.Vocabulary.Count} words): " +
                                  $"{(test ? "test" : "validation")} perplexity {c.Metrics.ValidationPerplexity:0.00}, reward {c.Metrics.Reward:0.0000}, " +
                                  $"{c.Metrics.TokensPerSecond:0} tokens/s, {c.Metrics.WallSeconds:0.0} s");
                return ExitCodes.Ok;
            default:
                return Failed(outcome);
        }
    }

    private static int Failed(TrialOutcome outcome)
    {
        Console.Error.WriteLine(outcome is TrialOutcome.Failed f ? $"training failed ({f.Reason}): {f.Message}" : $"training failed: {outcome}");
        return ExitCodes.Failed;
    }

    private static string Describe(AugmentationOptions augmentation) =>
        augmentation.IsNone ? "" : $" (augmented: pad {augmentation.Pad}{(augmentation.Flip ? ", flip" : "")})";
}

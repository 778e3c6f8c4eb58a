using AutoDropout.Core;
using AutoDropout.Torch;
using AutoDropout.Training;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout train`: trains the target once, with no dropout, a baseline or a pattern, and prints the
/// validation accuracy (or, with --on-test, the test accuracy) beside the accuracy on a sample of the training data,
/// to compare a found pattern with hand-made ones. A language model prints its perplexity and reward c / perplexity.
/// A pattern found on another target of the same family (--pattern-from) is mapped by <see cref="PatternTransfer"/>.
/// </summary>
public static class TrainCommand
{
    public static int Run(TrainOptions options)
    {
        var spec = Spec(options);
        TorchRuntime.UseThreads(options.Threads);
        using var data = TrialPlanner.LoadData(spec, TorchRuntime.ParseDevice("cpu"));
        var trial = TrialPlanner.Plan(spec, data);
        var outcome = trial.Run(CancellationToken.None);
        if (outcome is not TrialOutcome.Completed { Metrics: var m })
        {
            Console.Error.WriteLine(outcome is TrialOutcome.Failed f ? $"training failed ({f.Reason.Name()}): {f.Message}" : $"training failed: {outcome}");
            return ExitCodes.Failed;
        }
        var what = spec.Regulariser switch
        {
            BaselinePattern { Baseline.Kind: RegulariserKind.None } => "no dropout",
            BaselinePattern b => b.Baseline.ToString(),
            var pattern => $"pattern {pattern.Hash()}",
        };
        var scored = options.OnTest ? "test" : "validation";
        switch (data)
        {
            case TextTrialData text:
                Console.WriteLine($"{spec.Target} with {what}, {trial.Plan.Steps} steps x {spec.BatchSize} x {spec.TextOrDefault.Context} tokens on {text.Source} ({text.Streams.Vocabulary} words): " +
                                  $"{scored} perplexity {m.ValidationPerplexity:0.00}, reward {m.Reward:0.0000}, " +
                                  $"next-token accuracy: train {m.TrainAccuracy:0.0000}, {scored} {m.ValidationAccuracy:0.0000}, " +
                                  $"{m.ItemsPerSecond:0} tokens/s, {m.WallSeconds:0.0} s");
                break;
            case ImageTrialData images:
                Console.WriteLine($"{spec.Target} with {what}, {trial.Plan.Steps} steps x batch {spec.BatchSize} on {images.Source}{Describe(images.Augmentation)}: " +
                                  $"train accuracy {m.TrainAccuracy:0.0000}, {scored} accuracy {m.ValidationAccuracy:0.0000}, {m.ItemsPerSecond:0} img/s, {m.WallSeconds:0.0} s");
                break;
        }
        return ExitCodes.Ok;
    }

    /// <summary>The trial the options describe; the validation split is seeded like the trial, as before.</summary>
    public static TrialSpec Spec(TrainOptions options)
    {
        if (options.Baseline is not null && options.Pattern is not null) throw new UsageException("give --baseline or --pattern, not both");
        if (options.PatternFrom is not null && options.Pattern is null) throw new UsageException("--pattern-from names where a --pattern was found; give --pattern too");
        bool languageModel = LanguageModelSpec.IsLanguageModelName(options.Target);
        DropoutPattern regulariser = new BaselinePattern(options.Baseline is { } b ? BaselineSpec.Parse(b) : BaselineSpec.None);
        string target;
        if (languageModel)
        {
            var model = LanguageModelSpec.Parse(options.Target);
            target = model.Name;
            if (options.Data is null) throw new UsageException("a language model needs --data DIR with a word-level corpus (ptb.train.txt, ...)");
            if (regulariser is BaselinePattern { Baseline: var baseline } && !baseline.FitsLanguageModels)
                throw new UsageException($"a language model takes the baseline dropout:P, not {baseline.Kind.ToString().ToLowerInvariant()}");
            if (options.Pattern is not null)
            {
                var pattern = ReadPattern(options) as TransformerPattern
                    ?? throw new UsageException("--pattern: expected a Transformer pattern for a language model");
                TransformerSearchSpace.ValidateStructure(pattern, model.Layers);
                regulariser = pattern;
            }
        }
        else
        {
            var conv = TargetSpec.Parse(options.Target);
            target = conv.Name;
            if (options.Pattern is not null)
            {
                var pattern = ReadPattern(options) as ConvPattern
                    ?? throw new UsageException($"--pattern: expected a ConvNet pattern for {conv.Name}");
                ConvSearchSpace.ValidateStructure(pattern, conv.MaskSites); // found with any grid, so not checked against the default one
                regulariser = pattern;
            }
        }
        // defaults by family: an image target trains 80 steps of 128 images, a language model 200 steps of 16 sequences
        return new TrialSpec(target, Dataset: null, options.Data, new TrialBudget(options.Steps ?? (languageModel ? 200 : 80), options.Epochs),
            options.BatchSize ?? (languageModel ? 16 : 128), options.LearningRate, regulariser, ValidationFraction: 0.1,
            SplitSeed: options.Seed, TrialSeed: options.Seed, options.Optimizer,
            languageModel ? new TextOptions(options.Context ?? 32, options.RewardScale ?? 1.0) : null, options.OnTest);
    }

    /// <summary>The --pattern, mapped from the target it was found on when --pattern-from names one.</summary>
    private static DropoutPattern ReadPattern(TrainOptions options)
    {
        var pattern = PatternCommand.ReadPattern(options.Pattern!);
        if (options.PatternFrom is null) return pattern;
        try
        {
            return PatternTransfer.Map(pattern, options.PatternFrom, options.Target);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--pattern-from: {e.Message}");
        }
    }

    private static string Describe(AugmentationOptions augmentation) =>
        augmentation.IsNone ? "" : $" (augmented: pad {augmentation.Pad}{(augmentation.Flip ? ", flip" : "")})";
}

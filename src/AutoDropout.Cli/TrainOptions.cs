using System.CommandLine;
using AutoDropout.Core;

namespace AutoDropout.Cli;

/// <summary>
/// What `autodropout train` was asked for. Null numbers were not given: their defaults depend on the target
/// family (an image target trains 80 steps of 128 images, a language model 200 steps of 16 sequences).
/// </summary>
public sealed record TrainOptions(
    string Target = TargetSpec.Cnn,
    string? Baseline = null,
    string? Pattern = null,
    int? Steps = null,
    int? BatchSize = null,
    int Seed = 1,
    int Threads = 1,
    double? Epochs = null,
    double LearningRate = 1e-3,
    bool OnTest = false,
    string? Data = null,
    OptimizerSettings? Optimizer = null,
    int? Context = null,
    double? RewardScale = null,
    string? PatternFrom = null)
{
    private static readonly TrainOptions Defaults = new();

    /// <summary>The `train` verb: it reads its options into an <see cref="TrainOptions"/> and runs <see cref="TrainCommand.Run"/>.</summary>
    public static Command CreateCommand() => new Verb();

    /// <summary>The options a parsed `train` command line asks for.</summary>
    public static TrainOptions Read(ParseResult result) => ((Verb)result.CommandResult.Command).Read(result);

    private sealed class Verb : Command
    {
        private readonly Option<string?> _target = CliOptions.Text("--target", $"the target network (default {Defaults.Target})", "cnn|wrn-D-K|lm-L-W-H");
        private readonly Option<string?> _baseline = CliOptions.Text("--baseline", "a hand-made regulariser: dropout:P, spatial:P or dropblock:SIZE:KEEP, at every mask site or, with @late, only in the last two groups of a WRN (the cnn's last site); language models: dropout:P", "SPEC");
        private readonly Option<string?> _pattern = CliOptions.Text("--pattern", "a pattern: a JSON file (e.g. the \"best_pattern\" of `demo --json`) or a compact pattern in quotes", "FILE|COMPACT");
        private readonly Option<string?> _patternFrom = CliOptions.Text("--pattern-from", "the target the pattern was found on (default: --target); it is mapped to --target by stage or layer, see docs/patterns.md", "TARGET");
        private readonly Option<int?> _steps = CliOptions.Int("--steps", "training steps (default 80; language models 200)");
        private readonly Option<double?> _epochs = CliOptions.Double("--epochs", "passes over the training split, instead of --steps", "E");
        private readonly Option<int?> _batch = CliOptions.Int("--batch-size", "batch size (default 128; language models 16)");
        private readonly Option<int?> _seed = CliOptions.Int("--seed", $"seed (default {Defaults.Seed})");
        private readonly Option<int?> _threads = CliOptions.Int("--threads", $"torch threads (default {Defaults.Threads})");
        private readonly Option<double?> _lr = CliOptions.Double("--lr", $"learning rate (default {Defaults.LearningRate})");
        private readonly Option<bool> _onTest = CliOptions.Flag("--on-test", "evaluate on the test split instead of the validation split");
        private readonly Option<string?> _data = CliOptions.Text("--data", "Fashion-MNIST/MNIST IDX files or CIFAR-10 binary batches (default: the bundled subset); a word-level corpus for language models", "DIR");
        private readonly Option<int?> _context = CliOptions.Int("--context", "language models: tokens per sequence (default 32)");
        private readonly Option<double?> _scale = CliOptions.Double("--reward-scale", "language models: reward = C / validation perplexity (default 1)", "C");
        private readonly OptimizerOptions _optimizer = new();

        public Verb() : base("train", """
            train the target once with no dropout, a baseline or a pattern and print the validation accuracy
            (language models: perplexity and reward), to compare a found pattern with hand-made ones
            """)
        {
            foreach (var option in (Option[])[_target, _baseline, _pattern, _patternFrom, _steps, _epochs, _batch, _seed, _threads, _lr, _onTest, _data, _context, _scale])
                Add(option);
            _optimizer.AddTo(this);
            // an image target does not read these: naming them is a mistake, as any unknown option is
            Validators.Add(r =>
            {
                if (LanguageModelSpec.IsLanguageModelName(r.GetValue(_target) ?? Defaults.Target)) return;
                foreach (var lmOnly in (Option[])[_context, _scale])
                    if (r.GetResult(lmOnly) is not null) r.AddError($"{lmOnly.Name} applies to language models (--target lm-L-W-H) only");
            });
            SetAction(result => TrainCommand.Run(Read(result)));
        }

        public TrainOptions Read(ParseResult result) => new(
            result.GetValue(_target) ?? Defaults.Target,
            result.GetValue(_baseline),
            result.GetValue(_pattern),
            result.GetValue(_steps),
            result.GetValue(_batch),
            result.GetValue(_seed) ?? Defaults.Seed,
            result.GetValue(_threads) ?? Defaults.Threads,
            result.GetValue(_epochs),
            result.GetValue(_lr) ?? Defaults.LearningRate,
            result.GetValue(_onTest),
            result.GetValue(_data),
            _optimizer.From(result, null),
            result.GetValue(_context),
            result.GetValue(_scale),
            result.GetValue(_patternFrom));
    }
}

using System.CommandLine;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Training;

namespace AutoDropout.Cli;

/// <summary>
/// The options that make a search spec, shared by `search start` and `demo`. None has a parser default: an option
/// that is not given leaves the --spec file's value, or the spec's default, in place.
/// </summary>
public sealed class SpecOptions
{
    private static readonly SearchSpec Defaults = new("defaults");

    public Option<string?> Spec { get; } = CliOptions.Text("--spec",
        "a JSON search spec (snake_case fields as `search show --json` prints them, e.g. \"grid\" or \"policy\"); options given too override it", "FILE");
    public Option<string?> Target { get; } = CliOptions.Text("--target", $"the target network (default {Defaults.Target})", "cnn|wrn-D-K|lm-L-W-H");
    public Option<string?> Space { get; } = CliOptions.Text("--space", "the pattern space (default: transformer for lm-* targets, else conv)", "conv|transformer");
    public Option<string?> Dataset { get; } = CliOptions.Text("--dataset",
        $"the dataset's kind (default {Defaults.Dataset}; {SearchSpec.CifarTen} when --data holds its batches, {SearchSpec.TextDataset} for lm-* targets)", "NAME");
    public Option<string?> Data { get; } = CliOptions.Text("--data",
        "a data directory every trainer can read: Fashion-MNIST/MNIST IDX files, CIFAR-10 binary batches or a word-level corpus", "DIR");
    public Option<int?> Context { get; } = CliOptions.Int("--context", $"language models: tokens per sequence (default {new TextOptions().Context})");
    public Option<double?> RewardScale { get; } = CliOptions.Double("--reward-scale", $"language models: reward = C / validation perplexity (default {new TextOptions().RewardScale})", "C");
    public Option<int?> Trials { get; } = CliOptions.Int("--trials", $"trials to run (default {Defaults.Trials})");
    public Option<int?> Steps { get; } = CliOptions.Int("--steps", $"training steps per trial (default {Defaults.TrainSteps})");
    public Option<double?> Epochs { get; } = CliOptions.Double("--epochs", "a trial's budget in passes over the training split, instead of --steps", "E");
    public Option<string?> Baselines { get; } = CliOptions.Text("--baselines",
        "hand-made regularisers trained first as reference trials; each at every mask site, or with @late only in the last two groups of a WRN (the cnn's last site), as DropBlock was published", "dropout:0.1,dropblock:3:0.9@late");
    public Option<int?> BatchSize { get; } = CliOptions.Int("--batch-size", $"batch size (default {Defaults.BatchSize})");
    public Option<double?> LearningRate { get; } = CliOptions.Double("--lr", $"learning rate (default {Defaults.LearningRate})");
    public Option<long?> Seed { get; } = CliOptions.Long("--seed", $"the search's seed (default {Defaults.Seed})");
    public Option<string?> Policy { get; } = CliOptions.Text("--policy",
        $"who writes the patterns: {PolicyOptions.Reinforce} (the learned controller, default) or {PolicyOptions.Random} (uniform samples: the control to compare with)",
        $"{PolicyOptions.Reinforce}|{PolicyOptions.Random}");
    public Option<int?> PolicyBatch { get; } = CliOptions.Int("--policy-batch", $"results per policy update (default {Defaults.PolicyBatch})");
    public Option<int?> LeaseSeconds { get; } = CliOptions.Int("--lease-seconds", $"a trainer's lease on a trial (default {Defaults.LeaseSeconds})");
    public OptimizerOptions Optimizer { get; } = new();

    public void AddTo(Command command)
    {
        foreach (var option in (Option[])[Spec, Target, Space, Dataset, Data, Context, RewardScale, Trials, Steps, Epochs, Baselines, BatchSize, LearningRate, Seed, Policy, PolicyBatch, LeaseSeconds])
            command.Add(option);
        Optimizer.AddTo(command);
    }

    /// <summary>A search spec from the options, on top of the --spec file or of the defaults.</summary>
    public SearchSpec Read(ParseResult result, string name)
    {
        var defaults = new SearchSpec(name);
        if (result.GetValue(Spec) is { } file)
        {
            try { defaults = SpecInput.ReadSearchSpec(File.ReadAllText(file)) with { Name = name }; }
            catch (FormatException e) { throw new UsageException($"--spec {file}: {e.Message}"); }
            catch (IOException e) { throw new UsageException($"--spec {file}: {e.Message}"); }
        }
        var target = result.GetValue(Target) ?? defaults.Target;
        // a language-model target implies the Transformer space and a text corpus unless said otherwise
        bool languageModel = LanguageModelSpec.IsLanguageModelName(target);
        var data = result.GetValue(Data);
        var (context, scale) = (result.GetValue(Context), result.GetValue(RewardScale));
        var text = defaults.TextOrDefault;
        var spec = defaults with
        {
            Target = target,
            Space = result.GetValue(Space) ?? (languageModel ? SearchSpec.TransformerSpace : defaults.Space),
            Dataset = result.GetValue(Dataset) ?? DefaultDataset(defaults, languageModel, data),
            Text = context is null && scale is null
                ? defaults.Text
                : text with { Context = context ?? text.Context, RewardScale = scale ?? text.RewardScale },
            DataDirectory = data ?? defaults.DataDirectory,
            Trials = result.GetValue(Trials) ?? defaults.Trials,
            TrainSteps = result.GetValue(Steps) ?? defaults.TrainSteps,
            TrainEpochs = result.GetValue(Epochs) ?? defaults.TrainEpochs,
            Baselines = result.GetValue(Baselines) is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : defaults.Baselines,
            BatchSize = result.GetValue(BatchSize) ?? defaults.BatchSize,
            LearningRate = result.GetValue(LearningRate) ?? defaults.LearningRate,
            Seed = result.GetValue(Seed) ?? defaults.Seed,
            Policy = result.GetValue(Policy) is { } kind ? defaults.PolicyOrDefault with { Kind = kind } : defaults.Policy,
            PolicyBatch = result.GetValue(PolicyBatch) ?? defaults.PolicyBatch,
            LeaseSeconds = result.GetValue(LeaseSeconds) ?? defaults.LeaseSeconds,
            Optimizer = Optimizer.From(result, defaults.Optimizer),
        };
        try { spec.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return spec;
    }

    /// <summary>
    /// Refuses (a usage error, exit 2) a spec whose data directory cannot be trained on here, naming the file, before
    /// anything is persisted or started: headers and sizes only (<see cref="DataCheck"/>).
    /// </summary>
    /// <param name="hint">What to add for the operator, e.g. how to skip the check.</param>
    public static void CheckData(SearchSpec spec, string hint = "")
    {
        if (DataCheck.Problem(spec.DataDirectory, spec.Dataset) is { } problem)
            throw new UsageException($"data check: {problem}{hint}", showHelp: false);
    }

    /// <summary>Text for language models; CIFAR-10 when --data names a local directory that holds its batches.</summary>
    private static string DefaultDataset(SearchSpec defaults, bool languageModel, string? data)
    {
        if (defaults.Dataset != SearchSpec.FashionMnist) return defaults.Dataset; // a spec file said so
        if (languageModel) return SearchSpec.TextDataset;
        return data is not null && Directory.Exists(data) && Cifar10.FindBatches(data) is not null ? SearchSpec.CifarTen : defaults.Dataset;
    }
}

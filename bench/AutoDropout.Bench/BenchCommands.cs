using System.CommandLine;
using System.CommandLine.Parsing;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;

namespace AutoDropout.Bench;

/// <summary>
/// The `bench` command and its verbs. Benchmarks print figures and ratios; they are not tests. The host (the
/// `autodropout` executable) adds this command to its own; it never needs to know the verbs.
/// </summary>
public static class BenchCommands
{
    internal const int Ok = 0, Failed = 1;

    public static Command Create()
    {
        var bench = new Command("bench", "Measure training steps, the trial loop, memory over many trials, or the controller. " +
                                         "Figures and ratios, not pass/fail tests: run on an otherwise idle machine.");
        bench.Subcommands.Add(StepOrTrial("step", step: true,
            "One training step of the image target with no dropout, with nn.Dropout(0.1) at every mask site, and with an " +
            "AutoDropout pattern at every site; five alternating rounds, medians and ratios, and the masks' share of the step."));
        bench.Subcommands.Add(StepOrTrial("trial", step: false,
            "The trial loop against a bare forward+backward loop over the same model and batches, in images (or tokens, for " +
            "lm-L-W-H on random ids over --vocabulary words) per second; aim >= 0.95."));
        bench.Subcommands.Add(Soak());
        bench.Subcommands.Add(Controller());
        return bench;
    }

    private static Option<string> Target(string fallback, string description) => new("--target")
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        Validators = { result => CheckTarget(result, result.GetValueOrDefault<string>()) },
    };

    private static void CheckTarget(OptionResult result, string name)
    {
        try
        {
            if (LanguageModelSpec.IsLanguageModelName(name)) LanguageModelSpec.Parse(name);
            else TargetSpec.Parse(name);
        }
        catch (ArgumentException e) { result.AddError(e.Message); }
    }

    private static Option<int> Positive(string name, int fallback, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        Validators = { result => { if (result.GetValueOrDefault<int>() < 1) result.AddError($"{name} must be at least 1"); } },
    };

    private static Option<int?> PositiveOrFamilyDefault(string name, string description) => new(name)
    {
        Description = description,
        Validators = { result => { if (result.GetValueOrDefault<int?>() is < 1) result.AddError($"{name} must be at least 1"); } },
    };

    private static Command StepOrTrial(string name, bool step, string description)
    {
        var target = Target(TargetSpec.Cnn, "cnn or wrn-D-K; lm-L-W-H measures the language-model trial loop");
        var batch = PositiveOrFamilyDefault("--batch-size", "examples a step (default 128 images; 16 rows for language models)");
        var steps = PositiveOrFamilyDefault("--steps", "timed steps (default 30; 60 for language models)");
        var threads = Positive("--threads", 1, "torch threads");
        var data = new Option<string?>("--data")
        {
            Description = "image data directory in any format of data/README.md (default: the bundled Fashion-MNIST subset)",
        };
        var context = Positive("--context", 32, "language models: tokens a window");
        var vocabulary = Positive("--vocabulary", 10000, "language models: size of the random vocabulary");
        var command = new Command(name, description) { target, batch, steps, threads, data, context, vocabulary };
        command.Validators.Add(result =>
        {
            bool languageModel = LanguageModelSpec.IsLanguageModelName(result.GetValue(target) ?? "");
            foreach (var option in languageModel ? new Option[] { data } : [context, vocabulary])
                if (result.GetResult(option) is { Implicit: false })
                    result.AddError($"{option.Name} does not apply to {(languageModel ? "language models" : "image targets")}");
        });
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(target)!;
            if (LanguageModelSpec.IsLanguageModelName(name))
                return TrainingBenchmarks.LanguageModel(LanguageModelSpec.Parse(name), parsed.GetValue(batch) ?? 16, parsed.GetValue(steps) ?? 60,
                    parsed.GetValue(context), parsed.GetValue(threads), parsed.GetValue(vocabulary));
            return TrainingBenchmarks.StepOrTrial(step, TargetSpec.Parse(name), parsed.GetValue(batch) ?? 128, parsed.GetValue(steps) ?? 30,
                parsed.GetValue(threads), parsed.GetValue(data) ?? "embedded");
        });
        return command;
    }

    private static Command Soak()
    {
        var trials = Positive("--trials", 100, "trials to run");
        var steps = Positive("--steps", 5, "training steps per trial");
        var batch = Positive("--batch-size", 64, "images a step");
        var target = Target(TargetSpec.Cnn, "cnn or wrn-D-K");
        var noTrim = new Option<bool>("--no-trim") { Description = "do not give freed native memory back after each trial, to see why trainers do" };
        var command = new Command("soak",
            "Many short trials in one process, as a trainer runs them, each with a different random pattern; resident memory " +
            "after trial 10 and after the last, and their ratio (aim <= 1.05).") { trials, steps, batch, target, noTrim };
        target.Validators.Add(result =>
        {
            if (LanguageModelSpec.IsLanguageModelName(result.GetValueOrDefault<string>())) result.AddError("soak trains image targets: cnn or wrn-D-K");
        });
        command.SetAction(parsed => TrainingBenchmarks.Soak(TargetSpec.Parse(parsed.GetValue(target)!), parsed.GetValue(trials),
            parsed.GetValue(steps), parsed.GetValue(batch), trim: !parsed.GetValue(noTrim)));
        return command;
    }

    private static Command Controller()
    {
        var trials = Positive("--trials", 10_000, "trials to write and recover");
        var target = Target(TargetSpec.Cnn, "cnn or wrn-D-K: how many tokens a pattern has");
        var persistence = new Option<string>("--persistence") { Description = "journal back-end", DefaultValueFactory = _ => "sqlite" };
        persistence.AcceptOnlyFromAmong("sqlite", "postgres");
        var db = new Option<string?>("--db") { Description = "SQLite file or PostgreSQL connection string (default: a temporary SQLite file)" };
        var command = new Command("controller",
            "Sampling and updating the policy, then writing and recovering a search of many trials (propose, lease, complete) " +
            "from snapshot + journal tail.") { trials, target, persistence, db };
        target.Validators.Add(result =>
        {
            if (LanguageModelSpec.IsLanguageModelName(result.GetValueOrDefault<string>())) result.AddError("the controller benchmark searches the ConvNet space: cnn or wrn-D-K");
        });
        command.SetAction((parsed, _) => ControllerBenchmark.Run(TargetSpec.Parse(parsed.GetValue(target)!), parsed.GetValue(trials),
            parsed.GetValue(persistence) == "postgres" ? PersistenceBackend.Postgres : PersistenceBackend.Sqlite, parsed.GetValue(db)));
        return command;
    }
}

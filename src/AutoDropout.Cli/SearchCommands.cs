using System.Globalization;
using System.Text.Json;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Training;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>`autodropout [--endpoint host:port] search|cluster ...`: the operator's palettes.</summary>
public static class SearchCommands
{
    public static async Task<int> Run(Args args)
    {
        var endpoint = args.GetOr("endpoint", "127.0.0.1:9110", "AUTODROPOUT_ENDPOINT");
        bool json = args.Flag("json");
        using var client = new ControlClient(endpoint, args.Get("token") ?? Tokens.Load());
        var palette = args.Positional[0];
        var verb = args.Positional.ElementAtOrDefault(1) ?? throw new UsageException($"{palette} needs a verb");
        string Name() => args.Positional.ElementAtOrDefault(2) ?? args.Get("name") ?? throw new UsageException($"{palette} {verb} needs a search name");

        switch (palette, verb)
        {
            case ("cluster", "show"):
                {
                    args.RejectUnknown();
                    var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
                    if (json) { Console.WriteLine(JsonSerializer.Serialize(view, SpecJsonContext.Default.ClusterView)); return ExitCodes.Ok; }
                    Console.WriteLine($"answered by {view.Self}");
                    Table.Print(["address", "status", "roles", "reachable", "leader"],
                        view.Members.Select(m => new[] { m.Address, m.Status, string.Join(",", m.Roles), m.Unreachable ? "no" : "yes", m.Leader ? "*" : "" }));
                    return ExitCodes.Ok;
                }
            case ("search", "start"):
                {
                    var spec = SpecFrom(args, Name());
                    args.RejectUnknown();
                    var reply = await client.Post("v1/searches", ControlClient.SpecJson(spec), MessageJsonContext.Default.CommandAccepted);
                    Console.WriteLine(json ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
                    return ExitCodes.Ok;
                }
            case ("search", "list"):
                {
                    args.RejectUnknown();
                    var list = await client.Get("v1/searches", MessageJsonContext.Default.SearchList);
                    if (json) { Console.WriteLine(JsonSerializer.Serialize(list, MessageJsonContext.Default.SearchList)); return ExitCodes.Ok; }
                    Table.Print(["search", "status", "done", "failed", "running", "policy", "best"],
                        list.Searches.Select(s => new[] { s.Name, s.Status.Name(), $"{s.Completed}/{s.Trials}", s.Failed.ToString(), s.Running.ToString(), $"v{s.PolicyVersion}", Format(s.BestReward) }));
                    return ExitCodes.Ok;
                }
            case ("search", "show"):
                {
                    var name = Name();
                    args.RejectUnknown();
                    var details = await client.Get($"v1/searches/{Uri.EscapeDataString(name)}", MessageJsonContext.Default.SearchDetails);
                    if (json) Console.WriteLine(JsonSerializer.Serialize(details, MessageJsonContext.Default.SearchDetails));
                    else PrintDetails(details);
                    return ExitCodes.Ok;
                }
            case ("search", "pause" or "resume" or "stop"):
                {
                    var name = Name();
                    args.RejectUnknown();
                    var reply = await client.Post($"v1/searches/{Uri.EscapeDataString(name)}/{verb}", null, MessageJsonContext.Default.CommandAccepted);
                    Console.WriteLine(json ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
                    return ExitCodes.Ok;
                }
            case ("search", "extend"):
                {
                    var name = Name();
                    int more = args.GetInt("trials", 0);
                    args.RejectUnknown();
                    if (more <= 0) throw new UsageException("search extend needs --trials N (N >= 1)");
                    var reply = await client.Post($"v1/searches/{Uri.EscapeDataString(name)}/extend", $"{{\"trials\": {more}}}", MessageJsonContext.Default.CommandAccepted);
                    Console.WriteLine(json ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
                    return ExitCodes.Ok;
                }
            default:
                throw new UsageException($"unknown command: {palette} {verb}");
        }
    }

    /// <summary>
    /// A search spec from options, on top of a JSON spec file (--spec FILE, snake_case fields as in `search show
    /// --json`, e.g. to set "grid" or "policy") or of the defaults.
    /// </summary>
    public static SearchSpec SpecFrom(Args args, string name)
    {
        var defaults = new SearchSpec(name);
        if (args.Get("spec") is { } file)
        {
            try
            {
                defaults = (JsonSerializer.Deserialize(File.ReadAllText(file), SpecJsonContext.Default.SearchSpec)
                    ?? throw new UsageException($"--spec {file}: empty")) with { Name = name };
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                throw new UsageException($"--spec {file}: {e.Message}");
            }
        }
        var target = args.GetOr("target", defaults.Target);
        // a language-model target implies the Transformer space and a text corpus unless said otherwise
        bool languageModel = LanguageModelSpec.IsLanguageModelName(target);
        var space = args.GetOr("space", languageModel ? SearchSpec.TransformerSpace : defaults.Space);
        var text = defaults.TextOrDefault;
        var spec = defaults with
        {
            Target = target,
            Space = space,
            Dataset = args.GetOr("dataset", DefaultDataset(defaults, languageModel, args.Get("data"))),
            Text = args.Get("context") is null && args.Get("reward-scale") is null
                ? defaults.Text
                : text with { Context = args.GetInt("context", text.Context), RewardScale = args.GetDouble("reward-scale", text.RewardScale) },
            DataDirectory = args.Get("data") ?? defaults.DataDirectory,
            Trials = args.GetInt("trials", defaults.Trials),
            TrainSteps = args.GetInt("steps", defaults.TrainSteps),
            TrainEpochs = args.Get("epochs") is null ? defaults.TrainEpochs : args.GetDouble("epochs", 1),
            Baselines = args.Get("baselines") is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : defaults.Baselines,
            BatchSize = args.GetInt("batch-size", defaults.BatchSize),
            LearningRate = args.GetDouble("lr", defaults.LearningRate),
            Seed = args.GetInt("seed", (int)defaults.Seed),
            PolicyBatch = args.GetInt("policy-batch", defaults.PolicyBatch),
            LeaseSeconds = args.GetInt("lease-seconds", defaults.LeaseSeconds),
            Optimizer = OptimizerOptions.From(args, defaults.Optimizer),
        };
        try { spec.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return spec;
    }

    /// <summary>Text for language models; CIFAR-10 when --data names a local directory that holds its batches.</summary>
    private static string DefaultDataset(SearchSpec defaults, bool languageModel, string? data)
    {
        if (defaults.Dataset != SearchSpec.FashionMnist) return defaults.Dataset; // a spec file said so
        if (languageModel) return SearchSpec.TextDataset;
        return data is not null && Directory.Exists(data) && Cifar10.FindBatches(data) is not null ? SearchSpec.CifarTen : defaults.Dataset;
    }

    public static void PrintDetails(SearchDetails d)
    {
        var s = d.Summary;
        Console.WriteLine($"search {s.Name}: {s.Status.Name()}, {s.Completed}/{s.Trials} completed, {s.Failed} failed, {s.Running} running; " +
                          $"policy v{s.PolicyVersion} (state {d.PolicyHash}), baseline {Format(d.Baseline)}");
        var optimizer = d.Spec.Optimizer ?? OptimizerSettings.Default;
        var budget = d.Spec.TrainEpochs is { } epochs ? $"{epochs} epochs" : $"{d.Spec.TrainSteps} steps";
        Console.WriteLine($"target {d.Spec.Target}, {budget} x batch {d.Spec.BatchSize}, " +
                          $"{optimizer.Kind} lr {d.Spec.LearningRate} ({optimizer.Schedule}, weight decay {optimizer.WeightDecay}), seed {d.Spec.Seed}");
        PrintTrials(d.Trials);
        if (d.BestPattern is not null)
            Console.WriteLine($"best: reward {Format(s.BestReward)}, pattern {d.BestPattern.Hash()}: {d.BestPattern.ToCompact()}");
        var references = d.Trials.Where(t => t.PatternCompact.StartsWith("baseline ", StringComparison.Ordinal)).ToList();
        if (references.Count > 0)
            Console.WriteLine("baselines (same budget): " + string.Join(", ", references.Select(t =>
                $"{t.PatternCompact["baseline ".Length..]} {(t.Reward is { } r && t.Status == TrialStatus.Completed ? Format(r) : t.Status.Name())}")));
    }

    public static void PrintTrials(IEnumerable<TrialView> trials) =>
        Table.Print(["trial", "status", "reward", "policy", "stale", "pattern"],
            trials.Select(t => new[]
            {
                t.TrialId.ToString(CultureInfo.InvariantCulture),
                t.FailureReason is { } reason ? $"{t.Status.Name()} ({reason.Name()})"
                    : t.Progress is { } p ? $"{t.Status.Name()} {p.Step}/{p.Steps}"
                    : t.Status.Name(),
                Format(t.Reward), $"v{t.PolicyVersion}", t.Staleness?.ToString(CultureInfo.InvariantCulture) ?? "-", t.PatternCompact,
            }));

    public static string Format(double? value) => value is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-";
}

public static class Table
{
    public static void Print(string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        Console.WriteLine(Line(headers));
        Console.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        foreach (var row in all) Console.WriteLine(Line(row));
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>`autodropout [--endpoint host:port] search|cluster ...`: the operator's palettes.</summary>
public static class SearchCommands
{
    public static Command Create()
    {
        var endpoint = new EndpointOptions();
        var search = new Command("search", "start, watch and steer searches");
        endpoint.AddTo(search);
        search.Add(Start(endpoint));
        search.Add(List(endpoint));
        search.Add(Show(endpoint));
        foreach (var (verb, does) in (ReadOnlySpan<(string, string)>)[("pause", "pause a search (running trials go back to the queue)"),
                     ("resume", "resume a paused search"), ("stop", "stop a search for good (running trials are cancelled)")])
            search.Add(Control(endpoint, verb, does));
        search.Add(Extend(endpoint));
        search.Add(Delete(endpoint));
        return search;
    }

    public static Command CreateCluster()
    {
        var endpoint = new EndpointOptions();
        var cluster = new Command("cluster", "the cluster's members");
        endpoint.AddTo(cluster);
        var show = new Command("show", "members, status, roles, version, reachability, leader");
        show.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(JsonSerializer.Serialize(view, SpecJsonContext.Default.ClusterView)); return ExitCodes.Ok; }
            Console.WriteLine($"answered by {view.Self}");
            Table.Print(["address", "status", "roles", "version", "reachable", "leader"],
                view.Members.Select(m => new[] { m.Address, m.Status, string.Join(",", m.Roles), m.Version, m.Unreachable ? "no" : "yes", m.Leader ? "*" : "" }));
            Console.WriteLine($"Count: {view.Members.Count} nodes");
            return ExitCodes.Ok;
        });
        cluster.Add(show);
        return cluster;
    }

    private static ControlClient Client(EndpointOptions endpoint, ParseResult result) => endpoint.Client(result);

    /// <summary>A search verb: its NAME argument or, as before, --name.</summary>
    private class SearchVerb : Command
    {
        private readonly Argument<string?> _name = CliOptions.OptionalName("the search's name");
        private readonly Option<string?> _nameOption = CliOptions.Text("--name", "the search's name, instead of NAME");

        public SearchVerb(string name, string description) : base(name, description)
        {
            Add(_name);
            Add(_nameOption);
            Validators.Add(r =>
            {
                if (r.GetValue(_name) is null && r.GetValue(_nameOption) is null) r.AddError($"search {name} needs a search name");
            });
        }

        public string SearchName(ParseResult result) => result.GetValue(_name) ?? result.GetValue(_nameOption)!;
    }

    private sealed class StartVerb : SearchVerb
    {
        public StartVerb() : base("start", "start a search (ConvNet space, or the Transformer space for an lm-L-W-H target)")
        {
            Spec.AddTo(this);
            Add(NoDataCheck);
        }

        public SpecOptions Spec { get; } = new();

        public Option<bool> NoDataCheck { get; } = CliOptions.Flag("--no-data-check",
            "do not check --data here: the trainers read it at that path on other hosts, and this one does not have it");
    }

    /// <summary>The spec a parsed `search start` command line asks for.</summary>
    public static SearchSpec StartSpec(ParseResult result)
    {
        var start = (StartVerb)result.CommandResult.Command;
        return start.Spec.Read(result, start.SearchName(result));
    }

    private static Command Start(EndpointOptions endpoint)
    {
        var command = new StartVerb();
        command.SetAction(async (result, _) =>
        {
            var searchSpec = StartSpec(result);
            // trainers read the data at the same path: checked here, unless this host does not have it
            if (!result.GetValue(command.NoDataCheck))
                SpecOptions.CheckData(searchSpec, " (--no-data-check skips this check when only the trainers' hosts have the data)");
            using var client = Client(endpoint, result);
            var reply = await client.Post("v1/searches", ControlClient.SpecJson(searchSpec), MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(EndpointOptions endpoint)
    {
        var command = new Command("list", "all searches");
        command.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var list = await client.Get("v1/searches", MessageJsonContext.Default.SearchList);
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(JsonSerializer.Serialize(list, MessageJsonContext.Default.SearchList)); return ExitCodes.Ok; }
            Table.Print(["search", "status", "done", "failed", "running", "policy", "best"],
                list.Searches.Select(s => new[] { s.Name, (s.Problem ?? s.PauseReason) is { } p ? $"{s.Status.Name()}: {p}" : s.Status.Name(), $"{s.Completed}/{s.Trials}", s.Failed.ToString(CultureInfo.InvariantCulture), s.Running.ToString(CultureInfo.InvariantCulture), $"v{s.PolicyVersion}", Format(s.BestReward) }));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(EndpointOptions endpoint)
    {
        var command = new SearchVerb("show", "a search, its trials and its best pattern");
        command.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var details = await client.Get($"v1/searches/{Uri.EscapeDataString(command.SearchName(result))}", MessageJsonContext.Default.SearchDetails);
            if (result.GetValue(endpoint.Json)) Console.WriteLine(JsonSerializer.Serialize(details, MessageJsonContext.Default.SearchDetails));
            else PrintDetails(details);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Control(EndpointOptions endpoint, string verb, string description)
    {
        var command = new SearchVerb(verb, description);
        command.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var reply = await client.Post($"v1/searches/{Uri.EscapeDataString(command.SearchName(result))}/{verb}", null, MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Extend(EndpointOptions endpoint)
    {
        var command = new SearchVerb("extend", "add trials to a search (a completed search runs again)");
        var trials = CliOptions.Int("--trials", "how many trials to add");
        command.Add(trials);
        command.SetAction(async (result, _) =>
        {
            int more = result.GetValue(trials) ?? 0;
            if (more <= 0) throw new UsageException("search extend needs --trials N (N >= 1)");
            using var client = Client(endpoint, result);
            var reply = await client.Post($"v1/searches/{Uri.EscapeDataString(command.SearchName(result))}/extend", $"{{\"trials\": {more}}}", MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Delete(EndpointOptions endpoint)
    {
        var command = new SearchVerb("delete", "delete a stopped or completed search and its journal; its name can be used again");
        command.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var reply = await client.Delete($"v1/searches/{Uri.EscapeDataString(command.SearchName(result))}", MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static void PrintDetails(SearchDetails d)
    {
        var s = d.Summary;
        Console.WriteLine($"search {s.Name}: {s.Status.Name()}, {s.Completed}/{s.Trials} completed, {s.Failed} failed, {s.Running} running; " +
                          $"policy v{s.PolicyVersion} (state {d.PolicyHash}), baseline {Format(d.Baseline)}");
        if (s.PauseReason is { } why) Console.WriteLine($"paused itself: {why}; `search resume {s.Name}` once the cause is fixed");
        var optimizer = d.Spec.Optimizer ?? OptimizerSettings.Default;
        var budget = d.Spec.TrainEpochs is { } epochs ? $"{epochs} epochs" : $"{d.Spec.TrainSteps} steps";
        Console.WriteLine($"target {d.Spec.Target}, {budget} x batch {d.Spec.BatchSize}, " +
                          $"{optimizer.Kind} lr {d.Spec.LearningRate} ({optimizer.Schedule}, weight decay {optimizer.WeightDecay}), seed {d.Spec.Seed}");
        PrintTrials(d.Trials);
        PrintFailures(d.Trials);
        if (d.BestPattern is not null)
            Console.WriteLine($"best: reward {Format(s.BestReward)}, pattern {d.BestPattern.Hash()}: {d.BestPattern.ToCompact()}");
        var references = d.Trials.Where(t => t.Baseline is not null).ToList();
        if (references.Count > 0)
            Console.WriteLine("baselines (same budget): " + string.Join(", ", references.Select(t =>
                $"{t.Baseline} {(t.Reward is { } r && t.Status == TrialStatus.Completed ? Format(r) : t.Status.Name())}")));
    }

    public static void PrintTrials(IEnumerable<TrialView> trials) =>
        Table.Print(["trial", "status", "reward", "train/val acc", "policy", "stale", "pattern"],
            trials.Select(t => new[]
            {
                t.TrialId.ToString(CultureInfo.InvariantCulture),
                t.FailureReason is { } reason ? $"{t.Status.Name()} ({reason.Name()})"
                    : t.Progress is { } p ? $"{t.Status.Name()} {p.Step}/{p.Steps}"
                    : t.Status.Name(),
                Format(t.Reward), Accuracies(t.Metrics), $"v{t.PolicyVersion}", t.Staleness?.ToString(CultureInfo.InvariantCulture) ?? "-", t.PatternCompact,
            }));

    /// <summary>Why failed trials failed, one line per distinct reason and message: "trials 1, 2, 3 failed (error): ...".</summary>
    public static void PrintFailures(IEnumerable<TrialView> trials)
    {
        foreach (var group in trials.Where(t => t.Status == TrialStatus.Failed).GroupBy(t => Why(t)))
        {
            var ids = group.Select(t => t.TrialId.ToString(CultureInfo.InvariantCulture)).ToList();
            Console.WriteLine($"{(ids.Count == 1 ? "trial" : "trials")} {string.Join(", ", ids)} failed ({group.Key})");
        }
    }

    /// <summary>A failed trial's reason and message ("error: ... no such directory"); the reason alone for trials
    /// recorded without a message.</summary>
    public static string Why(TrialView trial) =>
        trial.FailureMessage is { Length: > 0 } message ? $"{trial.FailureReason?.Name()}: {message}" : trial.FailureReason?.Name() ?? "";

    /// <summary>Train and validation accuracy side by side, so overfitting shows; "-" for trials from before train accuracy was measured.</summary>
    private static string Accuracies(TrialMetricsReport? metrics) =>
        metrics is { TrainAccuracy: { } train } ? $"{Format(train)}/{Format(metrics.ValidationAccuracy)}" : "-";

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

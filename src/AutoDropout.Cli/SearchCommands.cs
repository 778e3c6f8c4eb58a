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
        search.Add(Trials(endpoint));
        search.Add(Best(endpoint));
        search.Add(Tail(endpoint));
        search.Add(Export(endpoint));
        foreach (var (verb, does) in (ReadOnlySpan<(string, string)>)[("pause", "pause a search (running trials go back to the queue)"),
                     ("resume", "resume a paused search"), ("stop", "stop a search for good (running trials are cancelled)")])
            search.Add(Control(endpoint, verb, does));
        search.Add(Extend(endpoint));
        search.Add(Delete(endpoint));
        return search;
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

    private static Task<SearchDetails> Details(ControlClient client, string name) =>
        client.Get($"v1/searches/{Uri.EscapeDataString(name)}", MessageJsonContext.Default.SearchDetails);

    private static Command Trials(EndpointOptions endpoint)
    {
        var command = new SearchVerb("trials", "a search's trials, filtered and sorted");
        var status = CliOptions.Text("--status", "only trials in this status", "completed|failed|running|proposed");
        var sort = CliOptions.Text("--sort", "order by trial id (default) or by reward, best first", "id|reward");
        var top = CliOptions.Int("--top", "only the first N after sorting");
        command.Add(status);
        command.Add(sort);
        command.Add(top);
        command.SetAction(async (result, _) =>
        {
            var wanted = result.GetValue(status) is { } s ? TrialViews.ParseStatus(s) : (TrialStatus?)null;
            // checked before asking, so a typo is a usage error whatever the endpoint says
            TrialViews.Select([], wanted, result.GetValue(sort), result.GetValue(top));
            using var client = Client(endpoint, result);
            var details = await Details(client, command.SearchName(result));
            var trials = TrialViews.Select(details.Trials, wanted, result.GetValue(sort), result.GetValue(top));
            if (result.GetValue(endpoint.Json)) Console.WriteLine(TrialViews.JsonArray(trials));
            else
            {
                PrintTrials(trials);
                Console.WriteLine($"{trials.Count} of {details.Trials.Count} trials");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Best(EndpointOptions endpoint)
    {
        var command = new SearchVerb("best", "a search's best trial: its reward and its pattern");
        command.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var details = await Details(client, command.SearchName(result));
            var best = TrialViews.Best(details);
            if (best is null) throw new ControlException(ExitCodes.NotFound, $"search {details.Summary.Name} has no completed trial yet");
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(TrialViews.Json(best)); return ExitCodes.Ok; }
            var metrics = best.Metrics;
            Console.WriteLine($"search {details.Summary.Name}: best of {details.Summary.Completed} completed trials");
            Console.WriteLine($"trial:    {best.TrialId} (policy v{best.PolicyVersion}, trainer {best.Trainer ?? "-"})");
            Console.WriteLine($"reward:   {Format(best.Reward)}" + (metrics is null ? "" : $" (validation accuracy {Format(metrics.ValidationAccuracy)}, train accuracy {Format(metrics.TrainAccuracy)})"));
            Console.WriteLine($"pattern:  {best.PatternHash}");
            Console.WriteLine($"tokens:   {best.PatternCompact}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Tail(EndpointOptions endpoint)
    {
        var command = new SearchVerb("tail", "follow a search until it ends: each finished trial as it lands, with the running count (--json: one object per trial)");
        var interval = CliOptions.Text("--interval", "how often to ask the endpoint (default 1s)", "DURATION");
        command.Add(interval);
        command.SetAction(async (result, cancel) =>
        {
            var every = result.GetValue(interval) is { } i ? Membership.ParseDuration(i) : TimeSpan.FromSeconds(1);
            bool json = result.GetValue(endpoint.Json);
            using var client = Client(endpoint, result);
            var name = command.SearchName(result);
            var printed = new HashSet<int>();
            SearchDetails details = await Details(client, name);
            // people at a terminal get a progress bar; redirected output and --json get plain lines
            if (!json && Terminal.ForPeople)
                details = await new Spectre.Console.Progress(Spectre.Console.AnsiConsole.Console) { AutoClear = false }.StartAsync(async progress =>
                {
                    var bar = progress.AddTask(name, maxValue: Math.Max(1, details.Summary.Trials));
                    return await Follow(client, name, details, every, cancel, d =>
                    {
                        foreach (var t in Landed(d, printed))
                            Spectre.Console.AnsiConsole.WriteLine(TrialViews.TailLine(DateTime.Now, t, d.Summary));
                        bar.MaxValue = Math.Max(1, d.Summary.Trials);
                        bar.Value = d.Summary.Completed + d.Summary.Failed;
                        bar.Description = $"{name}: {d.Summary.Completed}/{d.Summary.Trials} completed, {d.Summary.Running} running";
                    });
                });
            else
                details = await Follow(client, name, details, every, cancel, d =>
                {
                    foreach (var t in Landed(d, printed))
                        Console.WriteLine(json ? TrialViews.Json(t) : TrialViews.TailLine(DateTime.Now, t, d.Summary));
                });
            var s = details.Summary;
            if (!json) Console.WriteLine($"search {s.Name} {s.Status.Name()}: {s.Completed}/{s.Trials} completed, {s.Failed} failed, best reward {Format(s.BestReward)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Finished trials not printed before, in id order.</summary>
    private static List<TrialView> Landed(SearchDetails details, HashSet<int> printed) =>
        [.. details.Trials.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Failed && printed.Add(t.TrialId)).OrderBy(t => t.TrialId)];

    /// <summary>Shows each state of the search until it is neither running nor paused, or Ctrl+C; returns the last.</summary>
    private static async Task<SearchDetails> Follow(ControlClient client, string name, SearchDetails details, TimeSpan every,
        CancellationToken cancel, Action<SearchDetails> show)
    {
        while (true)
        {
            show(details);
            if (details.Summary.Status is not (SearchStatus.Running or SearchStatus.Paused) || cancel.IsCancellationRequested) return details;
            try { await Task.Delay(every, cancel); }
            catch (OperationCanceledException) { return details; }
            details = await Details(client, name);
        }
    }

    private static Command Export(EndpointOptions endpoint)
    {
        var command = new SearchVerb("export", "every trial of a search (tokens, metrics, staleness, failure message) as CSV or JSON");
        var format = CliOptions.Text("--format", "csv (default) or json", "csv|json");
        var output = CliOptions.Text("--out", "write to this file instead of standard output", "FILE");
        command.Add(format);
        command.Add(output);
        command.SetAction(async (result, cancel) =>
        {
            var kind = result.GetValue(format) ?? (result.GetValue(endpoint.Json) ? "json" : "csv");
            if (kind is not ("csv" or "json")) throw new UsageException($"--format: '{kind}' is not one of csv, json");
            using var client = Client(endpoint, result);
            var details = await Details(client, command.SearchName(result));
            var trials = details.Trials.OrderBy(t => t.TrialId).ToList();
            var text = kind == "csv" ? TrialViews.Csv(trials) : TrialViews.JsonArray(trials) + "\n";
            if (result.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file, text, cancel);
                Console.Error.WriteLine($"{trials.Count} trials of {details.Summary.Name} written to {file}");
            }
            else Console.Write(text);
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

/// <summary>Tables: Spectre.Console's for people at a terminal, aligned plain text when the output is redirected (scripts, files).</summary>
public static class Table
{
    public static void Print(string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        if (Terminal.ForPeople)
        {
            Terminal.WriteTable(headers, all);
            return;
        }
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        Console.WriteLine(Line(headers));
        Console.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        foreach (var row in all) Console.WriteLine(Line(row));
    }
}

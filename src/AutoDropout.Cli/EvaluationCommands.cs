using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout evaluate SEARCH ...` starts an evaluation job on the controller; `autodropout evaluation
/// list|show|stop` watches and steers the jobs. The trainers' evaluators run the job; the table is computed by the
/// controller from the results.
/// </summary>
public static class EvaluationCommands
{
    private static readonly TimeSpan WaitPoll = TimeSpan.FromSeconds(5);

    public static Command CreateEvaluate()
    {
        var endpoint = new EndpointOptions();
        var command = new Command("evaluate", """
            retrain a search's best patterns and hand-made baselines on the whole training split with several seeds,
            on the cluster's evaluators, and score them on the test split (mean and standard deviation per candidate)
            """);
        endpoint.AddTo(command);
        var search = new Argument<string>("SEARCH") { Description = "the search whose patterns to evaluate" };
        var top = CliOptions.Int("--top", "how many of the search's best distinct patterns to retrain (default 3)", "K");
        var seeds = CliOptions.Int("--seeds", "seeds per candidate (default 3)", "S");
        var baselines = CliOptions.Text("--baselines", "hand-made regularisers to compare with (default: none, dropout at 0.1/0.3/0.5, spatial at 0.1/0.2, DropBlock 3:0.9, 3:0.8, 5:0.9; language models: none and dropout)", "LIST");
        var target = CliOptions.Text("--target", "the network to train (default: the searched one)", "cnn|wrn-D-K|lm-L-W-H");
        var epochs = CliOptions.Double("--epochs", "the final budget in passes over the training split (default: the search's budget)", "E");
        var steps = CliOptions.Int("--steps", "the final budget in steps, instead of --epochs");
        var name = CliOptions.Text("--name", "the job's name (default SEARCH-eval, then SEARCH-eval-2, ...)");
        var lease = CliOptions.Int("--lease-seconds", "how long an evaluator may hold one trial (default: the search's lease, at least 7200)");
        var wait = CliOptions.Flag("--wait", "follow the job until it ends, then print its table");
        command.Add(search);
        foreach (var option in (Option[])[top, seeds, baselines, target, epochs, steps, name, lease, wait]) command.Add(option);
        command.SetAction(async (result, cancel) =>
        {
            var request = new EvaluationRequest(result.GetValue(search)!, result.GetValue(name), result.GetValue(top) ?? 3, result.GetValue(seeds) ?? 3,
                result.GetValue(baselines)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                result.GetValue(target), result.GetValue(epochs), result.GetValue(steps), result.GetValue(lease));
            using var client = Client(endpoint, result);
            var reply = await client.Post("v1/evaluations", JsonSerializer.Serialize(request, SpecJsonContext.Default.EvaluationRequest),
                MessageJsonContext.Default.CommandAccepted);
            bool json = result.GetValue(endpoint.Json);
            if (!result.GetValue(wait))
            {
                Console.WriteLine(json ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
                return ExitCodes.Ok;
            }
            if (!json) Console.WriteLine(reply.Message);
            var jobName = JobName(reply.Message) ?? request.Name ?? throw new ControlException(ExitCodes.Failed, $"cannot tell the job's name from: {reply.Message}");
            return await Follow(client, jobName, json, cancel);
        });
        return command;
    }

    public static Command CreateEvaluation()
    {
        var endpoint = new EndpointOptions();
        var palette = new Command("evaluation", "watch and steer evaluation jobs (started with `autodropout evaluate SEARCH`)");
        endpoint.AddTo(palette);

        var list = new Command("list", "all evaluation jobs");
        list.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var all = await client.Get("v1/evaluations", MessageJsonContext.Default.EvaluationList);
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(JsonSerializer.Serialize(all, MessageJsonContext.Default.EvaluationList)); return ExitCodes.Ok; }
            Table.Print(["evaluation", "search", "status", "done", "failed", "running"],
                all.Evaluations.Select(e => new[] { e.Name, e.Search, e.Problem is { } p ? $"{e.Status.Name()}: {p}" : e.Status.Name(), $"{e.Completed}/{e.Trials}", Int(e.Failed), Int(e.Running) }));
            return ExitCodes.Ok;
        });
        palette.Add(list);

        var show = new Command("show", "an evaluation's table: every candidate's test score per seed, mean and standard deviation");
        var showName = new Argument<string>("NAME") { Description = "the evaluation's name" };
        var wait = CliOptions.Flag("--wait", "follow the job until it ends, then print its table");
        show.Add(showName);
        show.Add(wait);
        show.SetAction(async (result, cancel) =>
        {
            using var client = Client(endpoint, result);
            bool json = result.GetValue(endpoint.Json);
            if (result.GetValue(wait)) return await Follow(client, result.GetValue(showName)!, json, cancel);
            var details = await Get(client, result.GetValue(showName)!);
            if (json) Console.WriteLine(JsonSerializer.Serialize(details, MessageJsonContext.Default.EvaluationDetails));
            else Print(details);
            return ExitCodes.Ok;
        });
        palette.Add(show);

        var stop = new Command("stop", "stop an evaluation job (running trials are cancelled; finished results stay)");
        var stopName = new Argument<string>("NAME") { Description = "the evaluation's name" };
        stop.Add(stopName);
        stop.SetAction(async (result, _) =>
        {
            using var client = Client(endpoint, result);
            var reply = await client.Post($"v1/searches/{Uri.EscapeDataString(result.GetValue(stopName)!)}/stop", null, MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        palette.Add(stop);
        return palette;
    }

    private static ControlClient Client(EndpointOptions endpoint, ParseResult result) => endpoint.Client(result);

    private static Task<EvaluationDetails> Get(ControlClient client, string name) =>
        client.Get($"v1/evaluations/{Uri.EscapeDataString(name)}", MessageJsonContext.Default.EvaluationDetails);

    /// <summary>"evaluation 'NAME' started: ..." names the job the controller chose.</summary>
    private static string? JobName(string message) =>
        message.StartsWith("evaluation '", StringComparison.Ordinal) && message.IndexOf('\'', 12) is var end and > 12 ? message[12..end] : null;

    /// <summary>Prints a line whenever the job's progress changes, then the table; Ctrl+C stops following, not the job.</summary>
    private static async Task<int> Follow(ControlClient client, string name, bool json, CancellationToken cancel)
    {
        string? last = null;
        while (true)
        {
            var details = await Get(client, name);
            var s = details.Summary;
            if (s.Status != SearchStatus.Running)
            {
                if (json) Console.WriteLine(JsonSerializer.Serialize(details, MessageJsonContext.Default.EvaluationDetails));
                else Print(details);
                return s.Failed > 0 && s.Completed == 0 ? ExitCodes.Failed : ExitCodes.Ok;
            }
            var line = $"{DateTimeOffset.Now:HH:mm:ss} evaluation {name}: {s.Completed}/{s.Trials} completed, {s.Failed} failed, {s.Running} running";
            if (!json && line[9..] != last?[9..]) Console.WriteLine(line);
            last = line;
            try { await Task.Delay(WaitPoll, cancel); }
            catch (OperationCanceledException) { return ExitCodes.Ok; }
        }
    }

    public static void Print(EvaluationDetails d)
    {
        var s = d.Summary;
        var spec = d.Spec;
        var budget = spec.Budget.Epochs is { } epochs ? $"{epochs.ToString(CultureInfo.InvariantCulture)} epochs" : $"{spec.Budget.Steps} steps";
        Console.WriteLine($"evaluation {s.Name} of search {s.Search}: {s.Status.Name()}, {s.Completed}/{s.Trials} completed, {s.Failed} failed, {s.Running} running");
        Console.WriteLine($"{spec.Target}{(spec.SearchedTarget is { } searched ? $" (patterns found on {searched})" : "")}, whole training split, " +
                          $"{budget} x batch {spec.BatchSize}, lr {spec.LearningRate.ToString(CultureInfo.InvariantCulture)}, {spec.Seeds.Count} seeds; {d.Metric}, mean ± sample std");
        var rows = d.Rows.OrderBy(r => r.Mean is null).ThenBy(r => d.HigherIsBetter ? -(r.Mean ?? 0) : r.Mean ?? 0).ToArray();
        Table.Print(["candidate", "search reward", d.Metric, "seeds", "per seed", "regulariser"],
            rows.Select(r => new[]
            {
                r.Label,
                SearchCommands.Format(r.SearchReward),
                r.Mean is { } mean ? $"{mean:0.0000} ± {(r.StandardDeviation is { } sd ? sd.ToString("0.0000", CultureInfo.InvariantCulture) : "-")}" : "-",
                $"{r.Runs.Count(x => x.Score is not null)}/{r.Runs.Count}",
                string.Join(" ", r.Runs.Select(x => x.Score is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : x.FailureReason is { } f ? f.Name() : x.Status.Name())),
                r.SearchTrialId is null ? "" : r.Regulariser,
            }));
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}

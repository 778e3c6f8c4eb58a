using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Messages;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// The operator verbs end to end, each as its own `autodropout` process against one real local cluster of simulated
/// trainers (no torch): cluster show/tail/leave/down/down-unreachable, search trials/best/tail/export, controller
/// status and the REPL driven through stdin, in plain and JSON output; refusals without a token and with the read
/// token; the audit file; a trainer made to leave by address, and another leaving through its own endpoint as a
/// preStop hook asks it to.
/// </summary>
[Collection(nameof(ProcessTests))]
public class OperatorVerbsClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-ops-").FullName;
    private LocalCluster _cluster = null!;

    [Fact]
    public async Task Operator_verbs_show_follow_and_change_a_live_cluster()
    {
        var config = Path.Combine(_work, "controller.conf");
        await File.WriteAllTextAsync(config, "autodropout.controller.snapshot-every-updates = 1");
        using var cluster = _cluster = await LocalCluster.Start(_work, trainers: 2, Ready, ["--config", config],
            trainerArgs: ["--cmd-port", "0", "--simulate", "2", "--trial-time", "200ms"]);
        try
        {
            await Verbs(cluster);
        }
        catch (Exception)
        {
            foreach (var log in Directory.GetFiles(_work, "*.log"))
                output.WriteLine($"--- {Path.GetFileName(log)}, last lines:\n{string.Join('\n', File.ReadLines(log).TakeLast(25))}");
            throw;
        }
        cluster.Stop();
    }

    private async Task Verbs(LocalCluster cluster)
    {
        using var client = new ControlClient(cluster.Endpoint, cluster.Token);
        var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); view.Members.Count(m => m.Status == "Up") < 4 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(250);
            view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
        }
        string controller = view.Self;
        var trainers = view.Members.Where(m => m.Roles.SequenceEqual(["trainer"])).Select(m => m.Address).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, trainers.Count);
        var processOf = new Dictionary<string, NodeProcess>();
        foreach (var node in cluster.Trainers)
        {
            using var ready = JsonDocument.Parse(await File.ReadAllTextAsync(node.ReadyFile));
            processOf[trainers.Single(a => a.EndsWith($":{ready.RootElement.GetProperty("akka_port").GetInt32()}", StringComparison.Ordinal))] = node;
        }

        // cluster show: pbm's layout, and JSON as before
        var show = await Cli("cluster", "show");
        Assert.Equal(0, show.Code);
        var lines = show.Lines;
        Assert.Equal("Count: 4 nodes", lines[^1]);
        Assert.All(lines[..^1], l => Assert.Matches(@"^akka(\.ssl)?\.tcp://autodropout@127\.0\.0\.1:[0-9]+ *\| \[(seed|controller|trainer)\] *\| Up( \(leader\))? *\| [0-9]+\.[0-9]+\.[0-9]+", l));
        Assert.Contains(lines, l => l.StartsWith(controller + " ", StringComparison.Ordinal) && l.Contains("[controller]", StringComparison.Ordinal));
        var shown = JsonSerializer.Deserialize((await Cli("cluster", "show", "--json")).Out, SpecJsonContext.Default.ClusterView)!;
        Assert.Equal(controller, shown.Self);
        Assert.Equal(4, shown.Members.Count);

        // a search, followed live by `search tail` from its start
        await client.Post("v1/searches", ControlClient.SpecJson(new SearchSpec("ops", Trials: 8, PolicyBatch: 2, LeaseSeconds: 60)), MessageJsonContext.Default.CommandAccepted);
        var tail = await Cli("search", "tail", "ops", "--interval", "300ms");
        Assert.Equal(0, tail.Code);
        // each trial once, in the order they landed (ids in order within one look)
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], tail.Lines.Where(l => l.Contains(" completed reward ", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture)).Order());
        Assert.Matches(@"^\[[0-9:]+\] trial [0-9]+ completed reward [0-9.]+ \([0-9]+/8 completed, 0 failed, [0-9]+ running\) s", tail.Lines[0]);
        Assert.StartsWith("search ops completed: 8/8 completed, 0 failed, best reward ", tail.Lines[^1], StringComparison.Ordinal);
        var details = await client.Get("v1/searches/ops", MessageJsonContext.Default.SearchDetails);
        var tailJson = (await Cli("search", "tail", "ops", "--json")).Lines.Select(l => JsonSerializer.Deserialize(l, MessageJsonContext.Default.TrialView)!).ToList();
        Assert.Equal(details.Trials.Select(t => (t.TrialId, t.Reward)), tailJson.Select(t => (t.TrialId, t.Reward)));

        // the verbs that only look run side by side: each is a process of its own
        var csvFile = Path.Combine(_work, "ops.csv");
        var looks = new Dictionary<string, Task<Result>>
        {
            ["trials"] = Cli("search", "trials", "ops", "--status", "completed", "--sort", "reward", "--top", "3"),
            ["trials-json"] = Cli("search", "trials", "ops", "--sort", "reward", "--top", "3", "--json"),
            ["trials-failed"] = Cli("search", "trials", "ops", "--status", "failed", "--json"),
            ["trials-none"] = Cli("search", "trials", "no-such-search"),
            ["best"] = Cli("search", "best", "ops"),
            ["best-json"] = Cli("search", "best", "ops", "--json"),
            ["csv"] = Cli("search", "export", "ops", "--format", "csv", "--out", csvFile),
            ["json"] = Cli("search", "export", "ops", "--format", "json"),
            ["status"] = Cli("controller", "status"),
            ["status-json"] = Cli("controller", "status", "--json"),
        };
        await Task.WhenAll(looks.Values);
        Result Look(string name) => looks[name].Result;

        // search trials: filtered, sorted, cut
        var byReward = details.Trials.OrderByDescending(t => t.Reward).ThenBy(t => t.TrialId).Take(3).ToList();
        var trials = Look("trials");
        Assert.Equal(0, trials.Code);
        Assert.Equal("3 of 8 trials", trials.Lines[^1]);
        Assert.Equal(byReward.Select(t => t.TrialId.ToString(System.Globalization.CultureInfo.InvariantCulture)), trials.Lines[2..^1].Select(l => l.Split(' ')[0]));
        var trialsJson = JsonSerializer.Deserialize(Look("trials-json").Out,
            MessageJsonContext.Default.IReadOnlyListTrialView)!;
        Assert.Equal(byReward.Select(t => t.TrialId), trialsJson.Select(t => t.TrialId));
        Assert.Equal("[]", Look("trials-failed").Out.Trim());
        Assert.Equal(ExitCodes.NotFound, Look("trials-none").Code);

        // search best
        var best = Look("best");
        Assert.Contains($"trial:    {byReward[0].TrialId} ", best.Out, StringComparison.Ordinal);
        Assert.Contains($"tokens:   {byReward[0].PatternCompact}", best.Out, StringComparison.Ordinal);
        Assert.Contains($"pattern:  {details.Summary.BestPatternHash}", best.Out, StringComparison.Ordinal);
        var bestJson = JsonSerializer.Deserialize(Look("best-json").Out, MessageJsonContext.Default.TrialView)!;
        Assert.Equal((byReward[0].TrialId, byReward[0].Reward, byReward[0].PatternCompact), (bestJson.TrialId, bestJson.Reward, bestJson.PatternCompact));

        // search export, to a file and to stdout
        Assert.Equal(0, Look("csv").Code);
        var csv = await File.ReadAllLinesAsync(csvFile);
        Assert.Equal(9, csv.Length);
        Assert.StartsWith("trial,status,reward,policy_version,staleness,", csv[0], StringComparison.Ordinal);
        Assert.All(csv[1..], row => Assert.Contains(",completed,", row, StringComparison.Ordinal));
        var exported = JsonSerializer.Deserialize(Look("json").Out, MessageJsonContext.Default.IReadOnlyListTrialView)!;
        Assert.Equal(details.Trials.Select(t => (t.TrialId, t.PatternCompact, t.Staleness)), exported.Select(t => (t.TrialId, t.PatternCompact, t.Staleness)));

        // controller status: where the singleton runs and what it serves from
        var status = Look("status");
        Assert.Equal(0, status.Code);
        Assert.Equal($"singleton:  {controller}", status.Lines[0]);
        Assert.StartsWith($"journal:    sqlite {cluster.DatabasePath} (id ", status.Lines[1], StringComparison.Ordinal);
        Assert.StartsWith("snapshot:   newest ", status.Lines[2], StringComparison.Ordinal);
        Assert.Equal("searches:   1 loaded, 0 evaluation jobs", status.Lines[3]);
        var statusJson = JsonSerializer.Deserialize(Look("status-json").Out, MessageJsonContext.Default.ControllerStatus)!;
        Assert.Equal((controller, "sqlite", cluster.DatabasePath, 1), (statusJson.Node, statusJson.Journal, statusJson.JournalLocation, statusJson.Searches));
        Assert.InRange(statusJson.NewestSnapshot!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

        // changing membership needs the operator token
        var anonymous = await Cli(["cluster", "down", trainers[0]], token: null);
        Assert.Equal(ExitCodes.Unauthorised, anonymous.Code);
        var reader = await Cli(["cluster", "down", trainers[0]], token: cluster.ReadToken);
        Assert.Equal(ExitCodes.Unauthorised, reader.Code);
        Assert.Contains("the read token is not enough", reader.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await Cli("cluster", "down", "127.0.0.1:1")).Code);
        Assert.Equal(ExitCodes.NotFound, (await Cli("cluster", "leave", "127.0.0.1:1", "--json")).Code);
        Assert.Equal("no member is unreachable", (await Cli("cluster", "down-unreachable")).Out.Trim());
        Assert.Equal("""{"message":"no member is unreachable"}""", (await Cli("cluster", "down-unreachable", "--json")).Out.Trim());

        // cluster leave ADDRESS, watched by cluster tail
        using (var watch = Follow("cluster", "tail", "--interval", "200ms", "--for", "60s"))
        {
            await watch.WaitFor(l => l.Contains(" MemberUp ", StringComparison.Ordinal) && l.Contains(trainers[0], StringComparison.Ordinal));
            var leave = await Cli("cluster", "leave", trainers[0], "--timeout", "60s");
            Assert.Equal(0, leave.Code);
            Assert.Equal($"{trainers[0]} has left the cluster", leave.Out.Trim());
            await watch.WaitFor(l => l.Contains($"] MemberRemoved {trainers[0]} [trainer]", StringComparison.Ordinal));
            Assert.Contains(watch.Lines, l => l.Contains($"] MemberLeft {trainers[0]} [trainer]", StringComparison.Ordinal)
                || l.Contains($"] MemberExited {trainers[0]} [trainer]", StringComparison.Ordinal));
        }
        var after = await Cli("cluster", "show");
        Assert.DoesNotContain(trainers[0], after.Out, StringComparison.Ordinal);
        Assert.Equal("Count: 3 nodes", after.Lines[^1]);
        Assert.NotNull(await processOf[trainers[0]].WaitForExit(TimeSpan.FromSeconds(30))); // a node that has left exits

        // cluster leave with no address, against the trainer's own endpoint (a preStop hook), followed by a tail
        // on that endpoint (exit 3 once it is gone) and one on the controller's (--count 1, --json)
        var leaver = processOf[trainers[1]];
        var leaverEndpoint = $"127.0.0.1:{await leaver.WaitReady(Ready)}";
        using var onLeaver = Follow(["cluster", "tail", "--interval", "200ms", "--endpoint", leaverEndpoint]);
        using var onController = Follow("cluster", "tail", "--json", "--count", "1", "--interval", "200ms");
        await onLeaver.WaitFor(l => l.Contains(" MemberUp ", StringComparison.Ordinal));
        await onController.WaitFor(l => l.Contains("\"MemberUp\"", StringComparison.Ordinal));
        var self = await Cli(["cluster", "leave", "--json", "--timeout", "60s", "--endpoint", leaverEndpoint]);
        Assert.Equal(0, self.Code);
        using (var left = JsonDocument.Parse(self.Out))
        {
            Assert.Equal(trainers[1], left.RootElement.GetProperty("address").GetString());
            Assert.True(left.RootElement.GetProperty("left").GetBoolean());
        }
        Assert.NotNull(await leaver.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(ExitCodes.Unreachable, await onLeaver.Exit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await onController.Exit(TimeSpan.FromSeconds(30)));
        var firstChange = JsonDocument.Parse(onController.Lines[^1]).RootElement;
        // a poll a second may miss the short Leaving state: the first change seen is one of the three
        Assert.Equal(trainers[1], firstChange.GetProperty("address").GetString());
        var seen = firstChange.GetProperty("event").GetString();
        Assert.True(seen is "MemberLeft" or "MemberExited" or "MemberRemoved", $"first change: {seen}");

        // the node has gone once its endpoint has; the others see it removed a gossip round or two later
        for (var deadline = DateTime.UtcNow.AddSeconds(30); (await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView)).Members.Count > 2;)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{trainers[1]} was not removed");
            await Task.Delay(250);
        }

        // the audit file holds every membership change asked for, refused or not
        var audit = (await File.ReadAllLinesAsync(Path.Combine(_work, "audit.jsonl")))
            .Select(l => JsonSerializer.Deserialize(l, SpecJsonContext.Default.AuditEntry)!).Where(e => e.Path.StartsWith("/v1/cluster/", StringComparison.Ordinal)).ToList();
        Assert.Contains(audit, e => e is { Path: "/v1/cluster/down", Status: 401, Access: "none" });
        Assert.Contains(audit, e => e is { Path: "/v1/cluster/down", Status: 403, Access: "read" });
        Assert.Contains(audit, e => e is { Path: "/v1/cluster/down", Status: 404, Name: "127.0.0.1:1" });
        Assert.Contains(audit, e => e.Path == "/v1/cluster/leave" && e.Status == 200 && e.Name == trainers[0]);
        Assert.Contains(audit, e => e.Path == "/v1/cluster/leave" && e.Status == 200 && e.Name == trainers[1] && e.Access == "operator");
        Assert.Equal(2, audit.Count(e => e.Path == "/v1/cluster/down-unreachable"));

        // the REPL, driven through stdin: commands run against its endpoint, a typo gets a suggestion, history is kept
        var repl = await Cli([cluster.Endpoint], stdin: "clustr show\ncluster show\nsearch best ops --json\nhelp\nexit\nsearch list\n", tokenInEnvironment: true);
        Assert.Equal(0, repl.Code);
        Assert.Contains("(did you mean 'cluster'?)", repl.Err, StringComparison.Ordinal);
        Assert.Contains("Count: 2 nodes", repl.Out, StringComparison.Ordinal);
        Assert.Contains($"\"trial_id\":{byReward[0].TrialId},", repl.Out, StringComparison.Ordinal);
        Assert.Contains("Exit codes", repl.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("search  status", repl.Out, StringComparison.Ordinal); // nothing after exit
        Assert.Equal(["clustr show", "cluster show", "search best ops --json", "help", "exit"],
            await File.ReadAllLinesAsync(Path.Combine(_work, "cli-home", "history")));
    }

    private sealed record Result(int Code, string Out, string Err)
    {
        public string[] Lines => Out.TrimEnd('\n').Split('\n');
    }

    private Task<Result> Cli(params string[] args) => Cli(args, token: _cluster.Token);

    /// <summary>Runs the CLI as its own process with a state directory of its own (no token found there).</summary>
    private async Task<Result> Cli(string[] args, string? token = "", string? stdin = null, bool tokenInEnvironment = false)
    {
        token = token == "" ? _cluster.Token : token;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(Info(args, token, tokenInEnvironment, stdin is not null))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var result = new Result(process.ExitCode, (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal), await stderr);
        output.WriteLine($"$ autodropout {string.Join(' ', args)}  -> {result.Code} in {clock.ElapsedMilliseconds} ms\n{result.Out}{result.Err}");
        return result;
    }

    private ProcessStartInfo Info(string[] args, string? token, bool tokenInEnvironment, bool stdin)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "autodropout.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        if (!args.Contains("--endpoint") && args[0] != _cluster.Endpoint) { info.ArgumentList.Add("--endpoint"); info.ArgumentList.Add(_cluster.Endpoint); }
        if (token is not null && !tokenInEnvironment) { info.ArgumentList.Add("--token"); info.ArgumentList.Add(token); }
        info.Environment[NodeEnvironment.Home] = Path.Combine(_work, "cli-home");
        // none of the caller's tokens or endpoint: only what the test gives
        foreach (var variable in new[] { NodeEnvironment.Token, NodeEnvironment.ReadToken, NodeEnvironment.TokenFile, NodeEnvironment.ReadTokenFile, "AUTODROPOUT_ENDPOINT" })
            info.Environment.Remove(variable);
        if (tokenInEnvironment && token is not null) info.Environment[NodeEnvironment.Token] = token;
        return info;
    }

    /// <summary>A CLI process that follows something; its lines as they come.</summary>
    private Following Follow(params string[] args) => new(Process.Start(Info(args, _cluster.Token, false, false))!, output);

    private sealed class Following : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly ITestOutputHelper _output;

        public Following(Process process, ITestOutputHelper output)
        {
            _process = process;
            _output = output;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue("stderr: " + e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public IReadOnlyList<string> Lines => [.. _lines];

        public async Task WaitFor(Func<string, bool> line, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
            while (!_lines.Any(line))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no such line; got:\n{string.Join('\n', _lines)}");
                await Task.Delay(100);
            }
        }

        public async Task<int> Exit(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cancel.Token);
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _output.WriteLine(string.Join('\n', _lines));
            _process.Dispose();
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

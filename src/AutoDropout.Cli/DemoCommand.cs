using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout demo`: a real search on one machine. Starts a seed, a controller and two trainers as separate
/// processes on loopback, runs a search on Fashion-MNIST, prints each trial and the best pattern, and stops
/// everything it started (also on Ctrl+C). With --dashboard it prints the web dashboard's address and keeps the
/// cluster up after the search until Ctrl+C.
/// </summary>
public static class DemoCommand
{
    /// <summary>What a demo was asked for.</summary>
    public sealed record Settings(SearchSpec Spec, int Trainers = 2, string? WorkDir = null, int TimeoutSeconds = 900, bool Json = false,
        bool Dashboard = false);

    private sealed class Verb : Command
    {
        private readonly Option<bool> _json = CliOptions.Flag("--json", "print a machine-readable summary on stdout (progress goes to stderr)");
        private readonly Option<int?> _trainers = CliOptions.Int("--trainers", "trainer processes to start (default 2)");
        private readonly Option<string?> _workDir = CliOptions.Text("--work-dir", "keep the journal and the node logs in this directory (default: a temporary one, deleted at the end)", "DIR");
        private readonly Option<string?> _name = CliOptions.Text("--name", "the search's name (default demo)");
        private readonly Option<int?> _timeout = CliOptions.Int("--timeout", "give up after this many seconds (default 900)", "SECONDS");
        private readonly Option<bool> _dashboard = CliOptions.Flag("--dashboard", "print the web dashboard's address, and keep the cluster up after the search until Ctrl+C");
        private readonly SpecOptions _spec = new();

        public Verb() : base("demo", """
            a real search on this machine: a seed, a controller and trainer processes on 127.0.0.1, on the bundled
            Fashion-MNIST subset unless --data says otherwise; prints each trial and the best pattern, then stops
            every process it started (also on Ctrl+C)
            """)
        {
            foreach (var option in (Option[])[_json, _trainers, _workDir, _name, _timeout, _dashboard]) Add(option);
            _spec.AddTo(this);
            SetAction((result, _) => Run(Read(result)));
        }

        public Settings Read(ParseResult result)
        {
            var spec = _spec.Read(result, result.GetValue(_name) ?? "demo");
            // the demo runs on the bundled subset unless told otherwise, so it takes the same time on every machine
            if (spec.DataDirectory is null) spec = spec with { DataDirectory = "embedded" };
            // a short search learns more from smaller batches: 12 trials make 3 policy updates
            if (result.GetValue(_spec.PolicyBatch) is null && result.GetValue(_spec.Spec) is null) spec = spec with { PolicyBatch = 4 };
            return new Settings(spec, result.GetValue(_trainers) ?? 2, result.GetValue(_workDir), result.GetValue(_timeout) ?? 900, result.GetValue(_json),
                result.GetValue(_dashboard));
        }
    }

    public static Command Create() => new Verb();

    /// <summary>The settings a parsed `demo` command line asks for.</summary>
    public static Settings Read(ParseResult result) => ((Verb)result.CommandResult.Command).Read(result);

    public static async Task<int> Run(Settings settings)
    {
        var (spec, trainers, workDir, timeoutSeconds, json, dashboard) = settings;
        bool keep = workDir is not null;
        if (trainers < 1) throw new UsageException("--trainers must be at least 1");
        // every process runs here: data that cannot be trained on is refused before any node or trial starts
        SpecOptions.CheckData(spec);

        workDir ??= Path.Combine(Path.GetTempPath(), $"autodropout-demo-{Guid.NewGuid():N}"[..30]);
        var clock = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        // the dashboard outlives the timeout: only an interrupt ends it
        using var interrupted = new CancellationTokenSource();
        LocalCluster? cluster = null;
        // Ctrl+C, SIGTERM and SIGHUP all end the demo the same way: stop every process it started, then exit
        using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, Interrupt);
        using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, Interrupt);
        using var onHangUp = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGHUP, Interrupt);
        void Interrupt(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
            interrupted.Cancel();
        }
        try
        {
            Say(json, $"starting a seed, a controller and {trainers} trainer processes on 127.0.0.1 (logs in {workDir})");
            cluster = await LocalCluster.Start(workDir, trainers, TimeSpan.FromSeconds(90)).WaitAsync(cancel.Token);
            using var client = new ControlClient(cluster.Endpoint, cluster.Token);
            // the read token only: the page never changes anything
            if (dashboard) Console.Error.WriteLine($"dashboard: http://{cluster.Endpoint}/?token={cluster.ReadToken}");
            var accepted = await client.Post("v1/searches", ControlClient.SpecJson(spec), MessageJsonContext.Default.CommandAccepted);
            Say(json, accepted.Message);

            var details = await WaitForCompletion(client, spec.Name, json, cancel.Token);
            if (json) WriteJson(details, clock.Elapsed);
            else
            {
                Console.WriteLine();
                SearchCommands.PrintTrials(details.Trials);
                SearchCommands.PrintFailures(details.Trials);
                Console.WriteLine();
                if (details.BestPattern is { } best)
                {
                    Console.WriteLine($"best pattern (validation accuracy {SearchCommands.Format(details.Summary.BestReward)}, hash {best.Hash()}):");
                    var sites = best.ToCompact().Split(" | ");
                    for (int i = 0; i < sites.Length; i++) Console.WriteLine($"  site {i}: {sites[i]}");
                }
                Console.WriteLine($"{details.Summary.Completed} trials completed, {details.Summary.Failed} failed, policy v{details.Summary.PolicyVersion}, in {clock.Elapsed.TotalSeconds:0} s");
            }
            if (details.Summary.PauseReason is { } why)
                // the search stopped itself short: say why on stderr too, where scripts and --json users look
                Console.Error.WriteLine($"autodropout: search '{spec.Name}' paused itself: {why}");
            if (dashboard)
            {
                Console.Error.WriteLine($"the dashboard stays up at http://{cluster.Endpoint}/?token={cluster.ReadToken}; Ctrl+C stops the cluster");
                try { await Task.Delay(Timeout.Infinite, interrupted.Token); }
                catch (OperationCanceledException) { }
            }
            return details.Summary.PauseReason is null && details.Summary.Completed > 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(cancel.IsCancellationRequested && clock.Elapsed.TotalSeconds < timeoutSeconds
                ? "interrupted; stopping every process the demo started"
                : $"the demo did not finish within {timeoutSeconds} s; see the logs in {workDir}");
            return ExitCodes.Failed;
        }
        finally
        {
            if (cluster is not null)
            {
                Say(json, "stopping the cluster");
                cluster.Stop();
                cluster.Dispose();
            }
            if (!keep)
            {
                try { Directory.Delete(workDir, recursive: true); }
                catch (IOException) { }
            }
        }
    }

    private static async Task<SearchDetails> WaitForCompletion(ControlClient client, string name, bool json, CancellationToken cancel)
    {
        var reported = new HashSet<int>();
        while (true)
        {
            await Task.Delay(1000, cancel);
            var details = await client.Get($"v1/searches/{name}", MessageJsonContext.Default.SearchDetails);
            foreach (var t in details.Trials.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Failed && reported.Add(t.TrialId)))
                Say(json, $"trial {t.TrialId,3}: {(t.Status == TrialStatus.Completed ? $"val acc {SearchCommands.Format(t.Reward)}" : $"failed ({SearchCommands.Why(t)})")}  {t.PatternCompact}");
            // a search that paused itself waits for an operator: the demo stops there and says why
            if (details.Summary.Status is SearchStatus.Completed or SearchStatus.Stopped || details.Summary.PauseReason is not null) return details;
        }
    }

    private static void Say(bool json, string line)
    {
        // in --json mode stdout carries only the JSON document
        if (json) Console.Error.WriteLine(line);
        else Console.WriteLine(line);
    }

    private static void WriteJson(SearchDetails details, TimeSpan elapsed)
    {
        using var stdout = Console.OpenStandardOutput();
        using var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("search", details.Summary.Name);
        w.WriteString("status", details.Summary.Status.Name());
        w.WriteNumber("trials_completed", details.Summary.Completed);
        w.WriteNumber("trials_failed", details.Summary.Failed);
        w.WriteNumber("policy_version", details.Summary.PolicyVersion);
        w.WriteNumber("wall_seconds", Math.Round(elapsed.TotalSeconds, 1));
        if (details.Summary.PauseReason is { } paused) w.WriteString("pause_reason", paused);
        w.WriteStartArray("trials");
        foreach (var t in details.Trials)
        {
            w.WriteStartObject();
            w.WriteNumber("trial", t.TrialId);
            w.WriteString("status", t.Status.Name());
            if (t.Reward is { } r) w.WriteNumber("reward", r); else w.WriteNull("reward");
            w.WriteString("pattern", t.PatternCompact);
            w.WriteString("pattern_hash", t.PatternHash);
            w.WriteNumber("policy_version", t.PolicyVersion);
            if (t.FailureReason is { } reason)
            {
                w.WriteString("failure_reason", reason.Name());
                w.WriteString("failure_message", t.FailureMessage);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (details.Summary.BestReward is { } best) w.WriteNumber("best_reward", best); else w.WriteNull("best_reward");
        if (details.BestPattern is { } pattern)
        {
            w.WritePropertyName("best_pattern");
            new DropoutPatternJsonConverter().Write(w, pattern, JsonSerializerOptions.Default);
            w.WriteString("best_pattern_compact", pattern.ToCompact());
        }
        else w.WriteNull("best_pattern");
        w.WriteEndObject();
        w.Flush();
        stdout.WriteByte((byte)'\n');
    }
}

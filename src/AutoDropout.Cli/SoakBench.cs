using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AutoDropout.Cluster.Controller;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout bench soak-cluster`: a long search of simulated trials on real processes while a trainer process is
/// SIGKILLed and started again every few seconds, and the controller once. Passes when every trial completed exactly
/// once; prints what the faults cost: leases expired, trials requeued by cause, and results that changed nothing
/// (resends of recorded results, and results from trainers that no longer held their trial).
/// </summary>
public static partial class SoakBench
{
    private const int TrainerProcesses = 3;

    public static Command Create()
    {
        var trials = new Option<int>("--trials") { Description = "trials in the search", DefaultValueFactory = _ => 2000 };
        var trainers = new Option<int>("--trainers") { Description = "simulated trainers, spread over 3 processes", DefaultValueFactory = _ => 24 };
        var trialTime = new Option<string>("--trial-time") { Description = "each simulated trial's time", DefaultValueFactory = _ => "100ms-500ms" };
        var killEvery = new Option<double>("--kill-every") { Description = "seconds between two SIGKILLs of a trainer process", DefaultValueFactory = _ => 20 };
        var persistence = new Option<string>("--persistence") { Description = "journal back-end", DefaultValueFactory = _ => "sqlite" };
        persistence.AcceptOnlyFromAmong("sqlite", "postgres");
        var db = new Option<string?>("--db") { Description = "PostgreSQL connection string (postgres only; SQLite uses a temporary file)" };
        var command = new Command("soak-cluster",
            "Real processes on loopback: a search of simulated trials while a trainer process is SIGKILLed and restarted every --kill-every " +
            "seconds and the controller once; exits 1 unless every trial completed exactly once.")
        { trials, trainers, trialTime, killEvery, persistence, db };
        command.SetAction(async (parsed, _) =>
        {
            var backend = parsed.GetValue(persistence) == "postgres" ? PersistenceBackend.Postgres : PersistenceBackend.Sqlite;
            if (backend == PersistenceBackend.Postgres && parsed.GetValue(db) is null) throw new UsageException("--db: PostgreSQL needs a connection string");
            if (parsed.GetValue(trials) < 1 || parsed.GetValue(trainers) < 1) throw new UsageException("--trials and --trainers must be at least 1");
            if (!(parsed.GetValue(killEvery) >= 1)) throw new UsageException("--kill-every: at least 1 second");
            Cluster.Trainer.SimulatedTrialTime.Parse(parsed.GetValue(trialTime)!);
            var result = await Run(parsed.GetValue(trials), parsed.GetValue(trainers), parsed.GetValue(trialTime)!,
                TimeSpan.FromSeconds(parsed.GetValue(killEvery)), backend, parsed.GetValue(db));
            foreach (var line in result.Report()) Console.WriteLine(line);
            return result.ExactlyOnce ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>What the journal and the controller's counters say after the soak.</summary>
    public sealed record Outcome(
        int Trials, int Trainers, string TrialTime, int TrainerKills, int ControllerKills, double WallSeconds,
        int Completed, int Failed, int CompletedTwice, int NeverCompleted, IReadOnlyDictionary<RequeueCause, int> Requeued,
        long ResendsDropped, long RefusedDropped)
    {
        public bool ExactlyOnce => Completed + Failed == Trials && CompletedTwice == 0 && NeverCompleted == 0;

        public IEnumerable<string> Report()
        {
            string Count(RequeueCause cause) => Requeued.GetValueOrDefault(cause).ToString(CultureInfo.InvariantCulture);
            yield return string.Create(CultureInfo.InvariantCulture,
                $"soak: {Trials} trials, {Trainers} simulated trainers in {TrainerProcesses} processes, {TrialTime} trials, {WallSeconds:0} s");
            yield return $"faults: {TrainerKills} trainer processes SIGKILLed and restarted, the controller {ControllerKills} time(s)";
            yield return $"trials: {Completed} completed, {Failed} failed, {CompletedTwice} completed more than once, {NeverCompleted} never finished";
            yield return $"leases expired: {Count(RequeueCause.LeaseExpired)}";
            yield return $"requeued: trainer lost {Count(RequeueCause.TrainerLost)}, lease expired {Count(RequeueCause.LeaseExpired)}, "
                + $"trainer failure {Count(RequeueCause.TrainerFailure)}, cancelled {Count(RequeueCause.Cancelled)}";
            yield return $"results dropped: {ResendsDropped} resends of recorded results, {RefusedDropped} from trainers no longer holding the trial";
            yield return ExactlyOnce ? "every trial completed exactly once" : "FAILED: not every trial completed exactly once";
        }
    }

    public static async Task<Outcome> Run(int trials, int trainers, string trialTime, TimeSpan killEvery, PersistenceBackend backend, string? postgres)
    {
        int perProcess = (trainers + TrainerProcesses - 1) / TrainerProcesses;
        var work = Directory.CreateTempSubdirectory("autodropout-soak-").FullName;
        var name = $"soak-{Guid.NewGuid():N}"[..16];
        string[] journal = backend == PersistenceBackend.Postgres ? ["--persistence", "postgres", "--db", postgres!] : [];
        var ready = TimeSpan.FromMinutes(2);
        int trainerKills = 0, controllerKills = 0;
        long resends = 0, refused = 0;
        try
        {
            Stopwatch clock;
            using (var cluster = await LocalCluster.Start(work, TrainerProcesses, ready, journal,
                ["--cmd-port", "-1", "--simulate", perProcess.ToString(CultureInfo.InvariantCulture), "--trial-time", trialTime]))
            {
                var spec = new SearchSpec(name, Trials: trials, TrainSteps: 10, LeaseSeconds: 600);
                using (var client = new ControlClient(cluster.Endpoint, cluster.Token))
                    await client.Post("v1/searches", ControlClient.SpecJson(spec), MessageJsonContext.Default.CommandAccepted);
                clock = Stopwatch.StartNew();
                var nextKill = killEvery;
                while (true)
                {
                    await Task.Delay(500);
                    var summary = await Summary(cluster, name);
                    if (summary?.Status == SearchStatus.Completed) break;
                    if (clock.Elapsed > TimeSpan.FromMinutes(60)) throw new TimeoutException($"{trials} trials did not finish in an hour");
                    if (clock.Elapsed < nextKill) continue;
                    nextKill = clock.Elapsed + killEvery;
                    // the controller once, a third of the way in; a trainer process every other time
                    if (controllerKills == 0 && summary is { } s && s.Completed >= trials / 3)
                    {
                        (resends, refused) = Add((resends, refused), await Dropped(cluster, name));
                        cluster.Controller!.Crash();
                        controllerKills++;
                        Console.Error.WriteLine($"{clock.Elapsed.TotalSeconds,5:0} s: SIGKILL to the controller ({s.Completed} trials completed)");
                        await cluster.StartController(ready);
                    }
                    else
                    {
                        int victim = trainerKills % TrainerProcesses;
                        cluster.Trainers[victim].Crash();
                        trainerKills++;
                        Console.Error.WriteLine($"{clock.Elapsed.TotalSeconds,5:0} s: SIGKILL to trainer process {victim + 1} ({summary?.Completed} trials completed)");
                        await cluster.RestartTrainer(victim, ready);
                    }
                }
                (resends, refused) = Add((resends, refused), await Dropped(cluster, name));
                cluster.Stop();
            }
            var connection = backend == PersistenceBackend.Postgres ? postgres! : Path.Combine(work, "autodropout.db");
            var events = ClusterBench.Events(backend, connection, SearchController.PersistenceIdFor(name)).Select(e => e.Event).ToList();
            return Count(events, trials, trainers, trialTime, trainerKills, controllerKills, clock.Elapsed.TotalSeconds, resends, refused);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The figures from a search's events: how often each trial completed, what was requeued and why.</summary>
    public static Outcome Count(IReadOnlyList<ISearchEvent> events, int trials, int trainers, string trialTime, int trainerKills, int controllerKills,
        double wallSeconds, long resends, long refused)
    {
        var completions = events.OfType<TrialCompleted>().GroupBy(c => c.TrialId).ToDictionary(g => g.Key, g => g.Count());
        var failed = events.OfType<TrialFailed>().Select(f => f.TrialId).ToHashSet();
        var proposed = events.OfType<TrialProposed>().Select(p => p.TrialId).ToHashSet();
        var requeued = events.OfType<TrialRequeued>().GroupBy(r => r.Cause).ToDictionary(g => g.Key, g => g.Count());
        return new Outcome(trials, trainers, trialTime, trainerKills, controllerKills, wallSeconds,
            completions.Count, failed.Count, completions.Count(c => c.Value > 1), proposed.Count(id => !completions.ContainsKey(id) && !failed.Contains(id)),
            requeued, resends, refused);
    }

    private static async Task<SearchSummary?> Summary(LocalCluster cluster, string name)
    {
        try
        {
            using var client = new ControlClient(cluster.Endpoint, cluster.Token);
            return (await client.Get("v1/searches", MessageJsonContext.Default.SearchList)).Searches.SingleOrDefault(s => s.Name == name);
        }
        catch (ControlException) { return null; } // the controller is starting again
    }

    /// <summary>The controller's count of dropped results since it started (counters start over with the process).</summary>
    private static async Task<(long Resends, long Refused)> Dropped(LocalCluster cluster, string name)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Token);
        var text = await http.GetStringAsync($"http://{cluster.Endpoint}/metrics");
        long Value(string why) => DroppedLine().Matches(text)
            .Where(m => m.Groups["labels"].Value.Contains($"search=\"{name}\"", StringComparison.Ordinal) && m.Groups["labels"].Value.Contains($"why=\"{why}\"", StringComparison.Ordinal))
            .Sum(m => (long)double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
        return (Value("resend"), Value("refused"));
    }

    private static (long, long) Add((long, long) a, (long, long) b) => (a.Item1 + b.Item1, a.Item2 + b.Item2);

    [GeneratedRegex(@"^autodropout_results_dropped_total\{(?<labels>[^}]*)\} (?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex DroppedLine();
}

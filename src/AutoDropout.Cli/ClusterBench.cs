using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AutoDropout.Cluster.Controller;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout bench cluster`: the orchestration benchmark. A seed, a controller and three trainer processes on
/// loopback, S simulated trainers among them, run a search of S x rounds trials of a fixed simulated time; then the
/// search's journal gives the figures, from the times its events were written: throughput as a share of the ideal
/// (S trials per trial time), and the dispatch latency, from a trainer's result recorded to its next lease recorded
/// (the ack, the trainer's next request and the controller's answer), p50 and p99.
/// </summary>
public static class ClusterBench
{
    private const int TrainerProcesses = 3;

    public static Command Create()
    {
        var trainers = new Option<string>("--trainers") { Description = "simulated trainers per run, comma-separated", DefaultValueFactory = _ => "8,64,256" };
        var rounds = new Option<int>("--rounds") { Description = "trials per trainer in each run", DefaultValueFactory = _ => 10 };
        var trialTime = new Option<string>("--trial-time") { Description = "each simulated trial's time", DefaultValueFactory = _ => "200ms" };
        var policyBatch = new Option<int?>("--policy-batch") { Description = "results per policy update [default: the spec's]" };
        var persistence = new Option<string>("--persistence") { Description = "journal back-end", DefaultValueFactory = _ => "sqlite" };
        persistence.AcceptOnlyFromAmong("sqlite", "postgres");
        var db = new Option<string?>("--db") { Description = "PostgreSQL connection string (postgres only; SQLite uses a temporary file per run)" };
        var command = new Command("cluster",
            "Real processes on loopback: S simulated trainers in 3 trainer processes run S x rounds trials; throughput as a share of " +
            "S / trial time, and dispatch latency (result recorded -> next lease recorded) p50 and p99.")
        { trainers, rounds, trialTime, policyBatch, persistence, db };
        command.SetAction(async (parsed, _) =>
        {
            var sizes = ParseSizes(parsed.GetValue(trainers)!);
            var backend = parsed.GetValue(persistence) == "postgres" ? PersistenceBackend.Postgres : PersistenceBackend.Sqlite;
            if (backend == PersistenceBackend.Postgres && parsed.GetValue(db) is null) throw new UsageException("--db: PostgreSQL needs a connection string");
            if (parsed.GetValue(rounds) < 1) throw new UsageException("--rounds must be at least 1");
            var time = Cluster.Trainer.SimulatedTrialTime.Parse(parsed.GetValue(trialTime)!);
            Console.WriteLine($"{"trainers",8} {"trials",7} {"wall s",7} {"trials/s",9} {"ideal/s",8} {"ratio",6} {"p50 ms",7} {"p99 ms",7}");
            foreach (var size in sizes)
            {
                var run = await Run(size, parsed.GetValue(rounds), parsed.GetValue(trialTime)!, (time.Min + time.Max) / 2, parsed.GetValue(policyBatch), backend, parsed.GetValue(db));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{run.Trainers,8} {run.Trials,7} {run.WallSeconds,7:0.0} {run.Throughput,9:0.0} {run.Ideal,8:0.0} {run.Ratio,6:0.000} {run.P50Ms,7:0.0} {run.P99Ms,7:0.0}"));
            }
            return 0;
        });
        return command;
    }

    public sealed record Figures(int Trainers, int Trials, double WallSeconds, double Throughput, double Ideal, double P50Ms, double P99Ms)
    {
        public double Ratio => Throughput / Ideal;
    }

    private static int[] ParseSizes(string text)
    {
        try
        {
            var sizes = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (sizes.Length > 0 && sizes.All(s => s is >= 1 and <= 4096)) return sizes;
        }
        catch (FormatException) { }
        catch (OverflowException) { }
        throw new UsageException($"--trainers: '{text}' is not a comma-separated list of counts from 1 to 4096");
    }

    /// <summary>One run; the trainers are spread over three processes, so the count is rounded up to a multiple of three.</summary>
    public static async Task<Figures> Run(int trainers, int rounds, string trialTime, TimeSpan meanTrialTime, int? policyBatch,
        PersistenceBackend backend, string? postgres)
    {
        int perProcess = (trainers + TrainerProcesses - 1) / TrainerProcesses;
        int total = perProcess * TrainerProcesses;
        var work = Directory.CreateTempSubdirectory("autodropout-bench-cluster-").FullName;
        var name = $"bench-{total}-{Guid.NewGuid():N}"[..20];
        string[] journal = backend == PersistenceBackend.Postgres ? ["--persistence", "postgres", "--db", postgres!] : [];
        try
        {
            int trials = total * rounds;
            using (var cluster = await LocalCluster.Start(work, TrainerProcesses, TimeSpan.FromMinutes(2), journal,
                ["--cmd-port", "-1", "--simulate", perProcess.ToString(CultureInfo.InvariantCulture), "--trial-time", trialTime]))
            {
                using var client = new ControlClient(cluster.Endpoint, cluster.Token);
                var spec = new SearchSpec(name, Trials: trials, TrainSteps: 10, LeaseSeconds: 600);
                if (policyBatch is { } batch) spec = spec with { PolicyBatch = batch };
                await client.Post("v1/searches", ControlClient.SpecJson(spec), MessageJsonContext.Default.CommandAccepted);
                var clock = Stopwatch.StartNew();
                while (true)
                {
                    await Task.Delay(250);
                    var list = await client.Get("v1/searches", MessageJsonContext.Default.SearchList);
                    if (list.Searches.Single(s => s.Name == name).Status == SearchStatus.Completed) break;
                    if (clock.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException($"{trials} trials did not finish in 30 minutes");
                }
                cluster.Stop();
            }
            var events = Timeline(backend, backend == PersistenceBackend.Postgres ? postgres! : Path.Combine(work, "autodropout.db"), SearchController.PersistenceIdFor(name));
            return Measure(events, total, meanTrialTime);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A search's lease and completion events, each with the time its row was written.</summary>
    public static IReadOnlyList<(DateTime Written, ISearchEvent Event)> Timeline(PersistenceBackend backend, string connection, string persistenceId) =>
        Events(backend, connection, persistenceId, ["trial-leased-v1", "trial-completed-v1"]);

    /// <summary>A search's events in journal order, each with the time its row was written; only these manifests when given.</summary>
    public static IReadOnlyList<(DateTime Written, ISearchEvent Event)> Events(PersistenceBackend backend, string connection, string persistenceId,
        IReadOnlyList<string>? manifests = null)
    {
        using var db = JournalDoctor.Open(backend, connection);
        using var command = db.CreateCommand();
        command.CommandText = "SELECT created, manifest, message FROM journal WHERE persistence_id = @id ORDER BY ordering";
        var id = command.CreateParameter();
        id.ParameterName = "id";
        id.Value = persistenceId;
        command.Parameters.Add(id);
        using var reader = command.ExecuteReader();
        var events = new List<(DateTime, ISearchEvent)>();
        while (reader.Read())
        {
            var manifest = reader.GetString(1);
            if (manifests is not null && !manifests.Contains(manifest)) continue;
            if (MessageCodec.FromBinary((byte[])reader.GetValue(2), manifest) is ISearchEvent e) events.Add((new DateTime(reader.GetInt64(0), DateTimeKind.Utc), e));
        }
        return events;
    }

    /// <summary>Throughput from the first lease to the last completion; per trainer, each completion to its next lease.</summary>
    public static Figures Measure(IReadOnlyList<(DateTime Written, ISearchEvent Event)> events, int trainers, TimeSpan meanTrialTime)
    {
        var completions = events.Where(e => e.Event is TrialCompleted).ToArray();
        if (completions.Length == 0) throw new InvalidOperationException("the search's journal holds no completed trial");
        var wall = (completions[^1].Written - events.First(e => e.Event is TrialLeased).Written).TotalSeconds;
        var gaps = new List<double>();
        var lastCompleted = new Dictionary<string, DateTime>();
        foreach (var (written, e) in events)
        {
            if (e is TrialCompleted c) lastCompleted[c.TrainerId] = written;
            else if (e is TrialLeased l && lastCompleted.Remove(l.TrainerId, out var done)) gaps.Add((written - done).TotalMilliseconds);
        }
        gaps.Sort();
        double Percentile(double p) => gaps.Count == 0 ? double.NaN : gaps[Math.Min(gaps.Count - 1, (int)Math.Ceiling(p * gaps.Count) - 1)];
        return new Figures(trainers, completions.Length, wall, completions.Length / wall, trainers / meanTrialTime.TotalSeconds, Percentile(0.50), Percentile(0.99));
    }
}

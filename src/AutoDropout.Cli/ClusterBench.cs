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
/// (the ack, the trainer's next request and the controller's answer), p50 and p99. With several searches the trials
/// are split among them and all are posted at once; their journals are merged by written time, and the slowest and
/// fastest search's own throughput show how evenly they shared the trainers.
/// </summary>
public static class ClusterBench
{
    private const int TrainerProcesses = 3;
    public const int MaxSearches = 64;

    public static Command Create()
    {
        var trainers = new Option<string>("--trainers") { Description = "simulated trainers per run, comma-separated", DefaultValueFactory = _ => "8,64,256" };
        var rounds = new Option<int>("--rounds") { Description = "trials per trainer in each run", DefaultValueFactory = _ => 10 };
        var trialTime = new Option<string>("--trial-time") { Description = "each simulated trial's time", DefaultValueFactory = _ => "200ms" };
        var policyBatch = new Option<int?>("--policy-batch") { Description = "results per policy update [default: the spec's]" };
        var persistence = new Option<string>("--persistence") { Description = "journal back-end", DefaultValueFactory = _ => "sqlite" };
        persistence.AcceptOnlyFromAmong("sqlite", "postgres");
        var db = new Option<string?>("--db") { Description = "PostgreSQL connection string (postgres only; SQLite uses a temporary file per run)" };
        var searches = new Option<int>("--searches") { Description = "concurrent searches sharing the trainers, the trials split evenly among them", DefaultValueFactory = _ => 1 };
        var command = new Command("cluster",
            "Real processes on loopback: S simulated trainers in 3 trainer processes run S x rounds trials; throughput as a share of " +
            "S / trial time, and dispatch latency (result recorded -> next lease recorded) p50 and p99; with --searches N, N searches share them.")
        { trainers, rounds, trialTime, policyBatch, persistence, db, searches };
        command.SetAction(async (parsed, _) =>
        {
            var sizes = ParseSizes(parsed.GetValue(trainers)!);
            var backend = parsed.GetValue(persistence) == "postgres" ? PersistenceBackend.Postgres : PersistenceBackend.Sqlite;
            if (backend == PersistenceBackend.Postgres && parsed.GetValue(db) is null) throw new UsageException("--db: PostgreSQL needs a connection string");
            if (parsed.GetValue(rounds) < 1) throw new UsageException("--rounds must be at least 1");
            int n = parsed.GetValue(searches);
            if (n is < 1 or > MaxSearches) throw new UsageException($"--searches: from 1 to {MaxSearches}, not {n}");
            // every size is checked before any node starts
            int fewest = sizes.Min(s => Rounded(s) * parsed.GetValue(rounds));
            if (fewest < n) throw new UsageException($"--searches: {n} searches cannot share {fewest} trials (trainers x rounds)");
            var time = Cluster.Trainer.SimulatedTrialTime.Parse(parsed.GetValue(trialTime)!);
            // the per-search columns only when there are several, so a single search's table reads as before
            Console.WriteLine($"{"trainers",8} {"searches",8} {"trials",7} {"wall s",7} {"trials/s",9} {"ideal/s",8} {"ratio",6} {"p50 ms",7} {"p99 ms",7} {"trial ms",8} {"ctl-cpu",7} {"all-cpu",7}"
                + (n > 1 ? $" {"min/s",7} {"max/s",7}" : ""));
            foreach (var size in sizes)
            {
                var run = await Run(size, parsed.GetValue(rounds), parsed.GetValue(trialTime)!, (time.Min + time.Max) / 2, parsed.GetValue(policyBatch), backend, parsed.GetValue(db), n);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{run.Trainers,8} {run.Searches,8} {run.Trials,7} {run.WallSeconds,7:0.0} {run.Throughput,9:0.0} {run.Ideal,8:0.0} {run.Ratio,6:0.000} {run.P50Ms,7:0.0} {run.P99Ms,7:0.0} {run.TrialP50Ms,8:0.0} {run.ControllerCores,7:0.00} {run.NodeCores,7:0.00}")
                    + (n > 1 ? string.Create(CultureInfo.InvariantCulture, $" {run.MinSearchThroughput,7:0.0} {run.MaxSearchThroughput,7:0.0}") : ""));
            }
            return 0;
        });
        return command;
    }

    /// <param name="TrialP50Ms">The median time from a trial's lease recorded to its completion recorded: the trial time
    /// plus the assignment's and the result's way, so with the dispatch latency it makes up a trainer's cycle.</param>
    /// <param name="MinSearchThroughput">The slowest search's completions over its own first lease to last completion.</param>
    /// <param name="ControllerCores">The controller process's CPU time over the run's wall: 1.0 is one core kept busy.</param>
    /// <param name="NodeCores">The same for all the run's node processes together; the machine's cores bound it.</param>
    public sealed record Figures(int Trainers, int Trials, double WallSeconds, double Throughput, double Ideal, double P50Ms, double P99Ms,
        int Searches = 1, double MinSearchThroughput = double.NaN, double MaxSearchThroughput = double.NaN,
        double ControllerCores = double.NaN, double NodeCores = double.NaN, double TrialP50Ms = double.NaN)
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

    /// <summary>The trainers are spread over three processes, so the count is rounded up to a multiple of three.</summary>
    private static int Rounded(int trainers) => (trainers + TrainerProcesses - 1) / TrainerProcesses * TrainerProcesses;

    /// <summary>
    /// Splits the trials as evenly as they go (the first ones get one more). A policy batch larger than a share is cut
    /// to it, so every search holds at least one batch and learns, as a single search does.
    /// </summary>
    public static SearchSpec[] Specs(string prefix, int trials, int searches, int? policyBatch)
    {
        if (searches < 1 || searches > trials) throw new ArgumentOutOfRangeException(nameof(searches), $"{searches} searches cannot share {trials} trials");
        return Enumerable.Range(0, searches).Select(i =>
        {
            int share = trials / searches + (i < trials % searches ? 1 : 0);
            var spec = new SearchSpec(searches == 1 ? prefix : $"{prefix}-{i + 1}", Trials: share, TrainSteps: 10, LeaseSeconds: 600);
            return spec with { PolicyBatch = Math.Min(policyBatch ?? spec.PolicyBatch, share) };
        }).ToArray();
    }

    /// <summary>One run of <paramref name="searches"/> searches posted at once, S x rounds trials among them.</summary>
    public static async Task<Figures> Run(int trainers, int rounds, string trialTime, TimeSpan meanTrialTime, int? policyBatch,
        PersistenceBackend backend, string? postgres, int searches = 1)
    {
        int total = Rounded(trainers);
        int perProcess = total / TrainerProcesses;
        var work = Directory.CreateTempSubdirectory("autodropout-bench-cluster-").FullName;
        int trials = total * rounds;
        var specs = Specs($"bench-{total}-{Guid.NewGuid():N}"[..20], trials, searches, policyBatch);
        string[] journal = backend == PersistenceBackend.Postgres ? ["--persistence", "postgres", "--db", postgres!] : [];
        (double Controller, double All) cores;
        try
        {
            using (var cluster = await LocalCluster.Start(work, TrainerProcesses, TimeSpan.FromMinutes(2), journal,
                ["--cmd-port", "-1", "--simulate", perProcess.ToString(CultureInfo.InvariantCulture), "--trial-time", trialTime]))
            {
                using var client = new ControlClient(cluster.Endpoint, cluster.Token);
                var nodes = new[] { cluster.Controller!, cluster.Seed! }.Concat(cluster.Trainers).ToArray();
                var cpuBefore = nodes.Select(CpuTime).ToArray();
                var measured = Stopwatch.StartNew();
                await Task.WhenAll(specs.Select(spec => client.Post("v1/searches", ControlClient.SpecJson(spec), MessageJsonContext.Default.CommandAccepted)));
                var names = specs.Select(s => s.Name).ToHashSet();
                var clock = Stopwatch.StartNew();
                while (true)
                {
                    await Task.Delay(250);
                    var list = await client.Get("v1/searches", MessageJsonContext.Default.SearchList);
                    if (list.Searches.Count(s => names.Contains(s.Name) && s.Status == SearchStatus.Completed) == names.Count) break;
                    if (clock.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException($"{trials} trials did not finish in 30 minutes");
                }
                var cpu = nodes.Select((node, i) => (CpuTime(node) - cpuBefore[i]).TotalSeconds / measured.Elapsed.TotalSeconds).ToArray();
                cluster.Stop();
                cores = (cpu[0], cpu.Sum());
            }
            var connection = backend == PersistenceBackend.Postgres ? postgres! : Path.Combine(work, "autodropout.db");
            var figures = Measure(specs.Select(s => Timeline(backend, connection, SearchController.PersistenceIdFor(s.Name))).ToArray(), total, meanTrialTime);
            return figures with { ControllerCores = cores.Controller, NodeCores = cores.All };
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>CPU time a node's process has used; saturation shows as a node using a whole core of the run's wall.</summary>
    private static TimeSpan CpuTime(NodeProcess node) => Process.GetProcessById(node.ProcessId).TotalProcessorTime;

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
    public static Figures Measure(IReadOnlyList<(DateTime Written, ISearchEvent Event)> events, int trainers, TimeSpan meanTrialTime) =>
        Measure([events], trainers, meanTrialTime);

    /// <summary>
    /// Several searches' timelines merged by written time: throughput from the first lease of any to the last
    /// completion of any, and per trainer a completion in any search to its next lease in any, since a trainer is
    /// idle in between whichever search it serves next. Each search's own throughput runs over its own span.
    /// </summary>
    public static Figures Measure(IReadOnlyList<IReadOnlyList<(DateTime Written, ISearchEvent Event)>> timelines, int trainers, TimeSpan meanTrialTime)
    {
        if (timelines.Count == 0) throw new ArgumentException("no search to measure", nameof(timelines));
        var perSearch = timelines.Select(Span).ToArray();
        // OrderBy is stable: a search's own events keep their journal order on equal times
        var events = timelines.SelectMany(t => t).OrderBy(e => e.Written).ToArray();
        var completions = events.Where(e => e.Event is TrialCompleted).ToArray();
        var wall = (completions[^1].Written - events.First(e => e.Event is TrialLeased).Written).TotalSeconds;
        var gaps = new List<double>();
        var spans = new List<double>();
        var lastCompleted = new Dictionary<string, DateTime>();
        var lastLeased = new Dictionary<string, DateTime>();
        foreach (var (written, e) in events)
        {
            if (e is TrialCompleted c)
            {
                lastCompleted[c.TrainerId] = written;
                if (lastLeased.Remove(c.TrainerId, out var leased)) spans.Add((written - leased).TotalMilliseconds);
            }
            else if (e is TrialLeased l)
            {
                lastLeased[l.TrainerId] = written;
                if (lastCompleted.Remove(l.TrainerId, out var done)) gaps.Add((written - done).TotalMilliseconds);
            }
        }
        gaps.Sort();
        spans.Sort();
        return new Figures(trainers, completions.Length, wall, completions.Length / wall, trainers / meanTrialTime.TotalSeconds,
            Percentile(gaps, 0.50), Percentile(gaps, 0.99), timelines.Count, perSearch.Min(), perSearch.Max(), TrialP50Ms: Percentile(spans, 0.50));
    }

    /// <param name="sorted">Values in ascending order.</param>
    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static double Span(IReadOnlyList<(DateTime Written, ISearchEvent Event)> events)
    {
        var completions = events.Where(e => e.Event is TrialCompleted).ToArray();
        if (completions.Length == 0) throw new InvalidOperationException("a search's journal holds no completed trial");
        var wall = (completions.Max(e => e.Written) - events.Where(e => e.Event is TrialLeased).Min(e => e.Written)).TotalSeconds;
        return completions.Length / wall;
    }
}

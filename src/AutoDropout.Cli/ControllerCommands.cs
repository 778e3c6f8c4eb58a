using System.CommandLine;
using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Messages;
using AutoDropout.Torch;

namespace AutoDropout.Cli;

/// <summary>`autodropout controller verify NAME`: rebuilds a search from its journal alone and compares it with the live controller.</summary>
public static class ControllerCommands
{
    public static Command Create()
    {
        var endpoint = new EndpointOptions();
        var controller = new Command("controller", "checks on the controller");
        endpoint.AddTo(controller);
        var verify = new Command("verify", "rebuild a search from its journal alone (no snapshots) and compare its policy state with the live controller's; exits 1 when they differ");
        var name = new Argument<string>("NAME") { Description = "the search's name" };
        var persistence = CliOptions.Text("--persistence", "the journal's back-end (default sqlite, or AUTODROPOUT_PERSISTENCE)", "sqlite|postgres");
        var db = CliOptions.Text("--db", "the SQLite file or PostgreSQL connection string (default the state directory's autodropout.db, or AUTODROPOUT_DB)", "FILE|CONNSTR");
        verify.Add(name);
        verify.Add(persistence);
        verify.Add(db);
        verify.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            return await Verify(
                result.GetValue(name)!,
                client,
                (result.GetValue(persistence) ?? CliOptions.Environment("AUTODROPOUT_PERSISTENCE") ?? "sqlite") == "postgres" ? PersistenceBackend.Postgres : PersistenceBackend.Sqlite,
                result.GetValue(db) ?? CliOptions.Environment("AUTODROPOUT_DB") ?? Path.Combine(Tokens.StateDirectory, "autodropout.db"),
                result.GetValue(endpoint.Json));
        });
        controller.Add(verify);
        controller.Add(Status(endpoint));
        controller.Add(Doctor());
        return controller;
    }

    /// <summary>`controller status`: where the singleton runs and what it serves from, as the controller says.</summary>
    private static Command Status(EndpointOptions endpoint)
    {
        var status = new Command("status", "the controller singleton: its node, its journal (kind and location, no secrets), the newest snapshot's age, searches loaded");
        status.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            var s = await client.Get("v1/controller", MessageJsonContext.Default.ControllerStatus);
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(s, MessageJsonContext.Default.ControllerStatus)); return ExitCodes.Ok; }
            foreach (var line in StatusLines(s, DateTimeOffset.UtcNow)) Console.WriteLine(line);
            return ExitCodes.Ok;
        });
        return status;
    }

    public static IEnumerable<string> StatusLines(ControllerStatus s, DateTimeOffset now)
    {
        yield return $"singleton:  {s.Node}";
        yield return $"journal:    {s.Journal} {s.JournalLocation}" + (s.JournalId is { } id ? $" (id {id})" : "");
        yield return "snapshot:   " + (s.NewestSnapshot is { } at
            ? $"newest {Age(now - at)} ago ({at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)} UTC)"
            : "none");
        yield return $"searches:   {s.Searches} loaded, {s.Evaluations} evaluation jobs";
    }

    /// <summary>"42 s", "3 min 5 s", "2 h 10 min", "4 d 3 h".</summary>
    public static string Age(TimeSpan age)
    {
        if (age < TimeSpan.Zero) age = TimeSpan.Zero;
        return age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds} s"
            : age.TotalHours < 1 ? $"{(int)age.TotalMinutes} min {age.Seconds} s"
            : age.TotalDays < 1 ? $"{(int)age.TotalHours} h {age.Minutes} min"
            : $"{(int)age.TotalDays} d {age.Hours} h";
    }

    /// <summary>`controller doctor`: decodes every event and snapshot of a journal offline and names what cannot be read.</summary>
    private static Command Doctor()
    {
        var doctor = new Command("doctor", "read every event and snapshot of a journal with this version's codec and name what cannot be read; exits 1 when something cannot");
        var persistence = CliOptions.Text("--persistence", "the journal's back-end (default sqlite, or AUTODROPOUT_PERSISTENCE)", "sqlite|postgres");
        var db = CliOptions.Text("--db", "the SQLite file or PostgreSQL connection string (default the state directory's autodropout.db, or AUTODROPOUT_DB)", "FILE|CONNSTR");
        doctor.Add(persistence);
        doctor.Add(db);
        doctor.SetAction((result, _) =>
        {
            var backend = ControllerNode.ParseBackend(result.GetValue(persistence) ?? CliOptions.Environment("AUTODROPOUT_PERSISTENCE") ?? "sqlite");
            var database = result.GetValue(db) ?? CliOptions.Environment("AUTODROPOUT_DB") ?? Path.Combine(Tokens.StateDirectory, "autodropout.db");
            if (backend == PersistenceBackend.Sqlite && !database.Contains('=') && !File.Exists(database))
                throw new UsageException($"--db: no such file: {database}");
            var report = JournalDoctor.Examine(backend, database);
            foreach (var id in report)
            {
                Console.WriteLine($"{id.PersistenceId}: {id.Events} events, {id.Snapshots} snapshots: {(id.Healthy ? "all readable" : $"{id.Unreadable.Count} unreadable")}");
                foreach (var row in id.Unreadable)
                    Console.WriteLine($"  {(row.Table == "journal" ? "event" : "snapshot")} {row.SequenceNr} ({row.Manifest}): {row.Error}");
            }
            Console.WriteLine(report.Count == 0 ? "the journal is empty" : report.All(r => r.Healthy) ? "everything reads" : "some rows cannot be read: see above");
            return Task.FromResult(report.All(r => r.Healthy) ? ExitCodes.Ok : ExitCodes.Failed);
        });
        return doctor;
    }

    private static async Task<int> Verify(string name, ControlClient client, PersistenceBackend backend, string db, bool json)
    {
        var live = await client.Get($"v1/searches/{Uri.EscapeDataString(name)}", MessageJsonContext.Default.SearchDetails);

        var config = NodeConfig.Local(ControllerNode.PersistenceConfig(backend, db));
        using var system = ActorSystem.Create("verify", config);
        SearchDetails rebuilt;
        try
        {
            TorchRuntime.UseThreads(1);
            var replay = system.ActorOf(SearchReplayer.Props(name), "rebuild");
            rebuilt = await replay.Ask<object>(new GetSearch(name), TimeSpan.FromMinutes(5)) switch
            {
                SearchDetails d => d,
                CommandRejected r => throw new ControlException(ExitCodes.NotFound, $"the journal has no search '{name}': {r.Reason}"),
                var other => throw new InvalidOperationException($"unexpected reply {other}"),
            };
            // the live search may have moved on while we replayed: catch up with it (or it with us) a few times
            for (int attempt = 0; attempt < 10 && live.Summary.PolicyVersion != rebuilt.Summary.PolicyVersion; attempt++)
            {
                await Task.Delay(500);
                live = await client.Get($"v1/searches/{Uri.EscapeDataString(name)}", MessageJsonContext.Default.SearchDetails);
                if (live.Summary.PolicyVersion > rebuilt.Summary.PolicyVersion)
                {
                    await replay.GracefulStop(TimeSpan.FromSeconds(5));
                    replay = system.ActorOf(SearchReplayer.Props(name), $"rebuild-{attempt}");
                    rebuilt = (SearchDetails)await replay.Ask<object>(new GetSearch(name), TimeSpan.FromMinutes(5));
                }
            }
        }
        finally
        {
            await system.Terminate();
        }

        bool same = live.PolicyHash == rebuilt.PolicyHash && live.Summary.PolicyVersion == rebuilt.Summary.PolicyVersion;
        if (json)
            Console.WriteLine($$"""{"search":"{{name}}","live_hash":"{{live.PolicyHash}}","journal_hash":"{{rebuilt.PolicyHash}}","live_version":{{live.Summary.PolicyVersion}},"journal_version":{{rebuilt.Summary.PolicyVersion}},"equal":{{(same ? "true" : "false")}}}""");
        else
        {
            Console.WriteLine($"live controller:   policy v{live.Summary.PolicyVersion}, state {live.PolicyHash}");
            Console.WriteLine($"journal rebuilt:   policy v{rebuilt.Summary.PolicyVersion}, state {rebuilt.PolicyHash}");
            Console.WriteLine(same ? "identical" : "DIFFERENT: the live state is not what its journal implies");
        }
        return same ? ExitCodes.Ok : ExitCodes.Failed;
    }
}

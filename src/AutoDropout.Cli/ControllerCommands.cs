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
    public static async Task<int> Run(Args args)
    {
        if (args.Positional.ElementAtOrDefault(1) != "verify") throw new UsageException("controller needs a verb: verify");
        var name = args.Positional.ElementAtOrDefault(2) ?? throw new UsageException("controller verify needs a search name");
        var endpoint = args.GetOr("endpoint", "127.0.0.1:9110", "AUTODROPOUT_ENDPOINT");
        var backend = args.GetOr("persistence", "sqlite", "AUTODROPOUT_PERSISTENCE") == "postgres" ? PersistenceBackend.Postgres : PersistenceBackend.Sqlite;
        var db = args.Get("db", environment: "AUTODROPOUT_DB") ?? Path.Combine(Tokens.StateDirectory, "autodropout.db");
        bool json = args.Flag("json");
        args.RejectUnknown();

        using var client = new ControlClient(endpoint, null);
        var live = await client.Get($"v1/searches/{Uri.EscapeDataString(name)}", MessageJsonContext.Default.SearchDetails);

        var config = NodeConfig.Local(ControllerNode.PersistenceConfig(backend, db));
        using var system = ActorSystem.Create("verify", config);
        SearchDetails rebuilt;
        try
        {
            TorchRuntime.UseThreads(1);
            var replay = system.ActorOf(SearchController.Props(name, rebuildOnly: true), "rebuild");
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
                    replay = system.ActorOf(SearchController.Props(name, rebuildOnly: true), $"rebuild-{attempt}");
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

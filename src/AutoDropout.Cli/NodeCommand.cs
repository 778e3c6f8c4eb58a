using System.Runtime.InteropServices;
using System.Text.Json;
using Akka.Actor;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Seed;
using AutoDropout.Cluster.Trainer;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cli;

/// <summary>`autodropout node seed|controller|trainer`: runs one node until it is stopped (SIGTERM, Ctrl+C).</summary>
public static class NodeCommand
{
    public static int Run(Args args)
    {
        var role = args.Positional.ElementAtOrDefault(1) ?? throw new UsageException("node needs a role: seed, controller or trainer");
        var host = args.GetOr("host", "127.0.0.1", "AUTODROPOUT_HOST");
        int port = args.GetInt("port", role == "seed" ? NodeOptions.DefaultSeedPort : 0, "AUTODROPOUT_PORT");
        var seeds = args.Get("seed-nodes", environment: "AUTODROPOUT_SEEDS") is { } s
            ? s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : role == "seed" ? [] : [$"127.0.0.1:{NodeOptions.DefaultSeedPort}"];
        var token = args.Get("token", environment: "AUTODROPOUT_TOKEN") ?? Tokens.LoadOrCreate();
        var node = new NodeOptions(host, port, seeds, args.GetInt("cmd-port", 0, "AUTODROPOUT_CMD_PORT"),
            args.GetOr("cmd-host", "127.0.0.1", "AUTODROPOUT_CMD_HOST"), token,
            args.Get("parent-pid") is { } pid ? int.Parse(pid) : null, args.Get("config", environment: "AUTODROPOUT_CONFIG"));
        var readyFile = args.Get("ready-file");

        Akka.Configuration.Config config;
        Action<ActorSystem, IActorRef> start;
        switch (role)
        {
            case "seed":
                config = SeedNode.Config(node);
                start = (system, _) => SeedNode.Start(system);
                break;
            case "controller":
                var backend = args.GetOr("persistence", "sqlite", "AUTODROPOUT_PERSISTENCE") switch
                {
                    "sqlite" => PersistenceBackend.Sqlite,
                    "postgres" => PersistenceBackend.Postgres,
                    var other => throw new UsageException($"--persistence: '{other}' is not sqlite or postgres"),
                };
                var db = args.Get("db", environment: "AUTODROPOUT_DB")
                    ?? (backend == PersistenceBackend.Sqlite ? Path.Combine(Tokens.StateDirectory, "autodropout.db") : throw new UsageException("--db: PostgreSQL needs a connection string"));
                config = ControllerNode.Config(node, backend, db);
                start = (system, _) => ControllerNode.Start(system);
                break;
            case "trainer":
                var devices = args.GetOr("devices", "cpu", "AUTODROPOUT_DEVICES").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                config = TrainerNode.Config(node);
                start = (system, proxy) => TrainerNode.Start(system, proxy, devices);
                break;
            default:
                throw new UsageException($"unknown role '{role}': expected seed, controller or trainer");
        }
        args.RejectUnknown();

        using var system = ActorSystem.Create(NodeOptions.SystemName, config);
        var proxy = ControllerProxy.Create(system);
        start(system, proxy);
        using var endpoint = node.CommandPort >= 0 ? new CommandEndpoint(system, proxy, node.CommandHost, node.CommandPort, token) : null;

        var shutdown = CoordinatedShutdown.Get(system);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; _ = shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; _ = shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance); });
        if (node.ParentProcessId is { } parent)
            ParentWatchdog.Start(parent, () => shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(10)));

        ClusterExtension.Get(system).RegisterOnMemberUp(() =>
        {
            var self = ClusterExtension.Get(system).SelfAddress;
            Console.Error.WriteLine($"autodropout {role} node up at {self.Host}:{self.Port}" + (endpoint is null ? "" : $", commands on {node.CommandHost}:{endpoint.Port}"));
            if (readyFile is not null)
            {
                var ready = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["role"] = role, ["akka_port"] = self.Port ?? 0, ["cmd_port"] = endpoint?.Port ?? -1, ["pid"] = Environment.ProcessId,
                });
                File.WriteAllText(readyFile + ".tmp", ready);
                File.Move(readyFile + ".tmp", readyFile, true);
            }
        });
        system.WhenTerminated.Wait();
        return ExitCodes.Ok;
    }
}

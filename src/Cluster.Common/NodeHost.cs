using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>The three kinds of node; each is also its cluster role.</summary>
public enum NodeRole { Seed, Controller, Trainer }

/// <summary>
/// Builds a node as a generic host running one ActorSystem through Akka.Hosting. Configuration, from strongest to
/// weakest: command-line options, AUTODROPOUT_* variables, the --config file, the role's HOCON file (plus, for the
/// controller, its persistence file), base.conf. The serializer is bound once, in base.conf, through the
/// IAutoDropoutMessage marker. SIGTERM or Ctrl+C stops the host, which runs coordinated shutdown: the node leaves
/// the cluster and the process exits 0.
/// </summary>
public static class NodeHost
{
    public static string RoleName(NodeRole role) => role.ToString().ToLowerInvariant();

    /// <param name="roleFiles">The role's embedded HOCON files, strongest first.</param>
    /// <param name="configureRole">Adds the role's actors (and the controller proxy, or the singleton that makes it).</param>
    public static IHost Create(NodeRole role, NodeOptions options, Func<string, string?>? environment,
        IEnumerable<string> roleFiles, Action<AkkaConfigurationBuilder> configureRole)
    {
        var node = options.Over(NodeOptions.FromEnvironment(environment ?? NodeEnvironment.Process));
        int commandPort = node.CommandPort ?? 0;
        var token = commandPort < 0 ? "" : node.Token ?? NodeState.LoadOrCreateToken();
        var files = new List<Config>();
        if (node.ConfigFile is not null) files.Add(ConfigurationFactory.ParseString(File.ReadAllText(node.ConfigFile)));
        files.AddRange(roleFiles.Select(NodeConfig.EmbeddedConfig));
        files.Add(NodeConfig.EmbeddedConfig("base.conf"));

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddAkka(NodeOptions.SystemName, (akka, services) =>
        {
            // files first, appended: whatever comes later from Akka.Hosting's defaults sits under them, and the
            // options below are prepended over them
            foreach (var file in files) akka.AddHocon(file, HoconAddMode.Append);
            // every member advertises its version; VersionWatch compares them as nodes join
            akka.AddHocon($"akka.cluster.app-version = \"{ProductVersion.Version}\"", HoconAddMode.Prepend);
            akka.WithRemoting(new RemoteOptions { HostName = node.Host, Port = node.Port });
            akka.WithClustering(new ClusterOptions
            {
                Roles = [RoleName(role)],
                SeedNodes = node.SeedNodes?.Select(SeedAddress).ToArray(),
            });
            configureRole(akka);
            var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
            akka.AddStartup((system, registry) => Started(system, registry, role, node, commandPort, token, lifetime));
        });
        return builder.Build();
    }

    /// <summary>Runs a node until it is stopped; the exit code is non-zero when the cluster downed it.</summary>
    public static int Run(IHost host)
    {
        host.Run();
        return Environment.ExitCode;
    }

    public static string SeedAddress(string hostAndPort) => $"akka.tcp://{NodeOptions.SystemName}@{hostAndPort}";

    private static void Started(ActorSystem system, IActorRegistry registry, NodeRole role, NodeOptions node,
        int commandPort, string token, IHostApplicationLifetime lifetime)
    {
        var cluster = ClusterExtension.Get(system);
        if (system.Settings.Config.GetStringList("akka.cluster.seed-nodes").Count == 0)
        {
            // a seed restarted on its address asks the members it last saw first (with itself first in the list it
            // joins itself only when none of them answers within seed-node-timeout); with none it starts the cluster
            var known = role == NodeRole.Seed ? SeedMemory.Read(cluster.SelfAddress.Port ?? 0) : [];
            if (known.Count > 0) cluster.JoinSeedNodes([cluster.SelfAddress, .. known]);
            else cluster.Join(cluster.SelfAddress);
        }

        var commandHost = node.CommandHost ?? "127.0.0.1";
        var endpoint = commandPort >= 0
            ? new CommandEndpoint(system, registry.Get<ControllerProxy>(), commandHost, commandPort, token)
            : null;
        if (endpoint is not null)
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "command-endpoint", () =>
            {
                endpoint.Dispose();
                return Task.FromResult(Done.Instance);
            });
        if (node.ParentProcessId is { } parent) ParentWatchdog.Start(parent, lifetime.StopApplication);
        system.ActorOf(Props.Create(() => new VersionWatch()), "version-watch");

        cluster.RegisterOnMemberUp(() =>
        {
            var self = cluster.SelfAddress;
            Console.Error.WriteLine($"autodropout {RoleName(role)} node {ProductVersion.Full} up at {self.Host}:{self.Port}"
                + (endpoint is null ? "" : $", commands on {commandHost}:{endpoint.Port}"));
            if (node.ReadyFile is { } readyFile)
            {
                var ready = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["role"] = RoleName(role),
                    ["akka_port"] = self.Port ?? 0,
                    ["cmd_port"] = endpoint?.Port ?? -1,
                    ["pid"] = Environment.ProcessId,
                });
                File.WriteAllText(readyFile + ".tmp", ready);
                File.Move(readyFile + ".tmp", readyFile, true);
            }
        });
    }
}

using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.Event;
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
        environment ??= NodeEnvironment.Process;
        var fromEnvironment = NodeOptions.FromEnvironment(environment);
        var node = options.Over(fromEnvironment);
        NodeLogging.Configure(node.LogFormat);
        int commandPort = node.CommandPort ?? 0;
        var tokens = commandPort < 0 ? null : Tokens(options, fromEnvironment);
        var endpointCertificate = commandPort >= 0 && node.CommandTlsCertificate is { } endpointPath
            ? ClusterTls.LoadEndpoint(endpointPath, environment)
            : null;
        var certificate = node.TlsCertificate is { } certificatePath
            ? ClusterTls.Load(certificatePath, ClusterTls.Password(environment))
            : null;
        var files = new List<Config>();
        if (node.ConfigFile is not null) files.Add(ConfigurationFactory.ParseString(File.ReadAllText(node.ConfigFile)));
        files.AddRange(roleFiles.Select(NodeConfig.EmbeddedConfig));
        files.Add(NodeConfig.EmbeddedConfig("base.conf"));
        var seedNodes = node.SeedNodes?.Select(s => SeedAddress(s, certificate is not null)).ToArray()
            ?? (certificate is null ? null : SeedsOverTls(files));

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddAkka(NodeOptions.SystemName, (akka, services) =>
        {
            // files first, appended: whatever comes later from Akka.Hosting's defaults sits under them, and the
            // options below are prepended over them
            foreach (var file in files) akka.AddHocon(file, HoconAddMode.Append);
            // every member advertises its version; VersionWatch compares them as nodes join
            akka.AddHocon($"akka.cluster.app-version = \"{ProductVersion.Version}\"", HoconAddMode.Prepend);
            akka.WithRemoting(Remoting(node, certificate));
            akka.WithClustering(new ClusterOptions { Roles = [RoleName(role)], SeedNodes = seedNodes });
            configureRole(akka);
            var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
            akka.AddStartup((system, registry) => Started(system, registry, role, node, certificate, commandPort, tokens, endpointCertificate, lifetime));
        });
        return builder.Build();
    }

    /// <summary>
    /// Runs a node until it is stopped; the exit code is non-zero when the cluster downed it or the node shut itself
    /// down for a reason that carries one (a controller refusing a foreign journal).
    /// </summary>
    public static int Run(IHost host)
    {
        host.Run();
        return Environment.ExitCode;
    }

    /// <summary>A seed's address; with TLS, Akka's scheme is akka.ssl.tcp.</summary>
    public static string SeedAddress(string hostAndPort, bool tls = false) =>
        $"{(tls ? "akka.ssl.tcp" : "akka.tcp")}://{NodeOptions.SystemName}@{hostAndPort}";

    /// <summary>
    /// Each token from the command-line layer's file, then its variable (AUTODROPOUT_TOKEN, AUTODROPOUT_READ_TOKEN),
    /// then its file variable, then the state directory's file (created when missing).
    /// </summary>
    private static CommandTokens Tokens(NodeOptions commandLine, NodeOptions environment) => new(
        Token(commandLine.TokenFile, commandLine.Token ?? environment.Token, environment.TokenFile, NodeState.TokenFile),
        Token(commandLine.ReadTokenFile, commandLine.ReadToken ?? environment.ReadToken, environment.ReadTokenFile, NodeState.ReadTokenFile));

    private static string Token(string? optionFile, string? value, string? environmentFile, string defaultFile) =>
        optionFile is not null ? NodeState.ReadToken(optionFile)
        : value ?? (environmentFile is not null ? NodeState.ReadToken(environmentFile) : NodeState.LoadOrCreateToken(defaultFile));

    /// <summary>
    /// Remoting with TLS when the node has the cluster certificate: both ends must present it (mutual
    /// authentication), and a peer is accepted only if its certificate is the same one.
    /// </summary>
    private static RemoteOptions Remoting(NodeOptions node, X509Certificate2? certificate) =>
        certificate is null
            ? new RemoteOptions { HostName = node.Host, Port = node.Port }
            : new RemoteOptions
            {
                HostName = node.Host,
                Port = node.Port,
                EnableSsl = true,
                Ssl = new SslOptions
                {
                    X509Certificate = certificate,
                    SuppressValidation = false,
                    RequireMutualAuthentication = true,
                    ValidateCertificateHostname = false,
                    CustomValidator = ClusterTls.Pinned(certificate),
                },
            };

    /// <summary>The HOCON files' seeds (base.conf's default among them) in the TLS scheme.</summary>
    private static string[]? SeedsOverTls(IEnumerable<Config> files)
    {
        var merged = files.Aggregate((stronger, weaker) => stronger.WithFallback(weaker));
        var seeds = merged.GetStringList("akka.cluster.seed-nodes");
        return seeds.Count == 0 ? null
            : seeds.Select(s => s.Replace("akka.tcp://", "akka.ssl.tcp://", StringComparison.Ordinal)).ToArray();
    }

    private static void Started(ActorSystem system, IActorRegistry registry, NodeRole role, NodeOptions node,
        X509Certificate2? certificate, int commandPort, CommandTokens? tokens, X509Certificate2? endpointCertificate,
        IHostApplicationLifetime lifetime)
    {
        var cluster = ClusterExtension.Get(system);
        if (certificate is null) system.Log.Warning(ClusterTls.PlainWarning(cluster.SelfAddress.Host, cluster.SelfAddress.Port));
        else system.Log.Info("remoting over TLS; peers must present the cluster certificate {0}", ClusterTls.Fingerprint(certificate));
        if (system.Settings.Config.GetStringList("akka.cluster.seed-nodes").Count == 0)
        {
            // a seed restarted on its address asks the members it last saw first (with itself first in the list it
            // joins itself only when none of them answers within seed-node-timeout); with none it starts the cluster
            var known = role == NodeRole.Seed ? SeedMemory.Read(cluster.SelfAddress.Port ?? 0) : [];
            if (known.Count > 0) cluster.JoinSeedNodes([cluster.SelfAddress, .. known]);
            else cluster.Join(cluster.SelfAddress);
        }

        var commandHost = node.CommandHost ?? "127.0.0.1";
        var endpoint = tokens is not null
            ? new CommandEndpoint(system, registry.Get<ControllerProxy>(), commandHost, commandPort, tokens, endpointCertificate, NodeState.AuditFile)
            : null;
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "exit-code", () =>
        {
            if (shutdown.ShutdownReason is NodeFailedReason failed) Environment.ExitCode = failed.ExitCode;
            return Task.FromResult(Done.Instance);
        });
        if (endpoint is not null)
            shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "command-endpoint", () =>
            {
                endpoint.Dispose();
                return Task.FromResult(Done.Instance);
            });
        // every node keeps a replica of the cluster's small shared records (the controller's journal id), so they
        // outlive any one controller
        DistributedData.Get(system);
        if (node.ParentProcessId is { } parent) ParentWatchdog.Start(parent, lifetime.StopApplication);
        system.ActorOf(Props.Create(() => new VersionWatch()), "version-watch");

        cluster.RegisterOnMemberUp(() =>
        {
            var self = cluster.SelfAddress;
            Console.Error.WriteLine($"autodropout {RoleName(role)} node {ProductVersion.Full} up at {self.Host}:{self.Port}"
                + (endpoint is null ? "" : $", commands on {(endpointCertificate is null ? "" : "https://")}{commandHost}:{endpoint.Port}"));
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

/// <summary>A node shutting itself down because it must not run on (exit code 1), e.g. a controller on a foreign journal.</summary>
public abstract class NodeFailedReason : CoordinatedShutdown.Reason
{
    public override int ExitCode => 1;
}

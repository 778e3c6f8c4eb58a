using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// Real processes on loopback with TLS remoting: nodes holding the cluster certificate form a cluster; a node with
/// another certificate, even one that accepts any certificate itself, or a node without TLS does not become a member.
/// </summary>
[Collection(nameof(ProcessTests))]
public class TlsClusterTests : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-tls-cluster-").FullName;

    private Dictionary<string, string> Node(string? certificate, string password = "") => new()
    {
        [NodeEnvironment.TlsCertificate] = certificate ?? "",
        [NodeEnvironment.TlsPassword] = password,
        [NodeEnvironment.TlsPasswordFile] = "",
        [NodeEnvironment.Token] = "t",
        [NodeEnvironment.Home] = _work,
        ["OMP_NUM_THREADS"] = "1",
    };

    [Fact]
    public async Task Only_nodes_holding_the_cluster_certificate_become_members()
    {
        var clusterFile = Path.Combine(_work, "cluster.pfx");
        using var cluster = ClusterTls.Create("cluster", TimeSpan.FromDays(1));
        ClusterTls.Write(cluster, clusterFile, "right");
        using var other = ClusterTls.Create("cluster", TimeSpan.FromDays(1));

        int seedPort = NodeProcess.FreePort();
        var seedAddress = $"127.0.0.1:{seedPort}";
        using var seed = NodeProcess.Start("seed", NodeRole.Seed, ["--port", $"{seedPort}", "--cmd-port", "0"], _work, Node(clusterFile, "right"));
        int seedCommands = await seed.WaitReady(Ready);
        using var trainer = NodeProcess.Start("trainer", NodeRole.Trainer,
            ["--port", "0", "--seed-nodes", seedAddress, "--cmd-port", "-1", "--devices", "cpu"], _work, Node(clusterFile, "right"));
        await trainer.WaitReady(Ready);

        // no TLS at all: the operator forgot the certificate
        using var plain = NodeProcess.Start("plain", NodeRole.Seed, ["--port", "0", "--seed-nodes", seedAddress, "--cmd-port", "-1"], _work, Node(null));
        // another certificate, on a node that would accept any peer: only the seed's own check stands in its way
        var intruderJoined = new TaskCompletionSource();
        using var intruder = ActorSystem.Create(NodeOptions.SystemName, ActorSystemSetup.Create(
            BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString($$"""
                akka.loglevel = WARNING
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, enable-ssl = true }
                akka.cluster.seed-nodes = ["{{NodeHost.SeedAddress(seedAddress, tls: true)}}"]
                """)),
            new DotNettySslSetup(other, suppressValidation: true, requireMutualAuthentication: true, validateCertificateHostname: false,
                customValidator: (_, _, _, _, _) => true)));
        ClusterExtension.Get(intruder).RegisterOnMemberUp(() => intruderJoined.TrySetResult());

        // joins are retried every few seconds; give both several chances
        var refusedInLog = false;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline && !refusedInLog; await Task.Delay(500))
            refusedInLog = LogOf("seed").Contains("is not this cluster's certificate", StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.True(refusedInLog, "the seed did not log the refused certificate:\n" + LogOf("seed"));
        Assert.False(intruderJoined.Task.IsCompleted, "a node with another certificate joined");
        Assert.False(File.Exists(plain.ReadyFile), "a node without TLS joined");
        using var client = new ControlClient($"127.0.0.1:{seedCommands}", "t");
        var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
        Assert.Equal(["seed", "trainer"], view.Members.SelectMany(m => m.Roles).Order().ToArray());
        Assert.All(view.Members, m => Assert.StartsWith("akka.ssl.tcp://", m.Address, StringComparison.Ordinal));
        Assert.Contains("plain TCP without a cluster certificate", LogOf("plain"), StringComparison.Ordinal);

        await intruder.Terminate();
        trainer.Stop(TimeSpan.FromSeconds(15));
        seed.Stop(TimeSpan.FromSeconds(15));
    }

    private string LogOf(string node)
    {
        using var stream = new FileStream(Path.Combine(_work, $"{node}.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

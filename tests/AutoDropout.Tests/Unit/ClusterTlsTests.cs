using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Transport.DotNetty;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Seed;
using AutoDropout.Cluster.Trainer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// The cluster certificate (how it is made, stored and pinned), how nodes take it and their token without putting
/// secrets on the command line, and the owner-only token file.
/// </summary>
public class ClusterTlsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-tls-").FullName;

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static Config ComposedConfig(IHost host) =>
        host.Services.GetRequiredService<AkkaConfigurationBuilder>().Configuration.Value;

    private static bool Accepts(CertificateValidationCallback pinned, X509Certificate2? peer) =>
        pinned(peer, null, "akka.ssl.tcp://autodropout@127.0.0.1:1", SslPolicyErrors.RemoteCertificateChainErrors, NoLogger.Instance);

    [Fact]
    public void Make_cert_writes_an_owner_only_PKCS12_file_for_both_ends_of_TLS_and_never_overwrites()
    {
        var passwordFile = Path.Combine(_work, "password");
        File.WriteAllText(passwordFile, "s3cret\n");
        var path = Path.Combine(_work, "cluster.pfx");

        Assert.Equal(ExitCodes.Ok, TlsCommands.Make(path, passwordFile, 3650, "test-cluster", Environment()));

        if (!OperatingSystem.IsWindows()) Assert.Equal(ClusterTls.OwnerOnly, File.GetUnixFileMode(path));
        using var certificate = ClusterTls.Load(path, "s3cret");
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=test-cluster", certificate.Subject);
        Assert.Equal(certificate.Subject, certificate.Issuer); // self-signed
        Assert.True(certificate.NotAfter > DateTime.Now.AddYears(9));
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages
            .Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToArray();
        Assert.Contains(ClusterTls.ServerAuth, usages);
        Assert.Contains(ClusterTls.ClientAuth, usages);
        Assert.Contains("wrong password", Assert.Throws<InvalidOperationException>(() => ClusterTls.Load(path, "wrong")).Message);

        var before = File.ReadAllBytes(path);
        Assert.Throws<IOException>(() => TlsCommands.Make(path, passwordFile, 3650, "test-cluster", Environment()));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_node_accepts_only_a_peer_presenting_the_cluster_certificate_itself()
    {
        using var cluster = ClusterTls.Create("cluster", TimeSpan.FromDays(1));
        using var other = ClusterTls.Create("cluster", TimeSpan.FromDays(1)); // same name, another key
        using var sameCertificate = X509CertificateLoader.LoadCertificate(cluster.RawData); // as a peer sends it: no key
        var pinned = ClusterTls.Pinned(cluster);

        Assert.True(Accepts(pinned, sameCertificate)); // chain errors are expected of a self-signed certificate
        Assert.False(Accepts(pinned, other));
        Assert.False(Accepts(pinned, null));
        Assert.NotEqual(ClusterTls.Fingerprint(cluster), ClusterTls.Fingerprint(other));
    }

    [Fact]
    public void The_certificate_password_comes_from_a_file_or_the_environment_and_never_from_argv()
    {
        var passwordFile = Path.Combine(_work, "password");
        File.WriteAllText(passwordFile, "from-file\nignored\n");
        Assert.Equal("from-file", ClusterTls.Password(Environment((NodeEnvironment.TlsPasswordFile, passwordFile), (NodeEnvironment.TlsPassword, "from-variable"))));
        Assert.Equal("from-variable", ClusterTls.Password(Environment((NodeEnvironment.TlsPassword, "from-variable"))));
        Assert.Equal("", ClusterTls.Password(Environment()));

        var parse = NodeCommand.Create().Parse(["trainer", "--tls-cert", "c.pfx"]);
        Assert.Empty(parse.Errors);
        Assert.Equal("c.pfx", NodeCommandLine.Options(parse).TlsCertificate);
        Assert.Equal("e.pfx", NodeOptions.FromEnvironment(Environment((NodeEnvironment.TlsCertificate, "e.pfx"))).TlsCertificate);
        Assert.NotEmpty(NodeCommand.Create().Parse(["trainer", "--tls-cert", "c.pfx", "--tls-password", "x"]).Errors);
        Assert.NotEmpty(NodeCommand.Create().Parse(["seed", "--tls-password-file", "p"]).Errors);
    }

    [Fact]
    public void Nodes_take_their_token_from_a_file_or_the_environment_and_refuse_it_on_the_command_line()
    {
        var refused = NodeCommand.Create().Parse(["controller", "--token", "visible-in-ps"]);
        var message = Assert.Throws<ArgumentException>(() => NodeCommandLine.Options(refused)).Message;
        Assert.Contains("--token-file", message);

        var parse = NodeCommand.Create().Parse(["trainer", "--token-file", "t"]);
        Assert.Empty(parse.Errors);
        Assert.Equal("t", NodeCommandLine.Options(parse).TokenFile);
        Assert.Equal("f", NodeOptions.FromEnvironment(Environment((NodeEnvironment.TokenFile, "f"))).TokenFile);

        var tokenFile = Path.Combine(_work, "given-token");
        File.WriteAllText(tokenFile, " abc \n");
        Assert.Equal("abc", NodeState.ReadToken(tokenFile));
        File.WriteAllText(tokenFile, "\n");
        Assert.Throws<ArgumentException>(() => NodeState.ReadToken(tokenFile));
    }

    [Fact]
    public void The_default_token_file_is_created_owner_only_and_then_reused()
    {
        var path = Path.Combine(_work, "home", "token");
        var token = NodeState.LoadOrCreateToken(path);
        Assert.Equal(48, token.Length);
        if (!OperatingSystem.IsWindows()) Assert.Equal(ClusterTls.OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(token, NodeState.LoadOrCreateToken(path));

        // the creation itself is owner-only: OwnerOnlyFile refuses to take over a file someone else made first
        Assert.Throws<IOException>(() => OwnerOnlyFile.CreateNew(path).Dispose());
    }

    [Fact]
    public void A_node_with_the_certificate_runs_TLS_remoting_and_joins_its_seeds_in_the_TLS_scheme()
    {
        var path = Path.Combine(_work, "cluster.pfx");
        using (var made = ClusterTls.Create("cluster", TimeSpan.FromDays(1))) ClusterTls.Write(made, path, "pw");
        var env = Environment((NodeEnvironment.TlsCertificate, path), (NodeEnvironment.TlsPassword, "pw"));
        var quiet = new NodeOptions { CommandPort = -1 };

        using var byDefault = TrainerNode.CreateHost(quiet, ["cpu"], env);
        var config = ComposedConfig(byDefault);
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal(["akka.ssl.tcp://autodropout@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes")); // base.conf's seed

        using var given = TrainerNode.CreateHost(quiet with { SeedNodes = ["10.0.0.1:5000"] }, ["cpu"], env);
        Assert.Equal(["akka.ssl.tcp://autodropout@10.0.0.1:5000"], ComposedConfig(given).GetStringList("akka.cluster.seed-nodes"));

        using var plain = TrainerNode.CreateHost(quiet, ["cpu"], Environment());
        config = ComposedConfig(plain);
        Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal(["akka.tcp://autodropout@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));

        using var seed = SeedNode.CreateHost(quiet, env); // joins itself: no seeds
        Assert.Empty(ComposedConfig(seed).GetStringList("akka.cluster.seed-nodes"));
        Assert.Throws<InvalidOperationException>(() =>
            SeedNode.CreateHost(quiet, Environment((NodeEnvironment.TlsCertificate, path), (NodeEnvironment.TlsPassword, "wrong"))));
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

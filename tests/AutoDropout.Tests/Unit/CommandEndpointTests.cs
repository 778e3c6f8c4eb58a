using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// The command endpoint in process, in front of a stub controller (a probe that answers every command): health,
/// the two tokens, the body limit, the audit file, HTTPS, and how tokens are made and refused.
/// </summary>
public sealed class CommandEndpointTests : Akka.TestKit.Xunit2.TestKit
{
    private const string Operator = "operator-token", Reader = "read-token";
    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.loglevel = WARNING
        """);

    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-endpoint-").FullName;
    private readonly TestProbe _controller;

    public CommandEndpointTests() : base(ClusterConfig)
    {
        _controller = CreateTestProbe();
        _controller.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            sender.Tell(message switch
            {
                ListSearches => new SearchList([]),
                _ => new CommandAccepted($"done: {message.GetType().Name}"),
            });
            return AutoPilot.KeepRunning;
        }));
    }

    private CommandEndpoint Endpoint(X509Certificate2? certificate = null) =>
        new(Sys, _controller, "127.0.0.1", 0, new CommandTokens(Operator, Reader), certificate, AuditFile);

    private string AuditFile => Path.Combine(_work, "audit.jsonl");

    private static async Task<(HttpStatusCode Status, string Body)> Send(CommandEndpoint endpoint, HttpMethod method, string path,
        string? token, string? body = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, $"http://127.0.0.1:{endpoint.Port}/{path}");
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            // the endpoint may refuse before reading a large body; the client then never sends it
            request.Headers.ExpectContinue = true;
        }
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_needs_no_token_and_is_ready_once_the_node_is_up()
    {
        using var endpoint = Endpoint();
        var (status, body) = await Send(endpoint, HttpMethod.Get, "v1/health", token: null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"status\":\"ok\"", body);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Send(endpoint, HttpMethod.Get, "v1/health/ready", null)).Status);

        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        await AwaitConditionAsync(async () => (await Send(endpoint, HttpMethod.Get, "v1/health/ready", null)).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20));
        Assert.Contains("\"member\":\"up\"", (await Send(endpoint, HttpMethod.Get, "v1/health", null)).Body);
        _controller.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // health never asks the controller
    }

    [Fact]
    public async Task Reads_need_a_token_and_changes_need_the_operator_token()
    {
        using var endpoint = Endpoint();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(endpoint, HttpMethod.Get, "v1/searches", null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(endpoint, HttpMethod.Get, "v1/searches", "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(endpoint, HttpMethod.Post, "v1/searches/s1/pause", null, "{}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(endpoint, HttpMethod.Delete, "v1/searches/s1", "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(endpoint, HttpMethod.Get, "v1/no-such-thing", null)).Status);

        var (status, body) = await Send(endpoint, HttpMethod.Get, "v1/searches", Reader);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(JsonSerializer.Deserialize(body, MessageJsonContext.Default.SearchList)!.Searches);
        _controller.ExpectMsg<ListSearches>();

        (status, body) = await Send(endpoint, HttpMethod.Post, "v1/searches/s1/pause", Reader, "{}");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("operator token", body);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(endpoint, HttpMethod.Delete, "v1/searches/s1", Reader)).Status);
        _controller.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Assert.Equal(HttpStatusCode.OK, (await Send(endpoint, HttpMethod.Post, "v1/searches/s1/pause", Operator, "{}")).Status);
        Assert.Equal("s1", _controller.ExpectMsg<PauseSearch>().Search);
        Assert.Equal(HttpStatusCode.OK, (await Send(endpoint, HttpMethod.Post, "v1/searches/s1/extend", Operator, """{"trials": 4}""")).Status);
        Assert.Equal(4, _controller.ExpectMsg<ExtendSearch>().AdditionalTrials);
        Assert.Equal(HttpStatusCode.OK, (await Send(endpoint, HttpMethod.Get, "v1/searches", Operator)).Status);
        _controller.ExpectMsg<ListSearches>();

        (status, body) = await Send(endpoint, HttpMethod.Get, "v1/no-such-thing", Reader);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no such command", body);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_before_the_controller_hears_of_it()
    {
        using var endpoint = Endpoint();
        var large = $$"""{"name": "big", "data_directory": "{{new string('x', (int)CommandEndpoint.MaxBodyBytes)}}"}""";
        var (status, body) = await Send(endpoint, HttpMethod.Post, "v1/searches", Operator, large);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("larger than", body);
        _controller.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // a body under the limit goes through
        var spec = ControlClient.SpecJson(new SearchSpec("small", Trials: 2));
        Assert.Equal(HttpStatusCode.OK, (await Send(endpoint, HttpMethod.Post, "v1/searches", Operator, spec)).Status);
        Assert.Equal("small", _controller.ExpectMsg<StartSearch>().Spec.Name);
    }

    [Fact]
    public async Task Every_state_changing_request_leaves_an_audit_line_in_an_owner_only_file()
    {
        using var endpoint = Endpoint();
        var before = DateTime.UtcNow.AddSeconds(-1);
        await Send(endpoint, HttpMethod.Get, "v1/searches", Reader); // reads are not audited
        await Send(endpoint, HttpMethod.Post, "v1/searches/s1/stop", Operator, "{}");
        await Send(endpoint, HttpMethod.Post, "v1/searches/s2/pause", Reader, "{}");
        await Send(endpoint, HttpMethod.Post, "v1/searches", Operator, ControlClient.SpecJson(new SearchSpec("s3", Trials: 2)));

        var lines = File.ReadAllLines(AuditFile).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, lines.Length);
        var stop = lines[0];
        Assert.InRange(stop.GetProperty("time").GetDateTime().ToUniversalTime(), before, DateTime.UtcNow);
        Assert.EndsWith("Z", stop.GetProperty("time").GetString());
        Assert.StartsWith("127.0.0.1:", stop.GetProperty("remote").GetString());
        Assert.Equal("POST", stop.GetProperty("method").GetString());
        Assert.Equal("/v1/searches/s1/stop", stop.GetProperty("path").GetString());
        Assert.Equal("s1", stop.GetProperty("name").GetString());
        Assert.Equal(200, stop.GetProperty("status").GetInt32());
        Assert.Equal("operator", stop.GetProperty("access").GetString());
        Assert.Equal((403, "read", "s2"), (lines[1].GetProperty("status").GetInt32(), lines[1].GetProperty("access").GetString(), lines[1].GetProperty("name").GetString()));
        Assert.Equal(("s3", 200), (lines[2].GetProperty("name").GetString(), lines[2].GetProperty("status").GetInt32()));
        if (!OperatingSystem.IsWindows()) Assert.Equal(ClusterTls.OwnerOnly, File.GetUnixFileMode(AuditFile));
    }

    [Fact]
    public async Task Nodes_starting_at_once_on_a_fresh_host_end_with_one_owner_only_token()
    {
        for (int round = 0; round < 20; round++)
        {
            var path = Path.Combine(_work, $"home-{round}", "token");
            const int Nodes = 8;
            using var start = new Barrier(Nodes);
            var tokens = Enumerable.Range(0, Nodes).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                return NodeState.LoadOrCreateToken(path);
            }, TaskCreationOptions.LongRunning)).ToArray();
            var made = await Task.WhenAll(tokens);

            var winner = NodeState.ReadToken(path);
            Assert.All(made, t => Assert.Equal(winner, t));
            if (!OperatingSystem.IsWindows()) Assert.Equal(ClusterTls.OwnerOnly, File.GetUnixFileMode(path));
            Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left behind
        }
    }

    [Fact]
    public void An_empty_token_is_refused_with_a_clear_error()
    {
        var file = Path.Combine(_work, "token");
        File.WriteAllText(file, " \n");
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => NodeState.ReadToken(file)).Message);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => NodeState.LoadOrCreateToken(file)).Message);

        Func<string, string?> blank = name => name == NodeEnvironment.Token ? "  " : null;
        Assert.Contains("set but empty", Assert.Throws<ArgumentException>(() => NodeOptions.FromEnvironment(blank)).Message);
        Assert.Throws<ArgumentException>(() => NodeState.ClientToken(blank));
        Assert.Throws<ArgumentException>(() => new CommandTokens("", Reader));
        Assert.Throws<ArgumentException>(() => new CommandTokens(Operator, Operator)); // the read token would be an operator's
    }

    [Fact]
    public void A_client_sends_the_operator_token_when_it_has_one_else_the_read_token()
    {
        string? Home(string name) => name == NodeEnvironment.Home ? _work : null;
        Assert.Null(NodeState.ClientToken(Home));
        Assert.Equal("r", NodeState.ClientToken(name => name == NodeEnvironment.ReadToken ? "r" : Home(name)));
        Assert.Equal("o", NodeState.ClientToken(name => name switch { NodeEnvironment.Token => "o", NodeEnvironment.ReadToken => "r", _ => Home(name) }));

        File.WriteAllText(Path.Combine(_work, "read-token"), "read-from-file\n");
        Assert.Equal("read-from-file", NodeState.ClientToken(Home));
        File.WriteAllText(Path.Combine(_work, "token"), "operator-from-file\n");
        Assert.Equal("operator-from-file", NodeState.ClientToken(Home));
    }

    [Fact]
    public async Task The_endpoint_speaks_HTTPS_to_a_client_that_trusts_its_certificate_or_its_CA()
    {
        var pfx = Path.Combine(_work, "endpoint.pfx");
        using (var made = ClusterTls.Create("endpoint", TimeSpan.FromDays(1))) ClusterTls.Write(made, pfx, "secret");
        Func<string, string?> environment = name => name == NodeEnvironment.CommandTlsPassword ? "secret" : null;
        using var certificate = ClusterTls.LoadEndpoint(pfx, environment);
        var pem = Path.Combine(_work, "endpoint.crt");
        File.WriteAllText(pem, certificate.ExportCertificatePem());

        using (var endpoint = Endpoint(certificate))
        {
            var address = $"127.0.0.1:{endpoint.Port}";
            // pinned by the public certificate, or by the PKCS#12 file itself
            foreach (var trusted in new[] { ClusterTls.LoadTrusted(pem, environment), ClusterTls.LoadTrusted(pfx, environment) })
            {
                using var client = new ControlClient(address, Reader, trusted);
                Assert.Empty((await client.Get("v1/searches", MessageJsonContext.Default.SearchList)).Searches);
            }
            using var other = ClusterTls.Create("endpoint", TimeSpan.FromDays(1));
            using var stranger = new ControlClient(address, Reader, X509CertificateLoader.LoadCertificate(other.RawData));
            Assert.Equal(ExitCodes.Unreachable, (await Assert.ThrowsAsync<ControlException>(() => stranger.Get("v1/searches", MessageJsonContext.Default.SearchList))).ExitCode);
            using var plain = new ControlClient(address, Reader);
            await Assert.ThrowsAsync<ControlException>(() => plain.Get("v1/searches", MessageJsonContext.Default.SearchList));
        }

        // a certificate issued by a CA for this address: the client holds the CA's certificate only
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=127.0.0.1", leafKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClusterTls.ServerAuth)], false));
        using var issued = leafRequest.Create(ca, now.AddMinutes(-5), now.AddHours(1), [1, 2, 3, 4]);
        using var leaf = issued.CopyWithPrivateKey(leafKey);
        using (var endpoint = Endpoint(leaf))
        {
            using var client = new ControlClient($"127.0.0.1:{endpoint.Port}", Reader, X509CertificateLoader.LoadCertificate(ca.RawData));
            Assert.Empty((await client.Get("v1/searches", MessageJsonContext.Default.SearchList)).Searches);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

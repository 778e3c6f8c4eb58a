using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Event;
using AutoDropout.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>
/// The small HTTP control surface every node hosts (loopback by default), which the `autodropout` CLI talks to:
/// ASP.NET Core minimal APIs on Kestrel, HTTPS when given a certificate. Requests go to the controller singleton
/// through this node's proxy.
///
///   GET  /v1/health                       open (no token): {"status": "ok", "member": "up"}, 200 while the node serves
///   GET  /v1/health/ready                 open: the same, 200 once the node is an Up member, else 503
///   GET  /v1/cluster                      members and their status
///   POST /v1/cluster/leave                body {"address": A}: that member leaves; no address: this node leaves
///   POST /v1/cluster/down                 body {"address": A}: mark that member down
///   POST /v1/cluster/down-unreachable     mark every unreachable member down
///   GET  /v1/controller                   the singleton's node, its journal (no secrets), newest snapshot, searches loaded
///   GET  /v1/searches                     every search, summarised
///   GET  /v1/searches/NAME                one search with its trials
///   POST /v1/searches                     start a search (body: a search spec)
///   POST /v1/searches/NAME/pause|resume|stop
///   POST /v1/searches/NAME/extend           body {"trials": N}
///   DELETE /v1/searches/NAME              delete a stopped or completed search (journal too); the name is free again
///   GET  /v1/evaluations                  every evaluation job, summarised
///   GET  /v1/evaluations/NAME             one evaluation with its table
///   POST /v1/evaluations                  start an evaluation job (body: an evaluation request)
///   GET  /v1/trainers                     every trainer node's trainers; POST /v1/trainers/drain|undrain (<see cref="TrainerRoutes"/>)
///   GET  /metrics                         this node's metrics in Prometheus text (<see cref="Telemetry"/>)
///   GET  /, /dashboard/*, /v1/events      the read-only web dashboard and its live stream (<see cref="Dashboard"/>)
///
/// Every route but health needs "Authorization: Bearer TOKEN": reads the read or the operator token, anything that
/// changes state the operator token (401 without a known token, 403 with the read token); reads also take the
/// dashboard's cookie. Bodies over
/// <see cref="MaxBodyBytes"/> get 413. Each state-changing request, refused or not, leaves an audit line.
/// </summary>
public sealed class CommandEndpoint : IDisposable
{
    /// <summary>Far above any spec or request (a spec is a few KiB), far below what would strain a node.</summary>
    public const long MaxBodyBytes = 1 << 20;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);
    private readonly ActorSystem _system;
    private readonly IActorRef _controller;
    private readonly CommandTokens _tokens;
    private readonly CommandAudit _audit;
    private readonly ILoggingAdapter _log;
    private readonly WebApplication _app;
    private readonly Dashboard _dashboard;

    /// <param name="certificate">With one, the endpoint speaks HTTPS only.</param>
    /// <param name="auditFile">Where audit lines are appended (JSON lines); none: the log only.</param>
    public CommandEndpoint(ActorSystem system, IActorRef controllerProxy, string host, int port, CommandTokens tokens,
        X509Certificate2? certificate = null, string? auditFile = null)
    {
        _system = system;
        _controller = controllerProxy;
        _tokens = tokens;
        _log = Logging.GetLogger(system, nameof(CommandEndpoint));
        _audit = new CommandAudit(_log, auditFile);
        _dashboard = new Dashboard(controllerProxy, tokens, ClusterState, () => TrainerRoutes.List(system), AskTimeout);

        // the empty builder reads no configuration files or ASPNETCORE_* variables: the node's options decide alone
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Listen(ListenAddress(host), port, listen =>
            {
                if (certificate is not null) listen.UseHttps(certificate);
            });
        });
        builder.Services.AddRoutingCore();
        Telemetry.AddPrometheus(builder.Services);
        _app = builder.Build();
        _app.Use(Guard);
        Map(_app);
        _app.StartAsync().GetAwaiter().GetResult();
        Port = new Uri(_app.Urls.Single()).Port;
    }

    /// <summary>The bound port (the free one picked when asked for port 0).</summary>
    public int Port { get; }

    private void Map(WebApplication app)
    {
        app.MapGet("/v1/health", () => Health(ready: false));
        app.MapPrometheusScrapingEndpoint();
        app.MapGet("/v1/health/ready", () => Health(ready: true));
        app.MapGet("/v1/cluster", () => Answer(200, JsonSerializer.Serialize(ClusterState(), SpecJsonContext.Default.ClusterView)));
        // HttpRequest, not HttpContext: a lambda of HttpContext alone binds as a RequestDelegate, whose result is dropped
        app.MapPost("/v1/cluster/leave", async (HttpRequest request) => Answer(ChangeMembership(request.HttpContext, await Body(request), down: false)));
        app.MapPost("/v1/cluster/down", async (HttpRequest request) => Answer(ChangeMembership(request.HttpContext, await Body(request), down: true)));
        app.MapPost("/v1/cluster/down-unreachable", (HttpRequest request) => Answer(DownUnreachable(request.HttpContext)));
        app.MapGet("/v1/searches", () => AskController(new ListSearches()));
        app.MapGet("/v1/controller", () => AskController(new GetControllerStatus()));
        app.MapGet("/v1/searches/{name}", (string name) => GetSearchInPages(name));
        app.MapPost("/v1/searches", async (HttpContext context) =>
        {
            SearchSpec spec;
            try { spec = SpecInput.ReadSearchSpec(await Body(context.Request)); }
            catch (FormatException e) { return Answer(Error(400, $"the body is {e.Message}")); }
            context.Items[AuditedName] = spec.Name;
            try { spec.Validate(); }
            catch (ArgumentException e) { return Answer(Error(400, e.Message)); }
            return await AskController(new StartSearch(spec));
        });
        app.MapDelete("/v1/searches/{name}", (string name) => AskController(new DeleteSearch(name)));
        app.MapPost("/v1/searches/{name}/pause", (string name) => AskController(new PauseSearch(name)));
        app.MapPost("/v1/searches/{name}/resume", (string name) => AskController(new ResumeSearch(name)));
        app.MapPost("/v1/searches/{name}/stop", (string name) => AskController(new StopSearch(name)));
        app.MapPost("/v1/searches/{name}/extend", async (string name, HttpContext context) =>
        {
            int? more = null;
            try
            {
                using var body = JsonDocument.Parse(await Body(context.Request));
                if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("trials", out var trials)
                    && trials.TryGetInt32(out var n)) more = n;
            }
            catch (JsonException) { }
            return more is { } count ? await AskController(new ExtendSearch(name, count))
                : Answer(Error(400, "trials: the body must be {\"trials\": N}"));
        });
        app.MapGet("/v1/evaluations", () => AskController(new ListEvaluations()));
        app.MapGet("/v1/evaluations/{name}", (string name) => AskController(new GetEvaluation(name)));
        _dashboard.Map(app);
        TrainerRoutes.Map(app, _system, _controller, (status, message) => Answer(Error(status, message)), AuditedName);
        app.MapPost("/v1/evaluations", async (HttpContext context) =>
        {
            EvaluationRequest evaluation;
            try { evaluation = SpecInput.ReadEvaluationRequest(await Body(context.Request)); }
            catch (FormatException e) { return Answer(Error(400, $"the body is {e.Message}")); }
            context.Items[AuditedName] = evaluation.Name ?? evaluation.Search;
            return await AskController(new StartEvaluation(evaluation));
        });
    }

    /// <summary>Checks the token before any route runs, turns failures into JSON answers, and audits changes.</summary>
    private async Task Guard(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        bool changes = !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method);
        // probes cannot carry secrets, and health tells nothing that needs one
        bool open = !changes && (request.Path.StartsWithSegments("/v1/health") || Dashboard.IsPage(request.Path));
        var access = _tokens.Check(request.Headers.Authorization);
        // the dashboard's cookie, for reads only: a request forged by another site can never change state with it
        if (access == Access.None && !changes) access = _dashboard.CookieAccess(request);
        bool audited = false;
        void Audit()
        {
            if (!changes || audited) return;
            audited = true;
            _audit.Record(new AuditEntry(DateTime.UtcNow, Remote(context), request.Method, request.Path.Value ?? "",
                context.GetRouteValue("name") as string ?? context.Items[AuditedName] as string, context.Response.StatusCode,
                access.ToString().ToLowerInvariant()));
        }
        // written as the answer starts, so the line is in the file before the client hears the result
        context.Response.OnStarting(() =>
        {
            Audit();
            return Task.CompletedTask;
        });
        try
        {
            if (access == Access.None && !open)
                await Write(context, Error(401, $"present the node's token as \"Authorization: Bearer TOKEN\" (--token, {NodeEnvironment.Token} or {NodeEnvironment.ReadToken})"));
            else if (changes && access != Access.Operator)
                await Write(context, Error(403, $"this command changes state: the read token is not enough, present the operator token ({NodeEnvironment.Token})"));
            else
            {
                await next(context);
                // routing's own 404 and 405 come without a body
                if (context.Response is { HasStarted: false, StatusCode: 404 or 405 })
                    await Write(context, Error(context.Response.StatusCode, $"no such command: {request.Method} {request.Path}"));
            }
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            // Kestrel's own refusals, 413 for a body over the limit among them
            await Write(context, Error(e.StatusCode, e.StatusCode == 413 ? $"the body is larger than {MaxBodyBytes} bytes" : e.Message));
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            _log.Warning(e, "command endpoint failed on {0} {1}", request.Method, request.Path);
            // a body too, so the client can say more than "500"
            await Write(context, Error(500, $"the node failed on this request: {e.Message}"));
        }
        finally
        {
            Audit(); // an answer that never started
        }
    }

    private const string AuditedName = "audited-name";

    private static string Remote(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? $"{address}:{context.Connection.RemotePort}" : "unknown";

    private IResult Health(bool ready)
    {
        var status = ClusterExtension.Get(_system).SelfMember.Status;
        bool member = status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp;
        var body = JsonSerializer.Serialize(new NodeHealth("ok", status.ToString().ToLowerInvariant()), SpecJsonContext.Default.NodeHealth);
        return Answer(!ready || member ? 200 : 503, body);
    }

    private static async Task<string> Body(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private async Task<IResult> AskController(object command)
    {
        try { return Answer(Reply(await _controller.Ask<object>(command, AskTimeout))); }
        catch (AskTimeoutException) { return Answer(ControllerSilent()); }
    }

    /// <summary>
    /// A search's trials, asked for <see cref="TrialPage"/> at a time and answered whole: one reply holding every
    /// trial of a large search would outgrow remoting's frame (4 MiB, about 9,000 CNN trials) between nodes.
    /// </summary>
    private async Task<IResult> GetSearchInPages(string name)
    {
        SearchDetails? first = null;
        var trials = new List<TrialView>();
        while (true)
        {
            object reply;
            try { reply = await _controller.Ask<object>(new GetSearch(name, trials.Count, TrialPage), AskTimeout); }
            catch (AskTimeoutException) { return Answer(ControllerSilent()); }
            if (reply is not SearchDetails page) return Answer(Reply(reply));
            first ??= page;
            trials.AddRange(page.Trials);
            // trials are only ever added, in id order, so pages read later only find more of them
            if (page.Trials.Count < TrialPage || trials.Count >= (page.TrialsTotal ?? 0)) break;
        }
        return Answer(200, Json(first with { Trials = trials, TrialsFrom = 0, TrialsTotal = trials.Count }));
    }

    /// <summary>Trials per page: 2,000 CNN trials are about 1 MiB of JSON.</summary>
    public const int TrialPage = 2000;

    private static (int, string) Reply(object reply) => reply switch
    {
        CommandRejected r => Error(r.Reason.StartsWith("no such ", StringComparison.Ordinal) ? 404 : 409, r.Reason),
        _ => (200, Json(reply)),
    };

    private static (int, string) ControllerSilent() =>
        Error(503, $"the controller did not answer within {AskTimeout.TotalSeconds:0} s (is a controller node up and in the cluster?)");

    /// <summary>
    /// Leave or down the member whose address the body names ({"address": "akka.tcp://...@host:port"}, or just
    /// host:port); leave without an address is this node leaving, as a preStop hook asks it to.
    /// </summary>
    private (int, string) ChangeMembership(HttpContext context, string body, bool down)
    {
        string? requested;
        try { requested = MembershipAddress(body); }
        catch (FormatException e) { return Error(400, e.Message); }
        context.Items[AuditedName] = requested;
        var cluster = ClusterExtension.Get(_system);
        if (requested is null && down) return Error(400, "address: down needs the member's address ({\"address\": \"akka.tcp://...\"})");
        var member = requested is null ? cluster.SelfMember : FindMember(cluster.State.Members, requested);
        if (member is null) return Error(404, $"no such member: {requested}");
        // the audit names the member itself, also when the request named none or only its host:port
        context.Items[AuditedName] = member.Address.ToString();
        if (down) cluster.Down(member.Address);
        else cluster.Leave(member.Address);
        var verb = down ? "marked down" : "asked to leave";
        return (200, Json(new CommandAccepted($"{member.Address} {verb}")));
    }

    private (int, string) DownUnreachable(HttpContext context)
    {
        var cluster = ClusterExtension.Get(_system);
        var unreachable = cluster.State.Unreachable.Select(m => m.Address).ToList();
        if (unreachable.Count > 0) context.Items[AuditedName] = string.Join(",", unreachable);
        foreach (var address in unreachable) cluster.Down(address);
        return (200, Json(new CommandAccepted(unreachable.Count == 0 ? "no member is unreachable"
            : $"marked down: {string.Join(", ", unreachable)}")));
    }

    /// <summary>The "address" of a leave or down body; null for an empty body or one without it.</summary>
    public static string? MembershipAddress(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("the body must be {\"address\": \"...\"}");
            if (!json.RootElement.TryGetProperty("address", out var address) || address.ValueKind == JsonValueKind.Null) return null;
            return address.ValueKind == JsonValueKind.String && address.GetString() is { Length: > 0 } text ? text
                : throw new FormatException("address: a member's address as a string");
        }
        catch (JsonException e) { throw new FormatException($"the body is not JSON: {e.Message}"); }
    }

    /// <summary>The member at a full address, or at host:port whatever its protocol and system name.</summary>
    public static Akka.Cluster.Member? FindMember(IEnumerable<Akka.Cluster.Member> members, string address)
    {
        var all = members.ToList();
        return all.FirstOrDefault(m => m.Address.ToString() == address)
            ?? all.FirstOrDefault(m => $"{m.Address.Host}:{m.Address.Port}" == address);
    }

    private ClusterView ClusterState()
    {
        var cluster = ClusterExtension.Get(_system);
        var state = cluster.State;
        var members = state.Members.Select(m => new ClusterMemberView(
            m.Address.ToString(), m.Status.ToString(), m.Roles.OrderBy(r => r).ToArray(),
            state.Unreachable.Contains(m), state.Leader == m.Address, m.AppVersion.ToString())).ToArray();
        return new ClusterView(cluster.SelfAddress.ToString(), members);
    }

    private static IResult Answer((int Status, string Body) answer) => Answer(answer.Status, answer.Body);

    private static IResult Answer(int status, string body) => Results.Text(body, "application/json", Encoding.UTF8, status);

    private static async Task Write(HttpContext context, (int Status, string Body) answer)
    {
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(answer.Body);
    }

    private static string Json(object value) =>
        JsonSerializer.Serialize(value, (JsonTypeInfo)MessageJsonContext.Default.GetTypeInfo(value.GetType())!);

    private static (int, string) Error(int status, string message) =>
        (status, JsonSerializer.Serialize(new CommandRejected(message), MessageJsonContext.Default.CommandRejected));

    /// <summary>An address to listen on: an IP, `*` for every interface, or a name resolved to its first address.</summary>
    private static IPAddress ListenAddress(string host) =>
        IPAddress.TryParse(host, out var address) ? address
        : host is "*" or "+" ? IPAddress.IPv6Any
        : Dns.GetHostAddresses(host).First();

    public void Dispose()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}

/// <param name="Version">The autodropout version the member runs (its Akka app-version).</param>
public sealed record ClusterMemberView(string Address, string Status, string[] Roles, bool Unreachable, bool Leader, string Version);

public sealed record ClusterView(string Self, IReadOnlyList<ClusterMemberView> Members);

/// <param name="Member">This node's cluster status (joining, up, leaving, ...).</param>
public sealed record NodeHealth(string Status, string Member);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SearchSpec))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ClusterView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(EvaluationRequest))]
[System.Text.Json.Serialization.JsonSerializable(typeof(NodeHealth))]
[System.Text.Json.Serialization.JsonSerializable(typeof(AuditEntry))]
public sealed partial class SpecJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Event;
using AutoDropout.Messages;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>
/// The small HTTP control surface every node hosts (loopback by default), which the `autodropout` CLI talks to.
/// Reads are open to whoever can reach the port; anything that changes state needs "Authorization: Bearer TOKEN".
/// Requests go to the controller singleton through this node's proxy.
///
///   GET  /v1/cluster                      members and their status
///   GET  /v1/searches                     every search, summarised
///   GET  /v1/searches/NAME                one search with its trials
///   POST /v1/searches                     start a search (body: a search spec)
///   POST /v1/searches/NAME/pause|resume|stop
///   POST /v1/searches/NAME/extend           body {"trials": N}
///   DELETE /v1/searches/NAME              delete a stopped or completed search (journal too); the name is free again
///   GET  /v1/evaluations                  every evaluation job, summarised
///   GET  /v1/evaluations/NAME             one evaluation with its table
///   POST /v1/evaluations                  start an evaluation job (body: an evaluation request)
/// </summary>
public sealed class CommandEndpoint : IDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);
    private readonly HttpListener _listener = new();
    private readonly ActorSystem _system;
    private readonly IActorRef _controller;
    private readonly byte[] _token;
    private readonly ILoggingAdapter _log;

    public CommandEndpoint(ActorSystem system, IActorRef controllerProxy, string host, int port, string token)
    {
        _system = system;
        _controller = controllerProxy;
        _token = Encoding.UTF8.GetBytes(token);
        _log = Logging.GetLogger(system, nameof(CommandEndpoint));
        Port = port == 0 ? FreePort() : port;
        _listener.Prefixes.Add($"http://{host}:{Port}/");
        _listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    private async Task AcceptLoop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (!_listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var (status, body) = await Route(context.Request);
            response.StatusCode = status;
            response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(body);
            await response.OutputStream.WriteAsync(bytes);
        }
        catch (Exception e)
        {
            _log.Warning(e, "command endpoint failed on {0} {1}", context.Request.HttpMethod, context.Request.Url?.AbsolutePath);
            try
            {
                // a body too, so the client can say more than "500"
                response.StatusCode = 500;
                response.ContentType = "application/json";
                await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(Error(500, $"the node failed on this request: {e.Message}").Item2));
            }
            catch (Exception) { /* the response was under way or the client went away */ }
        }
        finally
        {
            try { response.Close(); } catch (Exception) { /* the client went away */ }
        }
    }

    private async Task<(int Status, string Body)> Route(HttpListenerRequest request)
    {
        var segments = (request.Url?.AbsolutePath ?? "/").Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        bool isGet = request.HttpMethod == "GET", isPost = request.HttpMethod == "POST", isDelete = request.HttpMethod == "DELETE";
        if (segments is not ["v1", ..]) return Error(404, "unknown path; the API lives under /v1");
        if ((isPost || isDelete) && !Authorised(request)) return Error(401, "this command changes state: present the node's token (--token or AUTODROPOUT_TOKEN)");

        switch (segments[1..])
        {
            case ["cluster"] when isGet:
                return (200, ClusterJson());
            case ["searches"] when isGet:
                return await AskController(new ListSearches());
            case ["searches", var name] when isGet:
                return await GetSearchInPages(name);
            case ["searches"] when isPost:
                SearchSpec spec;
                try { spec = SpecInput.ReadSearchSpec(await Body(request)); }
                catch (FormatException e) { return Error(400, $"the body is {e.Message}"); }
                try { spec.Validate(); }
                catch (ArgumentException e) { return Error(400, e.Message); }
                return await AskController(new StartSearch(spec));
            case ["searches", var name] when isDelete:
                return await AskController(new DeleteSearch(name));
            case ["searches", var name, "pause"] when isPost:
                return await AskController(new PauseSearch(name));
            case ["searches", var name, "resume"] when isPost:
                return await AskController(new ResumeSearch(name));
            case ["searches", var name, "stop"] when isPost:
                return await AskController(new StopSearch(name));
            case ["searches", var name, "extend"] when isPost:
                {
                    using var body = await JsonDocument.ParseAsync(request.InputStream);
                    return body.RootElement.TryGetProperty("trials", out var trials) && trials.TryGetInt32(out var more)
                        ? await AskController(new ExtendSearch(name, more))
                        : Error(400, "trials: the body must be {\"trials\": N}");
                }
            case ["evaluations"] when isGet:
                return await AskController(new ListEvaluations());
            case ["evaluations", var name] when isGet:
                return await AskController(new GetEvaluation(name));
            case ["evaluations"] when isPost:
                EvaluationRequest evaluation;
                try { evaluation = SpecInput.ReadEvaluationRequest(await Body(request)); }
                catch (FormatException e) { return Error(400, $"the body is {e.Message}"); }
                return await AskController(new StartEvaluation(evaluation));
            default:
                return Error(404, $"no such command: {request.HttpMethod} {request.Url?.AbsolutePath}");
        }
    }

    private static async Task<string> Body(HttpListenerRequest request)
    {
        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private async Task<(int, string)> AskController(object command)
    {
        try { return Reply(await _controller.Ask<object>(command, AskTimeout)); }
        catch (AskTimeoutException) { return ControllerSilent(); }
    }

    /// <summary>
    /// A search's trials, asked for <see cref="TrialPage"/> at a time and answered whole: one reply holding every
    /// trial of a large search would outgrow remoting's frame (4 MiB, about 9,000 CNN trials) between nodes.
    /// </summary>
    private async Task<(int, string)> GetSearchInPages(string name)
    {
        SearchDetails? first = null;
        var trials = new List<TrialView>();
        while (true)
        {
            object reply;
            try { reply = await _controller.Ask<object>(new GetSearch(name, trials.Count, TrialPage), AskTimeout); }
            catch (AskTimeoutException) { return ControllerSilent(); }
            if (reply is not SearchDetails page) return Reply(reply);
            first ??= page;
            trials.AddRange(page.Trials);
            // trials are only ever added, in id order, so pages read later only find more of them
            if (page.Trials.Count < TrialPage || trials.Count >= (page.TrialsTotal ?? 0)) break;
        }
        return (200, Json(first with { Trials = trials, TrialsFrom = 0, TrialsTotal = trials.Count }));
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

    private string ClusterJson()
    {
        var cluster = ClusterExtension.Get(_system);
        var state = cluster.State;
        var members = state.Members.Select(m => new ClusterMemberView(
            m.Address.ToString(), m.Status.ToString(), m.Roles.OrderBy(r => r).ToArray(),
            state.Unreachable.Contains(m), state.Leader == m.Address, m.AppVersion.ToString())).ToArray();
        return JsonSerializer.Serialize(new ClusterView(cluster.SelfAddress.ToString(), members), SpecJsonContext.Default.ClusterView);
    }

    private bool Authorised(HttpListenerRequest request)
    {
        var header = request.Headers["Authorization"];
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), _token);
    }

    private static string Json(object value) =>
        JsonSerializer.Serialize(value, (JsonTypeInfo)MessageJsonContext.Default.GetTypeInfo(value.GetType())!);

    private static (int, string) Error(int status, string message) =>
        (status, JsonSerializer.Serialize(new CommandRejected(message), MessageJsonContext.Default.CommandRejected));

    private static int FreePort()
    {
        var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        int port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}

/// <param name="Version">The autodropout version the member runs (its Akka app-version).</param>
public sealed record ClusterMemberView(string Address, string Status, string[] Roles, bool Unreachable, bool Leader, string Version);

public sealed record ClusterView(string Self, IReadOnlyList<ClusterMemberView> Members);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SearchSpec))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ClusterView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(EvaluationRequest))]
public sealed partial class SpecJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

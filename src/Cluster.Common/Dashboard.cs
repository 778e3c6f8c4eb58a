using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using AutoDropout.Core;
using AutoDropout.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AutoDropout.Cluster;

/// <summary>
/// The read-only web dashboard every command endpoint serves at `/`: a page of plain HTML, CSS and JS embedded in
/// this assembly, fed by one server-sent event stream per open page.
///
///   GET /                     the page; `/?token=TOKEN` once sets the token cookie and redirects to `/`
///   GET /dashboard/NAME       the page's script and style sheet
///   GET /v1/events            server-sent events: `overview` (cluster, trainers, searches, evaluations); with ?search=NAME
///                             `search` (summary, policy updates, trials changed since the last event); with
///                             ?evaluation=NAME `evaluation` (its table); `problem` when the controller cannot say
///
/// A browser cannot send a bearer header on a page load, so the token travels once in the address and then in an
/// HttpOnly, SameSite=Strict cookie. The cookie counts for reads only, as the read token at most: a request another
/// site forges, or a script on the page, can never change state with it.
/// </summary>
public sealed class Dashboard(IActorRef controller, CommandTokens tokens, Func<ClusterView> cluster, Func<Task<TrainerList>> trainers, TimeSpan askTimeout)
{
    public const string CookieName = "autodropout-token";

    /// <summary>How often an open page's stream asks the controller again.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1.5);

    private static readonly IReadOnlyDictionary<string, (string Type, byte[] Content)> Assets = LoadAssets();

    /// <summary>The page itself: a 401 page without a token must be served, so the guard leaves it to <see cref="Page"/>.</summary>
    public static bool IsPage(PathString path) => path == "/";

    /// <summary>What the token cookie allows a read: the read token's rights at most, whatever token it holds.</summary>
    public Access CookieAccess(HttpRequest request) =>
        request.Cookies.TryGetValue(CookieName, out var token) && tokens.Check($"Bearer {token}") != Access.None
            ? Access.Read : Access.None;

    public void Map(WebApplication app)
    {
        app.MapGet("/", Page);
        app.MapGet("/dashboard/{file}", (string file, HttpContext context) =>
            Assets.TryGetValue(file, out var asset) ? Asset(context, asset) : Results.NotFound());
        // an open page must not hold the node's shutdown for the server's grace period
        var stopping = app.Lifetime.ApplicationStopping;
        app.MapGet("/v1/events", (HttpContext context) => Events(context, stopping));
    }

    private IResult Page(HttpContext context)
    {
        var request = context.Request;
        Secure(context.Response);
        if (request.Query.TryGetValue("token", out var given))
        {
            if (tokens.Check($"Bearer {given}") == Access.None) return Refused("that token is not this node's");
            context.Response.Cookies.Append(CookieName, given.ToString(), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = request.IsHttps,
                Path = "/",
            });
            // the token leaves the address bar and the history at once
            return Results.Redirect("/");
        }
        bool allowed = tokens.Check(request.Headers.Authorization) != Access.None || CookieAccess(request) != Access.None;
        return allowed ? Asset(context, Assets["index.html"])
            : Refused($"open this page once as /?token=READ_TOKEN (the node's {NodeEnvironment.ReadToken} or operator token)");
    }

    private static IResult Refused(string why) =>
        Results.Content($"<!doctype html><title>autodropout</title><p>{System.Net.WebUtility.HtmlEncode(why)}</p>",
            "text/html; charset=utf-8", Encoding.UTF8, 401);

    private static IResult Asset(HttpContext context, (string Type, byte[] Content) asset)
    {
        Secure(context.Response);
        return Results.Bytes(asset.Content, asset.Type);
    }

    /// <summary>Own scripts and styles only, never in a frame, no referrer that could carry an address.</summary>
    private static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
    }

    private static Dictionary<string, (string, byte[])> LoadAssets()
    {
        var assembly = typeof(Dashboard).Assembly;
        const string prefix = "AutoDropout.Dashboard.";
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(
            n => n[prefix.Length..],
            n => (Path.GetExtension(n) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            }, Read(assembly, n)));
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>One page's stream: asks the controller every <see cref="Interval"/> while the page is open and sends what changed.</summary>
    private async Task Events(HttpContext context, CancellationToken stopping)
    {
        string? search = context.Request.Query["search"], evaluation = context.Request.Query["evaluation"];
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var closed = either.Token;
        var feed = new TrialFeed();
        string? overview = null, searchHead = null, table = null;
        try
        {
            while (!closed.IsCancellationRequested)
            {
                var (now, problem) = await Overview();
                if (problem is not null) await Send(response, "problem", problem, closed);
                if (now != overview) await Send(response, "overview", overview = now, closed);
                if (!string.IsNullOrEmpty(search)) searchHead = await PollSearch(response, search, feed, searchHead, closed);
                if (!string.IsNullOrEmpty(evaluation))
                {
                    var reply = await Ask(new GetEvaluation(evaluation));
                    if (reply is EvaluationDetails details)
                    {
                        var json = JsonSerializer.Serialize(details, MessageJsonContext.Default.EvaluationDetails);
                        if (json != table) await Send(response, "evaluation", table = json, closed);
                    }
                    else await Send(response, "problem", Problem(reply), closed);
                }
                await Task.Delay(Interval, closed);
            }
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested) { }
    }

    private async Task<(string Json, string? Problem)> Overview()
    {
        var searches = await Ask(new ListSearches());
        var evaluations = await Ask(new ListEvaluations());
        string? problem = searches is SearchList ? evaluations is EvaluationList ? null : Problem(evaluations) : Problem(searches);
        var view = new DashboardOverview(cluster(), (searches as SearchList)?.Searches ?? [], (evaluations as EvaluationList)?.Evaluations ?? [],
            (await trainers()).Nodes);
        return (JsonSerializer.Serialize(view, DashboardJsonContext.Default.DashboardOverview), problem);
    }

    /// <summary>Reads the trials that may have changed, in pages, and sends the summary with those that did.</summary>
    private async Task<string?> PollSearch(HttpResponse response, string name, TrialFeed feed, string? lastHead, CancellationToken closed)
    {
        SearchDetails? first = null;
        var trials = new List<TrialView>();
        int from = feed.From;
        while (true)
        {
            var reply = await Ask(new GetSearch(name, from + trials.Count, CommandEndpoint.TrialPage));
            if (reply is not SearchDetails page)
            {
                await Send(response, "problem", Problem(reply), closed);
                return lastHead;
            }
            first ??= page;
            trials.AddRange(page.Trials);
            if (page.Trials.Count < CommandEndpoint.TrialPage || from + trials.Count >= (page.TrialsTotal ?? 0)) break;
        }
        var changed = feed.Take(from, trials);
        var head = JsonSerializer.Serialize(new DashboardSearchHead(first.Summary, first.Updates ?? [], first.PolicyHash),
            DashboardJsonContext.Default.DashboardSearchHead);
        if (changed.Count > 0 || head != lastHead)
            await Send(response, "search", JsonSerializer.Serialize(
                new DashboardSearch(first.Summary, first.Updates ?? [], first.PolicyHash, feed.Count, changed),
                DashboardJsonContext.Default.DashboardSearch), closed);
        return head;
    }

    private async Task<object> Ask(object command)
    {
        try { return await controller.Ask<object>(command, askTimeout); }
        catch (AskTimeoutException) { return new CommandRejected($"the controller did not answer within {askTimeout.TotalSeconds:0} s"); }
    }

    private static string Problem(object reply) => JsonSerializer.Serialize(
        reply as CommandRejected ?? new CommandRejected($"unexpected reply {reply.GetType().Name}"), MessageJsonContext.Default.CommandRejected);

    private static async Task Send(HttpResponse response, string name, string json, CancellationToken closed)
    {
        // one line of JSON: the serializer escapes newlines inside strings
        await response.WriteAsync($"event: {name}\ndata: {json}\n\n", closed);
        await response.Body.FlushAsync(closed);
    }
}

/// <summary>
/// A page's copy of a search's trials, so each poll reads only the trials that may still change and sends only those
/// that did. Trials are only ever added, in id order; a finished trial changes once more, when an update learns
/// from it (its staleness).
/// </summary>
public sealed class TrialFeed
{
    private readonly List<DashboardTrial> _rows = [];

    /// <summary>The index of the first trial that may still change: the next poll reads from here.</summary>
    public int From { get; private set; }

    public int Count => _rows.Count;

    /// <summary>Takes the trials read from index <paramref name="from"/> on; answers those that are new or changed.</summary>
    public IReadOnlyList<DashboardTrial> Take(int from, IReadOnlyList<TrialView> trials)
    {
        var changed = new List<DashboardTrial>();
        for (int i = 0; i < trials.Count; i++)
        {
            var row = DashboardTrial.Of(trials[i]);
            int index = from + i;
            if (index < _rows.Count)
            {
                if (_rows[index] == row) continue;
                _rows[index] = row;
            }
            else _rows.Add(row);
            changed.Add(row);
        }
        while (From < _rows.Count && Settled(_rows[From])) From++;
        return changed;
    }

    private static bool Settled(DashboardTrial trial) =>
        trial.Status == TrialStatus.Failed || (trial.Status == TrialStatus.Completed && (trial.Staleness is not null || trial.Baseline is not null));
}

/// <summary>A trial as the dashboard shows it: what the table and the chart need, not its metrics.</summary>
/// <param name="Failure">The failure's reason and message, for a failed trial.</param>
public sealed record DashboardTrial(int Id, TrialStatus Status, double? Reward, int PolicyVersion, int? Staleness,
    string? Trainer, string? Failure, string Pattern, string? Baseline)
{
    public static DashboardTrial Of(TrialView t) => new(t.TrialId, t.Status, t.Reward, t.PolicyVersion, t.Staleness, t.Trainer,
        t.FailureReason is { } reason ? t.FailureMessage is { } message ? $"{reason.Name()}: {message}" : reason.Name() : null,
        t.PatternCompact, t.Baseline);
}

public sealed record DashboardOverview(ClusterView Cluster, IReadOnlyList<SearchSummary> Searches, IReadOnlyList<EvaluationSummary> Evaluations,
    IReadOnlyList<TrainerNodeStatus> Trainers);

public sealed record DashboardSearchHead(SearchSummary Summary, IReadOnlyList<PolicyUpdateStats> Updates, string PolicyHash);

/// <param name="TrialsTotal">How many trials the search has; <paramref name="Trials"/> holds only the new or changed ones.</param>
public sealed record DashboardSearch(SearchSummary Summary, IReadOnlyList<PolicyUpdateStats> Updates, string PolicyHash,
    int TrialsTotal, IReadOnlyList<DashboardTrial> Trials);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DashboardOverview))]
[JsonSerializable(typeof(DashboardSearch))]
[JsonSerializable(typeof(DashboardSearchHead))]
public sealed partial class DashboardJsonContext : JsonSerializerContext;

using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using AutoDropout.Core;
using AutoDropout.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>
/// The endpoint's trainer routes. Each trainer node answers for itself (its status actor under /user), so listing
/// trainers costs the controller nothing however many there are.
///
///   GET  /v1/trainers                 every trainer and evaluator of every Up trainer node: device, state, trial, progress
///   POST /v1/trainers/drain           body {"node": ADDRESS or HOST:PORT}: its trainers finish their trials and take no more
///   POST /v1/trainers/undrain         the same node takes work again
///   GET  /v1/searches/NAME/trials/ID/masks.png   the trial's pattern drawn by a trainer node (one example, a row per site)
/// </summary>
public static class TrainerRoutes
{
    /// <summary>Under /user on every trainer node.</summary>
    public const string StatusActorName = "trainer-status";

    /// <summary>Under /user on every trainer node: draws mask pictures.</summary>
    public const string MaskRendererName = "mask-renderer";

    /// <summary>Pictures drawn already, by what determines them; a pattern's picture never changes.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Pictures = new();
    private const int MaxPictures = 256;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public static void Map(WebApplication app, ActorSystem system, IActorRef controller, Func<int, string, IResult> error, string auditedNameKey)
    {
        app.MapGet("/v1/searches/{name}/trials/{id:int}/masks.png", async (string name, int id, HttpContext context) =>
        {
            var answer = await Masks(system, controller, name, id, error);
            // a trial's pattern, and so its picture, never changes
            if (answer is IFileHttpResult) context.Response.Headers.CacheControl = "private, max-age=86400";
            return answer;
        });
        app.MapGet("/v1/trainers", async () => Results.Json(await List(system), TrainerJsonContext.Default.TrainerList));
        app.MapPost("/v1/trainers/drain", (Delegate)((HttpContext context) => Drain(context, system, true, error, auditedNameKey)));
        app.MapPost("/v1/trainers/undrain", (Delegate)((HttpContext context) => Drain(context, system, false, error, auditedNameKey)));
    }

    /// <summary>Asks every Up trainer node at once; a node that does not answer is named, not waited for.</summary>
    public static async Task<TrainerList> List(ActorSystem system)
    {
        var nodes = TrainerNodes(system);
        var answers = await Task.WhenAll(nodes.Select(async address =>
        {
            try { return (address, Status: await StatusActor(system, address).Ask<TrainerNodeStatus>(new GetTrainers(), AskTimeout)); }
            catch (AskTimeoutException) { return (address, Status: (TrainerNodeStatus?)null); }
        }));
        return new TrainerList(
            answers.Where(a => a.Status is not null).Select(a => a.Status!).ToArray(),
            answers.Where(a => a.Status is null).Select(a => a.address.ToString()).ToArray());
    }

    private static async Task<IResult> Drain(HttpContext context, ActorSystem system, bool drain, Func<int, string, IResult> error, string auditedNameKey)
    {
        string? node = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("node", out var n) && n.ValueKind == JsonValueKind.String)
                node = n.GetString();
        }
        catch (JsonException) { }
        if (string.IsNullOrWhiteSpace(node)) return error(400, "node: the body must be {\"node\": \"ADDRESS\"} (an address from `autodropout trainer list`, or HOST:PORT)");
        context.Items[auditedNameKey] = node;
        var nodes = TrainerNodes(system);
        var match = nodes.Where(a => Matches(a, node)).ToList();
        if (match.Count != 1)
        {
            var known = nodes.Count == 0 ? "there are no trainer nodes up" : $"trainer nodes: {string.Join(", ", nodes)}";
            return error(match.Count == 0 ? 404 : 409, $"{(match.Count == 0 ? "no such trainer node" : "more than one trainer node matches")}: '{node}'; {known}");
        }
        try
        {
            var status = await StatusActor(system, match[0]).Ask<TrainerNodeStatus>(new DrainTrainers(drain), AskTimeout);
            return Results.Json(status, TrainerJsonContext.Default.TrainerNodeStatus);
        }
        catch (AskTimeoutException)
        {
            return error(503, $"trainer node {match[0]} did not answer within {AskTimeout.TotalSeconds:0} s");
        }
    }

    private static async Task<IResult> Masks(ActorSystem system, IActorRef controller, string name, int id, Func<int, string, IResult> error)
    {
        object reply;
        // trials are listed in id order from 1, so trial ID is the page of one at ID - 1
        try { reply = await controller.Ask<object>(new GetSearch(name, Math.Max(0, id - 1), 1), AskTimeout); }
        catch (AskTimeoutException) { return error(503, "the controller did not answer in time"); }
        if (reply is CommandRejected rejected) return error(404, rejected.Reason);
        if (reply is not SearchDetails { Trials: [var trial] } details || trial.TrialId != id) return error(404, $"search '{name}' has no trial {id}");
        if (trial.Baseline is not null) return error(404, $"trial {id} is a hand-made regulariser ({trial.Baseline}): it has no mask pattern to draw");
        var spec = details.Spec;
        var key = $"{spec.Target}|{spec.Dataset}|{spec.Text?.Context}|{trial.PatternCompact}";
        if (Pictures.TryGetValue(key, out var png)) return Results.File(png, "image/png");
        var nodes = TrainerNodes(system);
        if (nodes.Count == 0) return error(503, "no trainer node is up to draw masks (trainer nodes have torch; this node may not)");
        DropoutPattern pattern;
        try { pattern = spec.IsTransformer ? TransformerPattern.ParseCompact(trial.PatternCompact) : ConvPattern.ParseCompact(trial.PatternCompact); }
        catch (Exception e) when (e is PatternException or FormatException or ArgumentException) { return error(409, $"trial {id}'s pattern cannot be read back: {e.Message}"); }
        // spread over the trainer nodes by pattern, so one node does not draw every picture
        var node = nodes[(int)((uint)trial.PatternHash.GetHashCode(StringComparison.Ordinal) % (uint)nodes.Count)];
        try
        {
            var drawn = await system.ActorSelection(new RootActorPath(node) / "user" / MaskRendererName)
                .Ask<object>(new RenderMasks(pattern, spec.Target, spec.Dataset, spec.Text?.Context ?? new TextOptions().Context), TimeSpan.FromSeconds(30));
            if (drawn is not MaskPicture picture) return error(409, (drawn as CommandRejected)?.Reason ?? "the trainer could not draw it");
            if (Pictures.Count >= MaxPictures) Pictures.Clear();
            Pictures[key] = picture.Png;
            return Results.File(picture.Png, "image/png");
        }
        catch (AskTimeoutException) { return error(503, $"trainer node {node} did not draw the masks within 30 s"); }
    }

    /// <summary>An address in full (akka.tcp://system@host:port) or as host:port.</summary>
    public static bool Matches(Address address, string node) =>
        address.ToString() == node || $"{address.Host}:{address.Port}" == node;

    /// <summary>Up and reachable: asking an unreachable node would only wait out the timeout on every dashboard tick.</summary>
    private static List<Address> TrainerNodes(ActorSystem system)
    {
        var state = ClusterExtension.Get(system).State;
        return state.Members
            .Where(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(NodeHost.RoleName(NodeRole.Trainer)) && !state.Unreachable.Contains(m))
            .Select(m => m.Address).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToList();
    }

    private static ActorSelection StatusActor(ActorSystem system, Address address) =>
        system.ActorSelection(new RootActorPath(address) / "user" / StatusActorName);
}

/// <param name="Unanswered">Trainer nodes that are members but did not answer in time.</param>
public sealed record TrainerList(IReadOnlyList<TrainerNodeStatus> Nodes, IReadOnlyList<string> Unanswered);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TrainerList))]
[JsonSerializable(typeof(TrainerNodeStatus))]
public sealed partial class TrainerJsonContext : JsonSerializerContext;

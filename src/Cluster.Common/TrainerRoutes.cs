using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using AutoDropout.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>
/// The endpoint's trainer routes. Each trainer node answers for itself (its status actor under /user), so listing
/// trainers costs the controller nothing however many there are.
///
///   GET  /v1/trainers                 every trainer and evaluator of every Up trainer node: device, state, trial, progress
///   POST /v1/trainers/drain           body {"node": ADDRESS or HOST:PORT}: its trainers finish their trials and take no more
///   POST /v1/trainers/undrain         the same node takes work again
/// </summary>
public static class TrainerRoutes
{
    /// <summary>Under /user on every trainer node.</summary>
    public const string StatusActorName = "trainer-status";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public static void Map(WebApplication app, ActorSystem system, Func<int, string, IResult> error, string auditedNameKey)
    {
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

    /// <summary>An address in full (akka.tcp://system@host:port) or as host:port.</summary>
    public static bool Matches(Address address, string node) =>
        address.ToString() == node || $"{address.Host}:{address.Port}" == node;

    private static List<Address> TrainerNodes(ActorSystem system) =>
        ClusterExtension.Get(system).State.Members
            .Where(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(NodeHost.RoleName(NodeRole.Trainer)))
            .Select(m => m.Address).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToList();

    private static ActorSelection StatusActor(ActorSystem system, Address address) =>
        system.ActorSelection(new RootActorPath(address) / "user" / StatusActorName);
}

/// <param name="Unanswered">Trainer nodes that are members but did not answer in time.</param>
public sealed record TrainerList(IReadOnlyList<TrainerNodeStatus> Nodes, IReadOnlyList<string> Unanswered);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TrainerList))]
[JsonSerializable(typeof(TrainerNodeStatus))]
public sealed partial class TrainerJsonContext : JsonSerializerContext;

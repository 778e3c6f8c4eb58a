using Akka.Actor;
using AutoDropout.Messages;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// A trainer node's one address for operators (<see cref="Name"/> under /user): what each trainer and evaluator on
/// the node is doing, and draining the node. It asks its trainers, so it holds no state that could go stale.
/// </summary>
public sealed class TrainerStatusActor : ReceiveActor
{
    public const string Name = TrainerRoutes.StatusActorName;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    public TrainerStatusActor(IReadOnlyList<IActorRef> trainers)
    {
        var everyone = trainers.SelectMany(t => new[] { Context.ActorSelection(t.Path), Context.ActorSelection(t.Path / TrainerActor.EvaluatorName) }).ToArray();
        var node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();
        Receive<GetTrainers>(_ => Report(everyone, node).PipeTo(Sender));
        Receive<DrainTrainers>(drain =>
        {
            // told by this actor to each, so each has it before the status asked next
            foreach (var actor in everyone) actor.Tell(new TrainerActor.SetDrain(drain.Drain));
            Report(everyone, node).PipeTo(Sender);
        });
    }

    public static Props Props(IReadOnlyList<IActorRef> trainers) => Akka.Actor.Props.Create(() => new TrainerStatusActor(trainers));

    /// <summary>Every trainer that answers in time; one busy for longer is left out rather than holding the answer.</summary>
    private static async Task<TrainerNodeStatus> Report(IEnumerable<ActorSelection> everyone, string node)
    {
        var asks = everyone.Select(async actor =>
        {
            try { return await actor.Ask<TrainerStatus>(new TrainerActor.GetStatus(), AskTimeout); }
            catch (AskTimeoutException) { return null; }
        });
        var statuses = await Task.WhenAll(asks);
        return new TrainerNodeStatus(node, statuses.OfType<TrainerStatus>().OrderBy(s => s.TrainerId, StringComparer.Ordinal).ToArray());
    }
}

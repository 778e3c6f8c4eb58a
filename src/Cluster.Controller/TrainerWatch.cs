using Akka.Actor;
using Akka.Cluster;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// Watches the trainers that hold a search's leases and tells the search when one is gone, so its trials go back to
/// the queue at once instead of waiting for the lease to expire. After a restart nobody is watched: trainer ids are
/// actor paths, so each lease holder is asked to identify itself, and one that does not answer is lost too.
/// A trainer on a node that becomes unreachable is lost at once, not when the node is downed: if it comes back and
/// finishes, its result is still taken while the trial waits in the queue.
/// </summary>
public sealed class TrainerWatch : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(30);
    private readonly Dictionary<IActorRef, string> _watched = new();

    public sealed record Watch(IActorRef Trainer, string TrainerId);

    public sealed record Find(string TrainerId);

    public sealed record Lost(string TrainerId, string Why);

    private sealed record LookupTimedOut(string TrainerId);

    public TrainerWatch()
    {
        Receive<Watch>(w => Add(w.Trainer, w.TrainerId));
        Receive<Find>(find =>
        {
            Context.ActorSelection(find.TrainerId).Tell(new Identify(find.TrainerId));
            Timers.StartSingleTimer($"identify-{find.TrainerId}", new LookupTimedOut(find.TrainerId), LookupTimeout);
        });
        Receive<ActorIdentity>(identity =>
        {
            if (identity.MessageId is not string trainerId) return;
            Timers.Cancel($"identify-{trainerId}");
            if (identity.Subject is null) Context.Parent.Tell(new Lost(trainerId, "no longer exists"));
            else Add(identity.Subject, trainerId);
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable =>
        {
            foreach (var trainerId in _watched.Where(w => w.Key.Path.Address.Equals(unreachable.Member.Address)).Select(w => w.Value).Distinct().ToList())
                Context.Parent.Tell(new Lost(trainerId, $"is on {unreachable.Member.Address}, which became unreachable"));
        });
        Receive<LookupTimedOut>(t => Context.Parent.Tell(new Lost(t.TrainerId, "did not answer after the controller restarted")));
        Receive<Terminated>(terminated =>
        {
            // a trainer restarted under the same id may already hold new leases through its new incarnation
            if (_watched.Remove(terminated.ActorRef, out var trainerId) && !_watched.ContainsValue(trainerId))
                Context.Parent.Tell(new Lost(trainerId, "is gone"));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        // a controller in a plain actor system (tests of one process) has no cluster to watch
        if (((ExtendedActorSystem)Context.System).Provider is IClusterActorRefProvider)
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.UnreachableMember));
    }

    protected override void PostStop()
    {
        if (((ExtendedActorSystem)Context.System).Provider is IClusterActorRefProvider) Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private void Add(IActorRef trainer, string trainerId)
    {
        if (_watched.TryAdd(trainer, trainerId)) Context.Watch(trainer);
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using ClusterExtension = Akka.Cluster.Cluster;
using static Akka.Cluster.ClusterEvent;

namespace AutoDropout.Cluster.Seed;

/// <summary>The node others join. It holds no state and hosts no work; it logs who comes and goes.</summary>
public static class SeedNode
{
    public static readonly string[] RoleFiles = ["seed.conf"];

    public static Config Config(NodeOptions node) => NodeConfig.Build(node, RoleFiles);

    public static void Start(ActorSystem system) => system.ActorOf(Props.Create(() => new MembershipLog()), "membership-log");

    private sealed class MembershipLog : ReceiveActor
    {
        public MembershipLog()
        {
            var log = Context.GetLogger();
            Receive<MemberUp>(m => log.Info("member up: {0} {1}", m.Member.Address, string.Join(",", m.Member.Roles)));
            Receive<MemberRemoved>(m => log.Info("member removed: {0} (was {1})", m.Member.Address, m.PreviousStatus));
            Receive<UnreachableMember>(m => log.Warning("member unreachable: {0}", m.Member.Address));
            Receive<ReachableMember>(m => log.Info("member reachable again: {0}", m.Member.Address));
            Receive<IClusterDomainEvent>(_ => { });
        }

        protected override void PreStart() =>
            ClusterExtension.Get(Context.System).Subscribe(Self, InitialStateAsEvents, typeof(IMemberEvent), typeof(IReachabilityEvent));

        protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);
    }
}

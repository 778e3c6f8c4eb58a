using System.CommandLine;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.Hosting;
using static Akka.Cluster.ClusterEvent;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster.Seed;

/// <summary>The node others join. It holds no state and hosts no work; it logs who comes and goes.</summary>
public static class SeedNode
{
    public static readonly string[] RoleFiles = ["seed.conf"];

    /// <param name="environment">Where AUTODROPOUT_* variables are read from (the process's by default).</param>
    public static IHost CreateHost(NodeOptions options, Func<string, string?>? environment = null) =>
        NodeHost.Create(NodeRole.Seed, options, environment, RoleFiles, akka => akka
            .WithSingletonProxy<ControllerProxy>(ControllerProxy.SingletonName, ControllerProxy.SingletonOptions())
            .WithActors((system, _) => system.ActorOf(Props.Create(() => new MembershipLog()), "membership-log")));

    public static Command Command() =>
        NodeCommandLine.Create(NodeRole.Seed, "the node others join: stateless, port 4053 by default", [],
            (_, options) => NodeHost.Run(CreateHost(options)));

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

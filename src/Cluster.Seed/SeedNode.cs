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

    /// <summary>Logs who comes and goes, and keeps <see cref="SeedMemory"/> up to date for a restart of this seed.</summary>
    private sealed class MembershipLog : ReceiveActor
    {
        public MembershipLog()
        {
            var log = Context.GetLogger();
            var cluster = ClusterExtension.Get(Context.System);
            void Remember()
            {
                try
                {
                    SeedMemory.Write(cluster.SelfAddress.Port ?? 0, cluster.State.Members
                        .Where(m => m.Status == Akka.Cluster.MemberStatus.Up && m.Address != cluster.SelfAddress).Select(m => m.Address));
                }
                catch (IOException e) { log.Warning("could not record the cluster's members for a restart: {0}", e.Message); }
            }
            Receive<MemberUp>(m =>
            {
                log.Info("member up: {0} {1}", m.Member.Address, string.Join(",", m.Member.Roles));
                Remember();
            });
            Receive<MemberRemoved>(m =>
            {
                log.Info("member removed: {0} (was {1})", m.Member.Address, m.PreviousStatus);
                Remember();
            });
            Receive<UnreachableMember>(m => log.Warning("member unreachable: {0}", m.Member.Address));
            Receive<ReachableMember>(m => log.Info("member reachable again: {0}", m.Member.Address));
            Receive<IClusterDomainEvent>(_ => { });
        }

        protected override void PreStart() =>
            ClusterExtension.Get(Context.System).Subscribe(Self, InitialStateAsEvents, typeof(IMemberEvent), typeof(IReachabilityEvent));

        protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);
    }
}

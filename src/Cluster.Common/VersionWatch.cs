using Akka.Actor;
using Akka.Event;
using static Akka.Cluster.ClusterEvent;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>
/// Warns, on every node, when a member of another incompatible version joins (<see cref="ProductVersion.Compatible"/>):
/// such nodes may not understand each other's messages or journals. Nodes are not refused, so a rolling upgrade
/// within one minor version goes through quietly and an operator sees at once when one does not.
/// </summary>
public sealed class VersionWatch : ReceiveActor
{
    public VersionWatch()
    {
        var log = Context.GetLogger();
        Receive<MemberUp>(up =>
        {
            var theirs = up.Member.AppVersion.ToString();
            if (!ProductVersion.Compatible(ProductVersion.Version, theirs))
                log.Warning("member {0} runs autodropout {1}, this node {2}: versions that differ in {3} may not understand each other's messages; upgrade all nodes together",
                    up.Member.Address, theirs, ProductVersion.Version, ProductVersion.Version.StartsWith("0.", StringComparison.Ordinal) ? "major or minor" : "major");
        });
        Receive<IClusterDomainEvent>(_ => { });
    }

    protected override void PreStart() => ClusterExtension.Get(Context.System).Subscribe(Self, InitialStateAsEvents, typeof(MemberUp));

    protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);
}

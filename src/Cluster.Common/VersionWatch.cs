using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Akka.Cluster.ClusterEvent;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Cluster;

/// <summary>
/// Keeps nodes of incompatible versions (<see cref="ProductVersion.Compatible"/>) out of the cluster, on every node:
/// they may not understand each other's messages or journals. The cluster's version is its oldest member's, so the
/// newcomer is the odd one out: it logs why and leaves (exit code 1), and the oldest member downs it too, naming it
/// and why, in case it runs code that does not check. A rolling upgrade within a compatible version goes through.
/// </summary>
public sealed class VersionWatch : ReceiveActor
{
    public enum Verdict { Welcome, LeaveMyself, DownIt }

    public VersionWatch()
    {
        var log = Context.GetLogger();
        var cluster = ClusterExtension.Get(Context.System);
        bool leaving = false;
        Receive<MemberUp>(up =>
        {
            var oldest = cluster.State.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault() ?? up.Member;
            var mine = ProductVersion.Version;
            switch (Decide(mine, up.Member.AppVersion.ToString(), oldest.AppVersion.ToString(), oldest.UniqueAddress.Equals(cluster.SelfUniqueAddress)))
            {
                case Verdict.LeaveMyself when !leaving:
                    leaving = true;
                    var why = $"this node ({cluster.SelfAddress}) runs autodropout {mine}, the cluster (its oldest member {oldest.Address}) {oldest.AppVersion}: "
                        + "incompatible versions cannot share messages or journals; upgrade all nodes together";
                    log.Error("{0}; leaving", why);
                    CoordinatedShutdown.Get(Context.System).Run(new IncompatibleVersionReason(why));
                    break;
                case Verdict.DownIt:
                    log.Error("refusing member {0}: it runs autodropout {1}, the cluster {2}, and incompatible versions cannot share messages or journals; downing it",
                        up.Member.Address, up.Member.AppVersion, mine);
                    cluster.Down(up.Member.Address);
                    break;
            }
        });
        Receive<IClusterDomainEvent>(_ => { });
    }

    /// <summary>What this node does about a member that is Up: a node that does not fit the oldest member leaves;
    /// the oldest member downs a member that does not fit it.</summary>
    public static Verdict Decide(string mine, string upVersion, string oldestVersion, bool iAmOldest) =>
        !iAmOldest && !ProductVersion.Compatible(mine, oldestVersion) ? Verdict.LeaveMyself
        : iAmOldest && !ProductVersion.Compatible(mine, upVersion) ? Verdict.DownIt
        : Verdict.Welcome;

    protected override void PreStart() => ClusterExtension.Get(Context.System).Subscribe(Self, InitialStateAsEvents, typeof(MemberUp));

    protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);
}

/// <summary>A node that does not fit the cluster's version leaves it (exit code 1).</summary>
public sealed class IncompatibleVersionReason(string why) : NodeFailedReason
{
    public override string ToString() => why;
}

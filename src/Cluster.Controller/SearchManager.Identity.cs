using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// The journal identity check. The registry's journal holds a random id (written once); the controller holding
/// the singleton records it in a replicated register that every node of the cluster keeps (Distributed Data). A
/// controller that takes the singleton compares its journal's id with the register's before it starts any search:
/// a different one means it was started on another database, and serving from it would drop the results trainers
/// hold for the cluster's searches. It refuses, says why, and leaves the cluster, so the singleton can move on to a
/// controller on the right journal. The register lives as long as any node does; a cluster started from nothing
/// trusts its first controller.
/// </summary>
public sealed partial class SearchManager
{
    public static readonly LWWRegisterKey<string> JournalKey = new("autodropout-journal-id");
    private static readonly TimeSpan ReplicaTimeout = TimeSpan.FromSeconds(3);
    private string? _journalId;

    private sealed record JournalRefused(string Reason);

    private void IdentifyJournal()
    {
        if (_journalId is null) Persist(new JournalIdentified(Guid.NewGuid().ToString("N")), e => ConfirmJournal(e.JournalId));
        else ConfirmJournal(_journalId);
    }

    /// <summary>Searches start once the cluster's register agrees; meanwhile commands wait and trainers are told to ask later.</summary>
    private void ConfirmJournal(string own)
    {
        _journalId = own;
        if (Context.System is not ExtendedActorSystem { Provider: IClusterActorRefProvider })
        {
            StartRecoveredSearches(); // a controller outside a cluster (tools, tests) has no cluster to agree with
            return;
        }
        var replicator = DistributedData.Get(Context.System).Replicator;
        replicator.Tell(Dsl.Get(JournalKey, new ReadMajority(ReplicaTimeout)));
        BecomeStacked(() =>
        {
            Command<GetSuccess>(got => Judge(own, got.Get(JournalKey)));
            Command<NotFound>(_ => Judge(own, null));
            // no majority answered in time: the local replica has whatever gossip brought
            Command<GetFailure>(failure => replicator.Tell(Dsl.Get(JournalKey, ReadLocal.Instance)));
            Command<RequestWork>(_ => Sender.Tell(new NoWorkAvailable(2000)));
            Command<TrialResult>(_ => { }); // the trainer resends it until a search acknowledges it
            Command<TrialProgress>(_ => { });
            CommandAny(_ => Stash.Stash());
        });
    }

    private void Judge(string own, LWWRegister<string>? register)
    {
        var adopt = Context.System.Settings.Config.GetBoolean("autodropout.controller.adopt-journal", false);
        var verdict = JournalIdentity.Decide(own, register?.Value, adopt);
        UnbecomeStacked();
        if (verdict == JournalVerdict.Refuse)
        {
            Refuse(JournalIdentity.Refusal(own, register!.Value, register.UpdatedBy?.Address.ToString()));
            return;
        }
        if (verdict == JournalVerdict.Claim)
        {
            if (register is not null) _log.Warning("adopting journal {0} as the cluster's, in place of {1} (--adopt-journal)", own, register.Value);
            var self = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
            DistributedData.Get(Context.System).Replicator.Tell(Dsl.Update(JournalKey, new LWWRegister<string>(self, own),
                new WriteMajority(ReplicaTimeout), r => r.WithValue(self, own)));
        }
        _log.Info("journal {0} is the cluster's; starting its searches", own);
        Stash.UnstashAll();
        StartRecoveredSearches();
    }

    /// <summary>Rejects every command with the reason, and takes this node out of the cluster.</summary>
    private void Refuse(string reason)
    {
        _log.Error("refusing the controller singleton: {0}", reason);
        Become(() =>
        {
            Command<RequestWork>(_ => Sender.Tell(new NoWorkAvailable(5000)));
            Command<TrialResult>(_ => { });
            Command<TrialProgress>(_ => { });
            CommandAny(_ => Sender.Tell(new CommandRejected($"the controller refuses to serve: {reason}")));
        });
        Stash.UnstashAll();
        CoordinatedShutdown.Get(Context.System).Run(new JournalRefusedReason(reason));
    }
}

/// <summary>Why a controller node shut down: its journal is not the cluster's.</summary>
public sealed class JournalRefusedReason(string reason) : NodeFailedReason
{
    public override string ToString() => reason;
}

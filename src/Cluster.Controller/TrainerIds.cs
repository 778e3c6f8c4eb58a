using Akka.Actor;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// A trainer's id is its actor path (an evaluator's is its own, under its trainer), so a result can be checked
/// against the actor that sent it: no one reports for a lease held under another trainer's name.
/// </summary>
public static class TrainerIds
{
    /// <summary>Whether <paramref name="sender"/> is the trainer named <paramref name="claimedId"/>.</summary>
    /// <param name="self">This node's address, which the path of a sender on the same node leaves out.</param>
    public static bool SentBy(string claimedId, ActorPath sender, Address self) =>
        claimedId == sender.ToString() || claimedId == sender.ToStringWithAddress(self);
}

namespace AutoDropout.Search;

/// <summary>What a controller does on taking the singleton, given its journal's id and the one the cluster knows.</summary>
public enum JournalVerdict
{
    /// <summary>The cluster has been using this very journal: serve.</summary>
    Serve,

    /// <summary>The cluster knows no journal yet (or the operator moved it here on purpose): make this one the cluster's, then serve.</summary>
    Claim,

    /// <summary>Another journal holds the cluster's searches: serving from this one would drop their results.</summary>
    Refuse,
}

public static class JournalIdentity
{
    /// <param name="own">This controller's journal id.</param>
    /// <param name="clusters">The id the cluster last recorded; null when none of its nodes knows one.</param>
    /// <param name="adopt">The operator asked for this journal to become the cluster's (--adopt-journal).</param>
    public static JournalVerdict Decide(string own, string? clusters, bool adopt) =>
        clusters is null ? JournalVerdict.Claim
        : clusters == own ? JournalVerdict.Serve
        : adopt ? JournalVerdict.Claim
        : JournalVerdict.Refuse;

    public static string Refusal(string own, string clusters, string? claimedBy) =>
        $"this controller's journal ({own}) is not the one the cluster has been using ({clusters}"
        + (claimedBy is null ? "" : $", claimed by the controller at {claimedBy}")
        + "); serving from it would lose the cluster's searches and their results. Start this controller on the cluster's"
        + " database (--db, --persistence), or start it with --adopt-journal to move the cluster to this journal on purpose";
}

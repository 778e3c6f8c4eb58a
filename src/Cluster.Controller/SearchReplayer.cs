using Akka.Actor;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// Reads one search's journal from the first event, ignoring snapshots, and folds it into a <see cref="SearchModel"/>
/// exactly as the live controller does; it answers <see cref="GetSearch"/> and changes nothing. Used by
/// <c>autodropout controller verify</c> to check that a live search is what its journal implies.
/// </summary>
public sealed class SearchReplayer : ReceivePersistentActor
{
    private readonly SearchModel _search = new(SearchPolicies.Create);

    public SearchReplayer(string name)
    {
        PersistenceId = SearchController.PersistenceIdFor(name);
        Recover<ISearchEvent>(_search.Apply);
        Command<GetSearch>(get => Sender.Tell(_search.State is null
            ? new CommandRejected($"no such search: '{get.Search}'") : (object)SearchViews.Details(_search)));
    }

    public override string PersistenceId { get; }

    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    public static Props Props(string name) => Akka.Actor.Props.Create(() => new SearchReplayer(name));

    protected override void PostStop()
    {
        _search.Dispose();
        base.PostStop();
    }
}

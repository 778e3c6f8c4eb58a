using Akka.Actor;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// `search delete`: a stopped or completed search is stopped as an actor, its journal and snapshots are deleted, and
/// only then is <see cref="SearchDeleted"/> persisted. A crash in between leaves a registered name with an empty
/// journal: a search with no state, which no list shows and which a new start (or a second delete) takes over.
/// </summary>
public sealed partial class SearchManager
{
    private static readonly TimeSpan DeleteTimeout = TimeSpan.FromSeconds(30);

    private sealed record DeletionChecked(SearchStatus? Status);

    private sealed record DeletionTimedOut;

    private void StartRecoveredSearches()
    {
        foreach (var name in _names.Where(n => !_searches.ContainsKey(n))) StartSearchActor(name);
    }

    private void Unregister(SearchDeleted deleted)
    {
        _names.Remove(deleted.Name);
        _health.Remove(deleted.Name);
        if (_searches.Remove(deleted.Name, out var search)) Context.Stop(search);
    }

    private void OnDelete(DeleteSearch delete)
    {
        var name = delete.Search;
        if (Down(name) is { } down)
        {
            // a broken search never runs again: its journal can go as it is; a restarting one is asked again later
            if (down.Broken is not null && _searches.TryGetValue(name, out var stopped)) BecomeStacked(() => AwaitingDeletion(name, stopped, Sender, erasing: true));
            else Sender.Tell(new CommandRejected(down.Rejection("search", name)));
            return;
        }
        if (!_searches.TryGetValue(name, out var search))
        {
            Sender.Tell(new CommandRejected(_evaluations.ContainsKey(name)
                ? $"'{name}' is an evaluation, not a search; evaluations cannot be deleted"
                : $"no such search: '{name}'"));
            return;
        }
        var replyTo = Sender;
        search.Ask<object>(new GetSearchState(), SummaryTimeout).PipeTo(Self, replyTo,
            success: reply => new DeletionChecked(reply is SearchState state ? state.Status : null),
            failure: _ => new CommandRejected($"search '{name}' did not answer in time; try again"));
        BecomeStacked(() => AwaitingDeletion(name, search, replyTo));
    }

    /// <summary>One deletion at a time; everything else waits (as while an evaluation is planned).</summary>
    /// <param name="erasing">The search's actor is already stopped (broken): erase at once.</param>
    private void AwaitingDeletion(string name, IActorRef search, IActorRef replyTo, bool erasing = false)
    {
        IActorRef? eraser = null;
        ICancelable? timeout = null;
        void Erase()
        {
            eraser = Context.ActorOf(Akka.Actor.Props.Create(() => new JournalEraser(SearchController.PersistenceIdFor(name))));
            timeout = Context.System.Scheduler.ScheduleTellOnceCancelable(DeleteTimeout, Self, new DeletionTimedOut(), Self);
        }
        if (erasing) Erase();
        void Fail(string why)
        {
            timeout?.Cancel();
            // whatever is left of the journal is recovered by a fresh actor, so the search is as it was or empty
            if (eraser is not null) StartSearchActor(name);
            replyTo.Tell(new CommandRejected(why));
            UnbecomeToReady();
        }
        Command<DeletionChecked>(checkedState =>
        {
            if (checkedState.Status is SearchStatus.Running or SearchStatus.Paused)
            {
                replyTo.Tell(new CommandRejected($"search '{name}' is {checkedState.Status.Value.Name()}; stop it first (search stop {name})"));
                UnbecomeToReady();
                return;
            }
            Context.Watch(search);
            Context.Stop(search);
        });
        Command<Terminated>(terminated =>
        {
            if (!terminated.ActorRef.Equals(search)) return;
            // the search's actor is gone, so nothing else writes its journal while it is deleted
            Erase();
        });
        Command<JournalEraser.Erased>(_ =>
        {
            timeout?.Cancel();
            Persist(new SearchDeleted(name), deleted =>
            {
                Unregister(deleted);
                replyTo.Tell(new CommandAccepted($"search '{name}' deleted"));
                UnbecomeToReady();
            });
        });
        Command<JournalEraser.Failed>(failed =>
        {
            Fail($"search '{name}': its journal could not be deleted ({failed.Why}); try again");
        });
        Command<DeletionTimedOut>(_ =>
        {
            if (eraser is not null) Context.Stop(eraser);
            Fail($"search '{name}': deleting its journal took longer than {DeleteTimeout.TotalSeconds:0} s; try again");
        });
        Command<CommandRejected>(rejected =>
        {
            replyTo.Tell(rejected);
            UnbecomeToReady();
        });
        CommandAny(_ => Stash.Stash());
    }
}

/// <summary>Deletes every event and snapshot of one persistence id, then says so to its parent and stops.</summary>
internal sealed class JournalEraser : ReceivePersistentActor
{
    public sealed record Erased;

    public sealed record Failed(string Why);

    private bool _messagesDeleted, _snapshotsDeleted;

    public JournalEraser(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<RecoveryCompleted>(_ =>
        {
            DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
            if (LastSequenceNr > 0) DeleteMessages(LastSequenceNr);
            else _messagesDeleted = true;
        });
        Command<DeleteSnapshotsSuccess>(_ => { _snapshotsDeleted = true; Done(); });
        Command<DeleteMessagesSuccess>(_ => { _messagesDeleted = true; Done(); });
        Command<DeleteSnapshotsFailure>(f => Fail(f.Cause));
        Command<DeleteMessagesFailure>(f => Fail(f.Cause));
    }

    public override string PersistenceId { get; }

    /// <summary>
    /// Nothing is read back, only the highest sequence number: a journal that cannot be decoded (a broken search)
    /// can be erased too.
    /// </summary>
    public override Recovery Recovery => new(SnapshotSelectionCriteria.None, toSequenceNr: 0);

    private void Done()
    {
        if (!_messagesDeleted || !_snapshotsDeleted) return;
        Context.Parent.Tell(new Erased());
        Context.Stop(Self);
    }

    private void Fail(Exception cause)
    {
        Context.Parent.Tell(new Failed(cause.Message));
        Context.Stop(Self);
    }
}

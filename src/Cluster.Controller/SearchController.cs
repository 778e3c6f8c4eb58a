using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Cluster.Controller;

/// <summary>Passed along the searches until one has work for the trainer; the last one says there is none.</summary>
internal sealed record OfferWork(RequestWork Request, IActorRef Trainer, IReadOnlyList<IActorRef> Next);

internal sealed record GetSummary;

internal sealed record CheckLeases;

/// <summary>Patterns a <see cref="PolicyWorker"/> sampled ahead of demand.</summary>
internal sealed record ProposalsSampled(PolicyWorker From, ProposalRequest Request, int[][] Tokens);

/// <summary>An update a <see cref="PolicyWorker"/> learned, with the policy state it led to.</summary>
internal sealed record PolicyLearned(PolicyWorker From, PolicyUpdated Update, byte[] State, PolicyUpdateStats Stats);

internal sealed record PolicyWorkFailed(PolicyWorker From, string What, Exception Cause);

/// <summary>
/// One search as a persistent actor: it asks <see cref="SearchDecider"/> what each message means, folds the events it
/// returns into its <see cref="SearchModel"/> at once, writes them by group commit (<see cref="WriteGroups{TEvent}"/>)
/// and replies once they are written. Recovery folds the same events. Sampling
/// and learning run beside it (<see cref="PolicyWorker"/>): it keeps proposals waiting ahead of the trainers'
/// requests and records each update when it is learned, so neither holds up a trainer.
/// </summary>
public sealed class SearchController : JobActor
{
    private readonly ILoggingAdapter _log; // every line carries the search's name as the property Search
    private readonly SearchModel _search = new(SearchPolicies.Create);
    private readonly string _name;
    private readonly int _snapshotEvery;
    private string _tensorBoardDir; // emptied when writing fails
    private TensorBoardWriter? _board;
    private long _previousSnapshot; // kept when a newer one is saved, in case the newer one cannot be read
    private PolicyWorker? _worker;
    private bool _sampling, _learning; // until their results are handled here, not merely computed
    private const string Sampling = "sampling", Learning = "learning";
    private const int MaxFailuresInARow = 3;
    private int _samplingFailures, _learningFailures; // in a row
    private readonly WriteGroups<ISearchEvent> _writes = new();

    public SearchController(string name, bool skipSnapshots) : base(PersistenceIdFor(name), skipSnapshots)
    {
        _name = name;
        _log = LogProperties.Logger(Context).With("Search", name);
        _tensorBoardDir = Context.System.Settings.Config.GetString("autodropout.controller.tensorboard-dir", "");
        _snapshotEvery = Math.Max(1, Context.System.Settings.Config.GetInt("autodropout.controller.snapshot-every-updates", 10));

        Recover<SnapshotOffer>(offer =>
        {
            _search.Restore((SearchSnapshot)offer.Snapshot);
            _previousSnapshot = offer.Metadata.SequenceNr;
        });
        Recover<ISearchEvent>(_search.Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            if (_search.State is not { } s) return;
            Leases.Recovered(DateTimeOffset.UtcNow);
            SearchMetrics.Observe(_name, s);
            _log.Info("search {0} recovered: {1} trials proposed, {2} completed, {3} failed, policy version {4}",
                _name, s.ProposedCount, s.Completed, s.Failed, s.PolicyVersion);
            KeepAhead(); // an update its last run did not get to record, and proposals to sample
            foreach (var trainerId in s.LeasedTrials.Select(t => t.Trainer!).Distinct()) TrainerWatcher.Tell(new TrainerWatch.Find(trainerId));
        });

        Command<StartSearch>(start => Execute(new Start(start.Spec), Sender));
        Command<OfferWork>(OnOfferWork);
        Command<TrialResult>(result =>
        {
            var replyTo = Sender;
            // acknowledged all the same: a refused result must not be resent for ever
            if (!TrainerIds.SentBy(result.TrainerId, replyTo.Path, ((ExtendedActorSystem)Context.System).Provider.DefaultAddress))
            {
                _log.With("TrialId", result.TrialId).Warning("search {0}: result of trial {1} claims trainer {2} but came from {3}: ignored", _name, result.TrialId, result.TrainerId, replyTo.Path);
                replyTo.Tell(new TrialResultAck(result.Search, result.TrialId));
                return;
            }
            var decision = _search.Decide(new Report(result));
            if (decision.Events.Count == 0)
                Telemetry.ResultsDropped.Add(1, new("search", _name), new("why", decision.Warning is null ? "resend" : "refused"));
            Carry(decision);
            _writes.Then(() => replyTo.Tell(new TrialResultAck(result.Search, result.TrialId)));
        });
        Command<TrialProgress>(p =>
        {
            // only the lease holder's heartbeat counts; a late one after its result would linger for ever
            if (_search.State?.Find(p.TrialId) is { Status: TrialStatus.Leased } t && t.Trainer == p.TrainerId) Leases.Heard(p, DateTimeOffset.UtcNow);
        });
        // an answer reflects decisions whose events may still be on their way to the journal: it leaves once they are written
        Command<GetSearch>(get => Answer(_search.State is null ? NoSuchSearch() : SearchViews.Details(_search, Leases.Latest, get.TrialsFrom, get.TrialsLimit)));
        Command<GetSearchState>(_ => Answer(_search.State is { } state ? state : NoSuchSearch()));
        Command<GetSummary>(_ => Answer(_search.State is { } s ? SearchViews.Summary(s) : NoSuchSearch()));
        Command<PauseSearch>(_ => Execute(new Pause(), Sender, () => CancelRunningTrials("the search was paused")));
        Command<ResumeSearch>(_ => Execute(new Resume(), Sender));
        Command<StopSearch>(_ => Execute(new Stop(), Sender, () => CancelRunningTrials("the search was stopped")));
        Command<ExtendSearch>(extend => Execute(new Extend(extend.AdditionalTrials), Sender));
        Command<CheckLeases>(_ => Execute(new ExpireLeases(DateTimeOffset.UtcNow, Leases)));
        Command<TrainerWatch.Lost>(lost => Execute(new ReleaseTrainer(lost.TrainerId, lost.Why)));
        // a restarted search keeps its address: work its previous incarnation started may still come back to it
        Command<ProposalsSampled>(sampled => sampled.From != _worker, _ => { });
        Command<PolicyLearned>(learned => learned.From != _worker, _ => { });
        Command<PolicyWorkFailed>(failed => failed.From != _worker, _ => { });
        Command<ProposalsSampled>(sampled =>
        {
            _sampling = false;
            _samplingFailures = 0;
            Execute(new AddProposals(sampled.Request.FirstId, sampled.Request.PolicyVersion, sampled.Tokens));
        });
        Command<PolicyLearned>(learned =>
        {
            _learning = false;
            _learningFailures = 0;
            Carry(_search.Decide(new RecordUpdate(learned.Update)), apply: e =>
            {
                if (e is not PolicyUpdated update) throw new InvalidOperationException($"an update was recorded as {e.GetType().Name}");
                _search.ApplyLearned(update, learned.State, learned.Stats);
                _worker?.Taken(update.Version);
            });
        });
        Command<PolicyWorkFailed>(failed =>
        {
            int inARow;
            if (failed.What == Learning) (_learning, inARow) = (false, ++_learningFailures);
            else (_sampling, inARow) = (false, ++_samplingFailures);
            // a copy that failed may be half-updated: it takes the live policy's state again and tries once more. A
            // restart would cost more: the trainers' assignments still waiting on a write would be lost to it
            if (inARow >= MaxFailuresInARow)
            {
                _log.Error(failed.Cause, "search {0}: {1} failed {2} times in a row", _name, failed.What, inARow);
                throw new InvalidOperationException($"search {_name}: {failed.What} failed", failed.Cause);
            }
            _log.Warning(failed.Cause, "search {0}: {1} failed; trying again from the live policy's state", _name, failed.What);
            _worker!.Reload();
            KeepAhead();
        });
        Command<SaveSnapshotSuccess>(saved =>
        {
            if (_previousSnapshot > 0) DeleteSnapshots(new SnapshotSelectionCriteria(_previousSnapshot - 1));
            _previousSnapshot = saved.Metadata.SequenceNr;
        });
        Command<SaveSnapshotFailure>(failed => _log.Warning(failed.Cause, "search {0}: snapshot failed; recovery will replay more events", _name));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning(failed.Cause, "search {0}: could not delete old snapshots", _name));
    }

    public static string PersistenceIdFor(string name) => $"search-{name}";

    /// <param name="skipSnapshots">Recover from the events alone: the last recovery failed, maybe on a bad snapshot.</param>
    public static Props Props(string name, bool skipSnapshots = false) => Akka.Actor.Props.Create(() => new SearchController(name, skipSnapshots));

    protected override void PostStop()
    {
        Telemetry.RemoveSearch(_name);
        _worker?.Dispose();
        _board?.Dispose();
        _search.Dispose();
        base.PostStop();
    }

    /// <param name="applied">Runs once the events are applied, unless the command is refused.</param>
    private void Execute(SearchCommand command, IActorRef? replyTo = null, Action? applied = null)
    {
        if (Carry(_search.Decide(command), replyTo)) applied?.Invoke();
    }

    /// <summary>
    /// Applies what was decided at once, so the next message is decided on it, and queues its events for the next
    /// write (<see cref="WriteGroups{TEvent}"/>): decisions that arrive while a write is in flight go out together as
    /// one atomic write. The reply to <paramref name="replyTo"/>, like everything queued with
    /// <see cref="WriteGroups{TEvent}.Then"/> after it, waits until the events are written. False when refused.
    /// </summary>
    private bool Carry(Decision decision, IActorRef? replyTo = null, Action<ISearchEvent>? apply = null)
    {
        if (decision.Rejected is { } rejected)
        {
            var refusal = new CommandRejected(rejected.Kind == RejectionKind.NotFound ? NoSuchSearch().Reason : rejected.Reason);
            if (replyTo is not null) _writes.Then(() => replyTo.Tell(refusal));
            return false;
        }
        if (decision.Warning is { } warning) _log.Warning("search {0}: {1}", _name, warning);
        _writes.Add(decision.Events); // first, so what the events set off waits for them
        foreach (var e in decision.Events)
        {
            (apply ?? _search.Apply)(e);
            LeaseChanged(e);
            Chart(e);
            // a search that paused itself frees its trainers as an operator's pause does
            if (e is SearchPaused { Reason: { } why }) CancelRunningTrials($"the search paused itself: {why}");
        }
        if (decision.Message is { } message && replyTo is not null) _writes.Then(() => replyTo.Tell(new CommandAccepted(message)));
        WriteNext();
        KeepAhead();
        return true;
    }

    /// <summary>Writes all that waits as one <c>PersistAllAsync</c>, unless a write is in flight; when it is written,
    /// writes what waits by then and runs what followed it.</summary>
    private void WriteNext()
    {
        if (_writes.Start() is not { } group) return;
        // the state now is exactly the journal after this group, so a snapshot due in it is taken here
        var snapshot = group.Any(e => e is PolicyUpdated u && u.Version % _snapshotEvery == 0) ? _search.ToSnapshot() : null;
        int left = group.Count;
        long persisting = Stopwatch.GetTimestamp();
        PersistAllAsync(group, e =>
        {
            SearchMetrics.Count(_name, e);
            if (SearchViews.Describe(e) is { } line) TrialLog(e).Info("search {0}: {1}", _name, line);
            if (--left > 0) return;
            Telemetry.JournalWrite.Record(Stopwatch.GetElapsedTime(persisting).TotalSeconds, new KeyValuePair<string, object?>("job", "search"));
            if (snapshot is not null) SaveSnapshot(snapshot);
            var then = _writes.Written();
            WriteNext();
            foreach (var action in then) action();
            SearchMetrics.Observe(_name, _search.State!);
        });
    }

    /// <summary>Charts a live event for TensorBoard; a failing disk costs the charts, never the search.</summary>
    private void Chart(ISearchEvent e)
    {
        if (_tensorBoardDir.Length == 0 || SearchMetrics.Scalars(e, _search.State!) is not { } point) return;
        try
        {
            _board ??= new TensorBoardWriter(Path.Combine(_tensorBoardDir, _name));
            _board.Scalars(point.Step, point.Values);
        }
        catch (IOException failure)
        {
            _log.Warning("search {0}: TensorBoard files are not written to {1}: {2}", _name, _tensorBoardDir, failure.Message);
            _tensorBoardDir = "";
        }
    }

    /// <summary>The log, with the trial's id as the property TrialId when the event concerns one trial.</summary>
    private ILoggingAdapter TrialLog(ISearchEvent e) => e switch
    {
        TrialProposed t => _log.With("TrialId", t.TrialId),
        TrialLeased t => _log.With("TrialId", t.TrialId),
        TrialCompleted t => _log.With("TrialId", t.TrialId),
        TrialFailed t => _log.With("TrialId", t.TrialId),
        TrialRequeued t => _log.With("TrialId", t.TrialId),
        _ => _log,
    };

    private void OnOfferWork(OfferWork offer)
    {
        var decision = _search.Decide(new Offer(offer.Request.TrainerId, DateTimeOffset.UtcNow));
        if (decision.Events is not [.., TrialLeased leased])
        {
            if (offer.Next.Count == 0) offer.Trainer.Tell(new NoWorkAvailable(IdleRetryMilliseconds));
            else offer.Next[0].Tell(offer with { Next = offer.Next.Skip(1).ToArray() });
            return;
        }
        TrainerWatcher.Tell(new TrainerWatch.Watch(offer.Trainer, offer.Request.TrainerId));
        Carry(decision);
        var assignment = Assignments.For(_search.State!, leased.TrialId);
        _writes.Then(() => offer.Trainer.Tell(assignment));
    }

    /// <summary>Starts learning the update that is due and sampling the proposals that are wanted, unless they run already.</summary>
    private void KeepAhead()
    {
        if (_search is not { State: { } state, Policy: { } policy }) return;
        _worker ??= new PolicyWorker(state.Spec);
        if (!_learning && SearchDecider.UpdateDue(state) is { } due)
        {
            _learning = true;
            var worker = _worker;
            worker.Learn(due, _search.BatchOf(due), state.PolicyVersion, policy.SaveState).PipeTo(Self,
                success: learned => new PolicyLearned(worker, due, learned.State, learned.Stats), failure: e => new PolicyWorkFailed(worker, Learning, e));
        }
        if (!_sampling && SearchDecider.ProposalsWanted(state, SearchDecider.ProposalsAhead(state)) is { } wanted)
        {
            _sampling = true;
            var worker = _worker;
            worker.Sample(wanted, policy.SaveState).PipeTo(Self,
                success: tokens => new ProposalsSampled(worker, wanted, tokens), failure: e => new PolicyWorkFailed(worker, Sampling, e));
        }
    }

    /// <summary>Running trials are abandoned on pause and stop, so a paused search frees its trainers at once (once
    /// the pause is written).</summary>
    private void CancelRunningTrials(string why)
    {
        var trials = _search.State!.LeasedTrials.ToArray();
        _writes.Then(() =>
        {
            foreach (var trial in trials) Context.ActorSelection(trial.Trainer).Tell(new CancelTrial(_name, trial.Id, why));
        });
    }

    private void Answer(object answer)
    {
        var replyTo = Sender;
        _writes.Then(() => replyTo.Tell(answer));
    }

    private CommandRejected NoSuchSearch() => new($"no such search: '{_name}'");
}

using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Policy;

namespace AutoDropout.Cluster.Controller;

/// <summary>Passed along the searches until one has work for the trainer; the last one says there is none.</summary>
internal sealed record OfferWork(RequestWork Request, IActorRef Trainer, IReadOnlyList<IActorRef> Next);

internal sealed record GetSummary;

internal sealed record CheckLeases;

internal sealed record TrainerLookupTimedOut(string TrainerId);

/// <summary>
/// One search: a persistent actor that proposes patterns from its policy, leases them to trainers, records their
/// results and updates the policy on every full batch. Its state is rebuilt from its journal by replaying the same
/// events through the same code, policy updates included (they are deterministic), so a restart resumes the search
/// where it stopped.
/// </summary>
public sealed class SearchController : ReceivePersistentActor, IWithTimers
{
    private const int IdleRetryMilliseconds = 2000;
    private static readonly TimeSpan LeaseCheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan TrainerLookupTimeout = TimeSpan.FromSeconds(30);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, string> _watchedTrainers = new();
    private readonly Dictionary<int, TrialProgress> _progress = new(); // in memory only: gone after a restart, refilled by trainers
    private readonly string _name;
    private readonly bool _rebuildOnly;
    private readonly int _snapshotEvery;
    private SearchState? _state;
    private ReinforceController? _policy;

    /// <param name="rebuildOnly">Replay the journal alone, ignoring snapshots, and only answer queries: used to check
    /// that a live controller's state is exactly what its events imply (<c>autodropout controller verify</c>).</param>
    public SearchController(string name, bool rebuildOnly = false)
    {
        _name = name;
        _rebuildOnly = rebuildOnly;
        PersistenceId = PersistenceIdFor(name);
        _snapshotEvery = Math.Max(1, Context.System.Settings.Config.GetInt("autodropout.controller.snapshot-every-updates", 10));

        Recover<SnapshotOffer>(offer => Restore((SearchSnapshot)offer.Snapshot));
        Recover<ISearchEvent>(Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state is null) return;
            _log.Info("search {0} recovered: {1} trials proposed, {2} completed, {3} failed, policy version {4}",
                _name, _state.ProposedCount, _state.Completed, _state.Failed, _policy!.Version);
            if (_rebuildOnly) return;
            UpdatePolicyIfBatchReady(); // a crash between a result and its update leaves a full batch behind
            FindLeaseHolders();
        });

        if (rebuildOnly)
        {
            Command<GetSearch>(_ => Sender.Tell(_state is null ? NoSuchSearch() : Details()));
            return;
        }

        Command<StartSearch>(OnStart);
        Command<OfferWork>(OnOfferWork);
        Command<TrialResult>(OnResult);
        Command<TrialProgress>(p => _progress[p.TrialId] = p);
        Command<GetSearch>(_ => Sender.Tell(_state is null ? NoSuchSearch() : Details()));
        Command<GetSummary>(_ => Sender.Tell(_state is null ? NoSuchSearch() : _state.Summary(_policy!.Version)));
        Command<PauseSearch>(_ => ChangeStatus(SearchStatus.Running, new SearchPaused(), "paused"));
        Command<ResumeSearch>(_ => ChangeStatus(SearchStatus.Paused, new SearchResumed(), "resumed"));
        Command<StopSearch>(_ => StopSearch());
        Command<ExtendSearch>(Extend);
        Command<CheckLeases>(_ => RequeueExpiredLeases());
        Command<Terminated>(OnTrainerTerminated);
        Command<ActorIdentity>(OnTrainerIdentified);
        Command<TrainerLookupTimedOut>(timeout => RequeueLeasesOf(timeout.TrainerId, "did not answer after the controller restarted"));
        Command<SaveSnapshotSuccess>(saved =>
            DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1))); // the newest one is enough
        Command<SaveSnapshotFailure>(failed => _log.Warning(failed.Cause, "search {0}: snapshot failed; recovery will replay more events", _name));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning(failed.Cause, "search {0}: could not delete old snapshots", _name));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(string name) => $"search-{name}";

    public static Props Props(string name, bool rebuildOnly = false) => Akka.Actor.Props.Create(() => new SearchController(name, rebuildOnly));

    public override Recovery Recovery => _rebuildOnly ? new Recovery(SnapshotSelectionCriteria.None) : base.Recovery;

    protected override void PreStart()
    {
        if (!_rebuildOnly) Timers.StartPeriodicTimer("leases", new CheckLeases(), LeaseCheckInterval);
        base.PreStart();
    }

    protected override void PostStop()
    {
        _policy?.Dispose();
        base.PostStop();
    }

    private void Create(SearchCreated created)
    {
        _state = new SearchState(created.Spec);
        _policy = NewPolicy(created.Spec, _state);
    }

    private void Restore(SearchSnapshot snapshot)
    {
        _policy?.Dispose();
        _state = SearchState.FromSnapshot(snapshot);
        _policy = NewPolicy(snapshot.Spec, _state);
        _policy.LoadState(snapshot.PolicyState);
    }

    private static ReinforceController NewPolicy(SearchSpec spec, SearchState state) =>
        new(spec.PatternSpace.VocabularySizes(), spec.MaskSites * spec.PatternSpace.TokensPerSite,
            spec.PolicyOrDefault, Seeds.Derive(spec.Seed, 0, SeedStream.Policy));

    private void Apply(ISearchEvent e)
    {
        if (e is SearchCreated created)
        {
            Create(created);
            return;
        }
        if (_state is null) throw new InvalidOperationException($"search {_name}: {e.GetType().Name} before SearchCreated");
        if (e is PolicyUpdated update)
        {
            var batch = update.TrialIds.Select(id => _state.Find(id)!)
                .Select(t => new RewardedSample(_state.Spec.PatternSpace.EncodePattern(t.Pattern), t.Reward ?? 0)).ToArray();
            var report = _policy!.Update(batch);
            if (report.Version != update.Version)
                throw new InvalidOperationException($"search {_name}: policy update {update.Version} replayed as version {report.Version}");
        }
        _state.Apply(e);
    }

    private void OnStart(StartSearch start)
    {
        if (_state is not null)
        {
            Sender.Tell(new CommandRejected($"search '{_name}' exists already ({_state.Status.ToString().ToLowerInvariant()})"));
            return;
        }
        var replyTo = Sender;
        Persist(new SearchCreated(start.Spec), created =>
        {
            Create(created);
            _log.Info("search {0} created: {1} trials of {2}", _name, created.Spec.Trials, created.Spec.Target);
            var baselines = created.Spec.BaselineCount > 0 ? $" after {created.Spec.BaselineCount} baseline trials" : "";
            replyTo.Tell(new CommandAccepted($"search '{_name}' started: {created.Spec.Trials} trials of {created.Spec.Target}{baselines}"));
        });
    }

    private void OnOfferWork(OfferWork offer)
    {
        if (_state is null || _state.Status != SearchStatus.Running)
        {
            PassOn(offer);
            return;
        }
        var leaseUntil = DateTimeOffset.UtcNow.AddSeconds(_state.Spec.LeaseSeconds);
        var lease = (int trialId) => new TrialLeased(trialId, offer.Request.TrainerId, leaseUntil);
        WatchTrainer(offer.Trainer, offer.Request.TrainerId);

        if (_state.WaitingTrial is { } waiting)
        {
            Persist(lease(waiting), leased =>
            {
                Apply(leased);
                offer.Trainer.Tell(Assignment(_state.Find(waiting)!, leaseUntil));
            });
            return;
        }
        if (!_state.MayProposeMore)
        {
            PassOn(offer);
            return;
        }
        int trialId = _state.NextTrialId;
        var pattern = _state.NextBaseline is { } baseline
            ? new BaselinePattern(baseline)
            : _state.Spec.PatternSpace.DecodePattern(_policy!.Sample(Seeds.Derive(_state.Spec.Seed, trialId, SeedStream.PatternSample)).Tokens);
        var proposed = new TrialProposed(trialId, pattern, _policy!.Version, Seeds.Derive(_state.Spec.Seed, trialId, SeedStream.Trial));
        PersistAll(new ISearchEvent[] { proposed, lease(trialId) }, e =>
        {
            Apply(e);
            if (e is TrialLeased) offer.Trainer.Tell(Assignment(_state.Find(trialId)!, leaseUntil));
        });
    }

    private static void PassOn(OfferWork offer)
    {
        if (offer.Next.Count == 0) offer.Trainer.Tell(new NoWorkAvailable(IdleRetryMilliseconds));
        else offer.Next[0].Tell(offer with { Next = offer.Next.Skip(1).ToArray() });
    }

    private WorkAssignment Assignment(TrialRecord trial, DateTimeOffset leaseUntil)
    {
        var spec = _state!.Spec;
        var trialSpec = new TrialSpec(spec.Target, spec.Dataset, spec.DataDirectory, new TrialBudget(spec.TrainSteps, spec.TrainEpochs),
            spec.BatchSize, spec.LearningRate, trial.Pattern, spec.ValidationFraction,
            (int)(Seeds.Derive(spec.Seed, 0, SeedStream.ValidationSplit) & int.MaxValue), trial.Seed,
            spec.Optimizer, spec.IsTransformer ? spec.TextOrDefault : null);
        return new WorkAssignment(_name, trial.Id, trialSpec, leaseUntil);
    }

    private void OnResult(TrialResult result)
    {
        var ack = new TrialResultAck(result.Search, result.TrialId);
        var e = _state?.EventFor(result);
        if (e is null)
        {
            // a resend after we persisted it, or a trial we never proposed: acknowledge so the trainer moves on
            _log.Info("search {0}: ignoring result for trial {1} from {2} (unknown or already finished)", _name, result.TrialId, result.TrainerId);
            Sender.Tell(ack);
            return;
        }
        var replyTo = Sender;
        _progress.Remove(result.TrialId);
        Persist(e, persisted =>
        {
            Apply(persisted);
            replyTo.Tell(ack);
            if (persisted is TrialCompleted c)
                _log.Info("search {0}: trial {1} completed with reward {2:0.0000}", _name, c.TrialId, c.Reward);
            else
                _log.Warning("search {0}: trial {1}: {2}", _name, result.TrialId, persisted);
            UpdatePolicyIfBatchReady();
        });
    }

    private void UpdatePolicyIfBatchReady()
    {
        if (_state!.Unlearned.Count < _state.Spec.PolicyBatch) return;
        var ids = _state.Unlearned.Take(_state.Spec.PolicyBatch).ToArray();
        Persist(new PolicyUpdated(_policy!.Version + 1, ids), update =>
        {
            Apply(update);
            _log.Info("search {0}: policy updated to version {1} on trials [{2}], baseline {3:0.0000}",
                _name, update.Version, string.Join(", ", update.TrialIds), _policy.Baseline);
            if (update.Version % _snapshotEvery == 0) SaveSnapshot(_state.ToSnapshot(_policy.SaveState()));
        });
    }

    private void RequeueExpiredLeases()
    {
        if (_state is null) return;
        var expired = _state.ExpiredLeases(DateTimeOffset.UtcNow).Select(t => new TrialRequeued(t.Id, $"lease of {t.Trainer} expired")).ToArray();
        if (expired.Length > 0) PersistAll(expired, Apply);
    }

    private void WatchTrainer(IActorRef trainer, string trainerId)
    {
        if (_watchedTrainers.TryAdd(trainer, trainerId)) Context.Watch(trainer);
    }

    /// <summary>A trainer that died (or whose node left) loses its leases at once; no need to wait for expiry.</summary>
    private void OnTrainerTerminated(Terminated terminated)
    {
        // a trainer restarted under the same id may already hold new leases through its new incarnation
        if (_watchedTrainers.Remove(terminated.ActorRef, out var trainerId) && !_watchedTrainers.ContainsValue(trainerId))
            RequeueLeasesOf(trainerId, "is gone");
    }

    /// <summary>
    /// After a restart the controller no longer watches anyone. Trainer ids are actor paths, so it asks each lease
    /// holder to identify itself: one that answers is watched again, one that does not loses its leases.
    /// </summary>
    private void FindLeaseHolders()
    {
        foreach (var trainerId in _state!.Trials.Where(t => t.Status == TrialStatus.Leased).Select(t => t.Trainer!).Distinct())
        {
            Context.ActorSelection(trainerId).Tell(new Identify(trainerId));
            Timers.StartSingleTimer($"identify-{trainerId}", new TrainerLookupTimedOut(trainerId), TrainerLookupTimeout);
        }
    }

    private void OnTrainerIdentified(ActorIdentity identity)
    {
        if (identity.MessageId is not string trainerId) return;
        Timers.Cancel($"identify-{trainerId}");
        if (identity.Subject is null) RequeueLeasesOf(trainerId, "no longer exists");
        else WatchTrainer(identity.Subject, trainerId);
    }

    private void RequeueLeasesOf(string trainerId, string why)
    {
        if (_state is null) return;
        var lost = _state.LeasedBy(trainerId).Select(t => new TrialRequeued(t.Id, $"trainer {trainerId} {why}")).ToArray();
        if (lost.Length == 0) return;
        _log.Warning("search {0}: trainer {1} {2}; requeueing trials [{3}]", _name, trainerId, why, string.Join(", ", lost.Select(l => l.TrialId)));
        PersistAll(lost, Apply);
    }

    private void ChangeStatus(SearchStatus from, ISearchEvent change, string verb)
    {
        if (_state is null) { Sender.Tell(NoSuchSearch()); return; }
        if (_state.Status != from)
        {
            Sender.Tell(new CommandRejected($"search '{_name}' is {_state.Status.ToString().ToLowerInvariant()}; it cannot be {verb}"));
            return;
        }
        var replyTo = Sender;
        Persist(change, e =>
        {
            Apply(e);
            if (e is SearchPaused) CancelRunningTrials("the search was paused");
            replyTo.Tell(new CommandAccepted($"search '{_name}' {verb}"));
        });
    }

    private void StopSearch()
    {
        if (_state is null) { Sender.Tell(NoSuchSearch()); return; }
        if (_state.Status is SearchStatus.Stopped or SearchStatus.Completed)
        {
            Sender.Tell(new CommandRejected($"search '{_name}' is {_state.Status.ToString().ToLowerInvariant()} already"));
            return;
        }
        var replyTo = Sender;
        Persist(new SearchStopped(), e =>
        {
            Apply(e);
            CancelRunningTrials("the search was stopped");
            replyTo.Tell(new CommandAccepted($"search '{_name}' stopped"));
        });
    }

    private void Extend(ExtendSearch extend)
    {
        if (_state is null) { Sender.Tell(NoSuchSearch()); return; }
        if (extend.AdditionalTrials <= 0) { Sender.Tell(new CommandRejected("trials: an extension adds at least 1 trial")); return; }
        if (_state.Status == SearchStatus.Stopped) { Sender.Tell(new CommandRejected($"search '{_name}' is stopped; start a new one")); return; }
        var replyTo = Sender;
        Persist(new SearchExtended(extend.AdditionalTrials), e =>
        {
            Apply(e);
            replyTo.Tell(new CommandAccepted($"search '{_name}' extended by {extend.AdditionalTrials} trials to {_state.TotalTrials}"));
        });
    }

    private CommandRejected NoSuchSearch() => new($"no such search: '{_name}'");

    private SearchDetails Details() =>
        new(_state!.Summary(_policy!.Version), _state.Spec, _state.TrialViews(_progress), _state.Best?.Pattern, _policy.Baseline, _policy.StateHash());

    /// <summary>Running trials are abandoned on pause and stop, so a paused search frees its trainers at once.</summary>
    private void CancelRunningTrials(string why)
    {
        foreach (var trial in _state!.Trials.Where(t => t.Status == TrialStatus.Leased && t.Trainer is not null))
            Context.ActorSelection(trial.Trainer).Tell(new CancelTrial(_name, trial.Id, why));
    }
}

using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Cluster.Controller;

/// <summary>The registry hands a planned evaluation to its new job actor.</summary>
internal sealed record CreateEvaluation(EvaluationSpec Spec);

/// <summary>
/// One evaluation job as a persistent actor: like <see cref="SearchController"/>, it asks a pure decider
/// (<see cref="EvaluationDecider"/>) what each message means, persists the events, folds them and replies; recovery
/// folds the same events, so a job resumes after a crash with every finished result kept.
/// </summary>
public sealed class EvaluationController : JobActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _name;
    private EvaluationState? _state;

    public EvaluationController(string name, bool skipSnapshots) : base(PersistenceIdFor(name), skipSnapshots)
    {
        _name = name;

        Recover<EvaluationCreated>(created => _state = EvaluationState.Create(created.Spec));
        Recover<ISearchEvent>(e => _state = _state!.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state is not { } s) return;
            Leases.Recovered(DateTimeOffset.UtcNow);
            _log.Info("evaluation {0} recovered: {1} of {2} trials completed, {3} failed", _name, s.Completed, s.Trials.Count, s.Failed);
            foreach (var trainerId in s.LeasedTrials.Select(t => t.Trainer!).Distinct()) TrainerWatcher.Tell(new TrainerWatch.Find(trainerId));
        });

        Command<CreateEvaluation>(create => Carry(EvaluationDecider.Start(_state, create.Spec), Sender));
        Command<OfferWork>(OnOfferWork);
        Command<TrialResult>(result =>
        {
            var replyTo = Sender;
            // acknowledged all the same: a refused result must not be resent for ever
            if (!TrainerIds.SentBy(result.TrainerId, replyTo.Path, ((ExtendedActorSystem)Context.System).Provider.DefaultAddress))
            {
                _log.Warning("evaluation {0}: result of trial {1} claims trainer {2} but came from {3}: ignored", _name, result.TrialId, result.TrainerId, replyTo.Path);
                replyTo.Tell(new TrialResultAck(result.Search, result.TrialId));
                return;
            }
            Carry(EvaluationDecider.Decide(_state, new Report(result)), then: () => replyTo.Tell(new TrialResultAck(result.Search, result.TrialId)));
        });
        Command<TrialProgress>(p =>
        {
            if (_state?.Trials.GetValueOrDefault(p.TrialId) is { Status: TrialStatus.Leased } t && t.Trainer == p.TrainerId) Leases.Heard(p, DateTimeOffset.UtcNow);
        });
        Command<GetEvaluation>(_ => Sender.Tell(_state is null ? NoSuchEvaluation() : EvaluationViews.Details(_state)));
        Command<GetSummary>(_ => Sender.Tell(_state is null ? NoSuchEvaluation() : EvaluationViews.Summary(_state)));
        Command<StopSearch>(_ => Carry(EvaluationDecider.Decide(_state, new Stop()), Sender, CancelRunningTrials));
        Command<CheckLeases>(_ => Carry(EvaluationDecider.Decide(_state, new ExpireLeases(DateTimeOffset.UtcNow, Leases))));
        Command<TrainerWatch.Lost>(lost => Carry(EvaluationDecider.Decide(_state, new ReleaseTrainer(lost.TrainerId, lost.Why))));
    }

    /// <summary>A prefix of its own, so no evaluation shares a journal with a search or the registry.</summary>
    public static string PersistenceIdFor(string name) => $"evaluation-{name}";

    /// <param name="skipSnapshots">Ignore snapshots on recovery (it saves none today; kept like a search's for the registry).</param>
    public static Props Props(string name, bool skipSnapshots = false) => Akka.Actor.Props.Create(() => new EvaluationController(name, skipSnapshots));

    private void Carry(Decision decision, IActorRef? replyTo = null, Action? then = null)
    {
        if (decision.Rejected is { } rejected)
        {
            replyTo?.Tell(new CommandRejected(rejected.Kind == RejectionKind.NotFound ? NoSuchEvaluation().Reason : rejected.Reason));
            return;
        }
        if (decision.Warning is { } warning) _log.Warning("evaluation {0}: {1}", _name, warning);
        int left = decision.Events.Count;
        void Done()
        {
            if (decision.Message is { } message) replyTo?.Tell(new CommandAccepted(message));
            then?.Invoke();
        }
        if (left == 0) { Done(); return; }
        PersistAll(decision.Events, e =>
        {
            _state = e is EvaluationCreated created ? EvaluationState.Create(created.Spec) : _state!.Apply(e);
            LeaseChanged(e);
            if (Describe(e) is { } line) _log.Info("evaluation {0}: {1}", _name, line);
            if (--left == 0) Done();
        });
    }

    private static string? Describe(ISearchEvent e) => e switch
    {
        EvaluationCreated c => $"created: {c.Spec.Candidates.Count} candidates x {c.Spec.Seeds.Count} seeds on {c.Spec.Target}",
        _ => SearchViews.Describe(e),
    };

    private void OnOfferWork(OfferWork offer)
    {
        var decision = EvaluationDecider.Decide(_state, new Offer(offer.Request.TrainerId, DateTimeOffset.UtcNow));
        if (decision.Events is not [TrialLeased leased])
        {
            if (offer.Next.Count == 0) offer.Trainer.Tell(new NoWorkAvailable(IdleRetryMilliseconds));
            else offer.Next[0].Tell(offer with { Next = offer.Next.Skip(1).ToArray() });
            return;
        }
        TrainerWatcher.Tell(new TrainerWatch.Watch(offer.Trainer, offer.Request.TrainerId));
        Carry(decision, then: () => offer.Trainer.Tell(EvaluationDecider.Assignment(_state!, leased.TrialId)));
    }

    private void CancelRunningTrials()
    {
        foreach (var trial in _state!.LeasedTrials)
            Context.ActorSelection(trial.Trainer).Tell(new CancelTrial(_name, trial.Id, "the evaluation was stopped"));
    }

    private CommandRejected NoSuchEvaluation() => new($"no such evaluation: '{_name}'");
}

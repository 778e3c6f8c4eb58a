using Akka.Actor;
using Akka.Event;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Torch;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// One trainer per device. It pulls work from the controller, trains on its worker thread, then sends the result
/// again and again until the controller acknowledges it, and only then pulls again: a result is never lost, and the
/// controller's idempotence by trial id makes the resends harmless.
///
/// Each trainer has a child evaluator: the same actor asking for evaluation trials instead of search trials, on the
/// same device and worker thread. They take turns (<see cref="DeviceTurn"/>), so the device trains one thing at a time.
/// </summary>
public sealed class TrainerActor : ReceiveActor, IWithTimers
{
    private sealed record Poll;
    private sealed record Resend;
    private sealed record Heartbeat;
    private sealed record Trained(TrialResult Result);

    /// <summary>Asked by the node's <see cref="TrainerStatusActor"/> (a local message).</summary>
    public sealed record GetStatus;

    /// <summary>Drain (finish the current trial and take no more) or take work again; the evaluator child is told apart.</summary>
    public sealed record SetDrain(bool Drain);

    private readonly ILoggingAdapter _log = LogProperties.Logger(Context);
    private readonly IActorRef _controller;
    private readonly string _trainerId;
    private readonly Func<ITrialRunner> _makeRunner;
    private readonly TimeSpan _idlePoll;
    private readonly TimeSpan _resendInterval;
    private readonly TimeSpan _requestTimeout;
    private readonly WorkKind _kind;
    private readonly DeviceTurn _turn;
    private readonly bool _ownsWorker;
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenSource? _currentTrial; // cancelled when the controller abandons the trial (pause/stop)
    private ITrialRunner? _worker;
    private DateTime? _requestedAt; // the one request for work that has not been answered yet
    private DateTime _trainingSince;
    private readonly TimeSpan _heartbeatInterval;
    private WorkAssignment? _current; // the trial being trained or reported
    private TrialProgress? _latest; // the current trial's latest progress, resent as its heartbeat
    private bool _draining;
    private int _trialsDone;
    private double _itemsPerSecond; // the last completed trial's

    /// <param name="makeRunner">Makes the runner (a device's training thread, or a simulation) when the actor starts.</param>
    public TrainerActor(IActorRef controller, string trainerId, Func<ITrialRunner> makeRunner, TimeSpan idlePoll, TimeSpan resendInterval, TimeSpan requestTimeout)
        : this(controller, trainerId, makeRunner, idlePoll, resendInterval, requestTimeout, WorkKind.Search, new DeviceTurn(), null) { }

    /// <summary>The evaluator's constructor (public: Akka creates actors through public constructors).</summary>
    public TrainerActor(IActorRef controller, string trainerId, Func<ITrialRunner> makeRunner, TimeSpan idlePoll, TimeSpan resendInterval,
        TimeSpan requestTimeout, WorkKind kind, DeviceTurn turn, ITrialRunner? worker)
    {
        _controller = controller;
        _trainerId = trainerId;
        _makeRunner = makeRunner;
        _idlePoll = idlePoll;
        _resendInterval = resendInterval;
        _requestTimeout = requestTimeout;
        _kind = kind;
        _turn = turn;
        _worker = worker;
        _ownsWorker = worker is null;
        _heartbeatInterval = Context.System.Settings.Config.GetTimeSpan("autodropout.trainer.heartbeat-interval", TimeSpan.FromSeconds(5));
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private KeyValuePair<string, object?> KindTag => new("kind", _kind == WorkKind.Evaluation ? "evaluation" : "search");

    /// <param name="requestTimeout">How long a request for work may go unanswered before another is sent (default
    /// 30 s): one at a time, so requests buffered during a controller outage do not each become a lease.</param>
    public static Props Props(IActorRef controller, string trainerId, DeviceChoice device, TimeSpan idlePoll, TimeSpan resendInterval,
        TimeSpan? requestTimeout = null) =>
        Props(controller, trainerId, () => new TrainingWorker(device), idlePoll, resendInterval, requestTimeout);

    public static Props Props(IActorRef controller, string trainerId, Func<ITrialRunner> makeRunner, TimeSpan idlePoll, TimeSpan resendInterval,
        TimeSpan? requestTimeout = null)
    {
        var timeout = requestTimeout ?? TimeSpan.FromSeconds(30);
        return Akka.Actor.Props.Create(() => new TrainerActor(controller, trainerId, makeRunner, idlePoll, resendInterval, timeout));
    }

    protected override void PreStart()
    {
        if (_ownsWorker)
        {
            _worker = _makeRunner();
            var evaluatorId = $"{_trainerId}/{EvaluatorName}";
            Context.ActorOf(Akka.Actor.Props.Create(() => new TrainerActor(_controller, evaluatorId, _makeRunner, _idlePoll, _resendInterval,
                _requestTimeout, WorkKind.Evaluation, _turn, _worker)), EvaluatorName);
        }
        Self.Tell(new Poll());
    }

    /// <summary>The evaluator child's name: its id is the trainer's path plus this.</summary>
    public const string EvaluatorName = "evaluator";

    protected override void PostStop()
    {
        _stopping.Cancel();
        _currentTrial?.Dispose();
        _turn.Release(_kind);
        if (_ownsWorker) _worker?.Dispose();
    }

    /// <summary>
    /// Asking for work, one request at a time; the poll timer also covers a request or reply lost on the way (after
    /// the request timeout).
    /// </summary>
    private void Idle()
    {
        Always("idle");
        Receive<Poll>(_ =>
        {
            bool waitingForAnswer = _requestedAt is { } at && DateTime.UtcNow - at < _requestTimeout;
            if (!waitingForAnswer && !_draining && _turn.TryTake(_kind))
            {
                _controller.Tell(new RequestWork(_trainerId, _worker!.DeviceName, _kind));
                _requestedAt = DateTime.UtcNow;
            }
            Timers.StartSingleTimer("poll", new Poll(), _idlePoll);
        });
        Receive<NoWorkAvailable>(_ =>
        {
            _requestedAt = null;
            ReleaseDevice();
        });
        // a late answer while the sibling holds the device would wait behind its trial with its lease running; one
        // that was asked for before a drain goes back too
        Receive<WorkAssignment>(_ => _draining || !_turn.TryTake(_kind), work =>
        {
            HandBack(work);
            if (_draining) { _requestedAt = null; ReleaseDevice(); }
        });
        Receive<WorkAssignment>(work =>
        {
            if (_requestedAt is { } requested) Telemetry.DispatchLatency.Record((DateTime.UtcNow - requested).TotalSeconds, KindTag);
            _requestedAt = null;
            _trainingSince = DateTime.UtcNow;
            Timers.Cancel("poll");
            TrialLog(work.Search, work.TrialId).Info("{0}: {1} trial {2} of {3}: {4}", _trainerId, _kind == WorkKind.Evaluation ? "evaluating" : "training",
                work.TrialId, work.Search, work.Trial.Regulariser.ToCompact());
            _currentTrial?.Dispose();
            _currentTrial = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            _current = work;
            _latest = null;
            var self = Self;
            _worker!.Run(work, _trainerId, _currentTrial.Token, p => self.Tell(p)).PipeTo(Self,
                success: result => new Trained(result),
                // an exception nobody expected: its type says more than its message alone
                failure: e => new Trained(new TrialResult(work.Search, work.TrialId, _trainerId, 0, null, FailureReason.Error,
                    FailureReasons.OneLine($"{e.GetBaseException().GetType().Name}: {e.GetBaseException().Message}"))));
            // progress reports are the lease's heartbeat; this one beats even while a step or the validation pass is long
            Timers.StartPeriodicTimer("heartbeat", new Heartbeat(), _heartbeatInterval);
            Become(() => Training(work));
        });
        Receive<TrialResultAck>(_ => { });
        Receive<CancelTrial>(_ => { });
        Receive<TrialProgress>(_ => { });
        Receive<Heartbeat>(_ => { });
    }

    /// <summary>What every state answers alike: the status it is asked for, and a drain.</summary>
    private void Always(string state)
    {
        Receive<GetStatus>(_ => Sender.Tell(Status(state)));
        Receive<SetDrain>(drain =>
        {
            _draining = drain.Drain;
            if (!_draining && state == "idle") Self.Tell(new Poll());
        });
    }

    private TrainerStatus Status(string state)
    {
        var trial = state == "idle" ? null : _current;
        var progress = _latest is { } p && trial is { } c && p.TrialId == c.TrialId && p.Search == c.Search ? p : null;
        return new TrainerStatus(_trainerId, _kind, _worker?.Facts ?? new DeviceFacts("?", "unknown", null), state == "idle" && _draining ? "drained" : state,
            _draining, trial?.Search, trial?.TrialId, progress?.Step ?? 0, progress?.Steps ?? 0, _itemsPerSecond, _trialsDone);
    }

    private void Training(WorkAssignment current)
    {
        Always("training");
        Receive<TrialProgress>(p =>
        {
            _latest = p;
            _controller.Tell(p);
        });
        Receive<Heartbeat>(_ => _controller.Tell(_latest ?? new TrialProgress(current.Search, current.TrialId, _trainerId, 0, 0, 0)));
        Receive<CancelTrial>(cancel => cancel.Search == current.Search && cancel.TrialId == current.TrialId, cancel =>
        {
            TrialLog(cancel.Search, cancel.TrialId).Info("{0}: cancelling trial {1} of {2}: {3}", _trainerId, cancel.TrialId, cancel.Search, cancel.Reason);
            _currentTrial?.Cancel();
        });
        Receive<WorkAssignment>(work => work.Search != current.Search || work.TrialId != current.TrialId, HandBack);
        Receive<NoWorkAvailable>(_ => { });
        Receive<Poll>(_ => { });
        Receive<TrialResultAck>(_ => { });
        Receive<CancelTrial>(_ => { });
        Receive<Trained>(trained =>
        {
            Timers.Cancel("heartbeat");
            _trialsDone++;
            var device = new KeyValuePair<string, object?>("device", _worker!.DeviceName);
            Telemetry.TrainerBusy.Add((DateTime.UtcNow - _trainingSince).TotalSeconds, device, KindTag);
            if (trained.Result.Metrics is { ImagesPerSecond: > 0 } metrics)
            {
                _itemsPerSecond = metrics.ImagesPerSecond;
                Telemetry.TrainerThroughput.Record(metrics.ImagesPerSecond, device);
            }
            TrialLog(trained.Result.Search, trained.Result.TrialId).Info("{0}: trial {1} finished: {2}", _trainerId, trained.Result.TrialId,
                trained.Result.FailureReason is null ? $"reward {trained.Result.Reward:0.0000}" : $"failed ({trained.Result.FailureReason}: {trained.Result.FailureMessage})");
            BecomeReporting(trained.Result);
        });
    }

    /// <summary>
    /// Gives the device up; the sibling, if it asked for it meanwhile, asks for its work at once instead of at its next
    /// poll (idle polls are seconds apart, trials may take a fraction of one). True when the sibling was waiting.
    /// </summary>
    private bool ReleaseDevice()
    {
        if (!_turn.Release(_kind)) return false;
        (_ownsWorker ? Context.Child(EvaluatorName) : Context.Parent).Tell(new Poll());
        return true;
    }

    /// <summary>
    /// An assignment that reached a busy trainer, or one whose device the sibling holds (an earlier request answered
    /// late, e.g. while the controller was slow), goes back to the queue at once, as a cancelled trial, instead of
    /// waiting out its lease.
    /// </summary>
    private void HandBack(WorkAssignment work)
    {
        TrialLog(work.Search, work.TrialId).Info("{0}: busy, handing trial {1} of {2} back", _trainerId, work.TrialId, work.Search);
        _controller.Tell(new TrialResult(work.Search, work.TrialId, _trainerId, 0, null, FailureReason.Cancelled, "the trainer was busy: handed back"));
    }

    /// <summary>The log with the search and trial as the properties Search and TrialId.</summary>
    private ILoggingAdapter TrialLog(string search, int trialId) => _log.With("Search", search).With("TrialId", trialId);

    private void BecomeReporting(TrialResult result)
    {
        _controller.Tell(result);
        Timers.StartPeriodicTimer("resend", new Resend(), _resendInterval);
        Become(() =>
        {
            Always("reporting");
            Receive<TrialProgress>(_ => { });
            Receive<Heartbeat>(_ => { });
            Receive<Resend>(_ => _controller.Tell(result));
            Receive<TrialResultAck>(ack => ack.Search == result.Search && ack.TrialId == result.TrialId, _ =>
            {
                Timers.Cancel("resend");
                Become(Idle);
                // the other kind of work asked for the device meanwhile: let it go first
                if (ReleaseDevice())
                {
                    _turn.Wait(_kind); // and the sibling, done, hands the device straight back
                    Timers.StartSingleTimer("poll", new Poll(), _idlePoll);
                }
                else Self.Tell(new Poll());
            });
            Receive<TrialResultAck>(_ => { });
            Receive<WorkAssignment>(work => work.Search != result.Search || work.TrialId != result.TrialId, HandBack);
            Receive<NoWorkAvailable>(_ => { });
            Receive<Poll>(_ => { });
            Receive<CancelTrial>(_ => { });
        });
    }
}

using Akka.Actor;
using Akka.Persistence;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// What a search and an evaluation job share as persistent actors under the registry: the watch on the trainers
/// holding their leases, the lease timer, a recovery that can skip snapshots, and telling the registry why they stop
/// when the journal fails them (it restarts them, or calls them broken).
/// </summary>
public abstract class JobActor : ReceivePersistentActor, IWithTimers
{
    protected const int IdleRetryMilliseconds = 2000;
    private static readonly TimeSpan LeaseCheckInterval = TimeSpan.FromSeconds(5);
    private readonly bool _skipSnapshots;

    /// <param name="skipSnapshots">Recover from the events alone: the last recovery failed, maybe on a bad snapshot.</param>
    protected JobActor(string persistenceId, bool skipSnapshots)
    {
        PersistenceId = persistenceId;
        _skipSnapshots = skipSnapshots;
        Leases = new LeaseClock(Context.System.Settings.Config.GetTimeSpan("autodropout.controller.heartbeat-timeout", TimeSpan.FromSeconds(30)));
    }

    /// <summary>The trainers' heartbeats (their progress reports) on this job's leases; in memory only.</summary>
    protected LeaseClock Leases { get; }

    /// <summary>A lease began or ended with this event: heartbeats heard before it say nothing about what follows.</summary>
    protected void LeaseChanged(ISearchEvent e)
    {
        if (e is TrialLeased or TrialRequeued or TrialCompleted or TrialFailed) Leases.Forget(SearchState.TrialIdOf(e));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Watches the trainers that hold this job's leases and reports the ones that are gone.</summary>
    protected IActorRef TrainerWatcher { get; } = Context.ActorOf(Props.Create(() => new TrainerWatch()), "trainers");

    public override Recovery Recovery => _skipSnapshots ? new Recovery(SnapshotSelectionCriteria.None) : base.Recovery;

    /// <summary>The registry restarts it (from the events alone) or, when its journal cannot be decoded, calls it broken.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Context.Parent.Tell(JobRecoveryFailed.From(reason));
        base.OnRecoveryFailure(reason, message);
    }

    /// <summary>The actor stops (its state may be ahead of its journal); the registry restarts it from the journal.</summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Context.Parent.Tell(new JobPersistFailed(cause.GetBaseException().Message));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>As a failed write: a search's state already holds the events the journal refused.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Parent.Tell(new JobPersistFailed(cause.GetBaseException().Message));
        Context.Stop(Self);
    }

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("leases", new CheckLeases(), LeaseCheckInterval);
        base.PreStart();
    }
}

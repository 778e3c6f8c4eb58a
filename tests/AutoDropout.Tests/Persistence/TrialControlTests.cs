using Akka.Actor;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Persistence;

/// <summary>Progress reports and the cancelling of running trials on pause and stop, against the real controller.</summary>
public sealed class TrialControlTests : SqliteTestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    public TrialControlTests() : base("control") { }

    private async Task<(IActorRef Manager, Akka.TestKit.TestProbe Trainer, string TrainerId, WorkAssignment Work)> StartAndLease(string name)
    {
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        var spec = new SearchSpec(name, Trials: 3, PolicyBatch: 2, Policy: new PolicyOptions(Layers: 1, Width: 16));
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StartSearch(spec), Wait));
        var trainer = CreateTestProbe();
        var trainerId = trainer.Ref.Path.ToString(); // real trainers use their actor path as their id
        trainer.Send(manager, new RequestWork(trainerId, "cpu"));
        return (manager, trainer, trainerId, await trainer.ExpectMsgAsync<WorkAssignment>(Wait));
    }

    private static async Task<TrialView> Trial(IActorRef manager, string name, int id) =>
        (await manager.Ask<SearchDetails>(new GetSearch(name), Wait)).Trials.Single(t => t.TrialId == id);

    [Fact]
    public async Task Progress_of_a_leased_trial_is_shown_and_pausing_cancels_it_and_requeues_it_without_using_an_attempt()
    {
        var (manager, trainer, trainerId, work) = await StartAndLease("paused");
        trainer.Send(manager, new TrialProgress("paused", work.TrialId, trainerId, 40, 80, 0.61));
        await AwaitAssertAsync(async () => Assert.Equal(40, (await Trial(manager, "paused", work.TrialId)).Progress?.Step), Wait);

        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new PauseSearch("paused"), Wait));
        var cancel = await trainer.ExpectMsgAsync<CancelTrial>(Wait);
        Assert.Equal((work.Search, work.TrialId), (cancel.Search, cancel.TrialId));

        trainer.Send(manager, new TrialResult("paused", work.TrialId, trainerId, 0, null, FailureReason.Cancelled, "cancelled at step 41"));
        await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
        var requeued = await Trial(manager, "paused", work.TrialId);
        Assert.Equal(TrialStatus.Proposed, requeued.Status);
        Assert.Null(requeued.Progress);

        // paused: no work; resumed: the same trial comes back first
        trainer.Send(manager, new RequestWork(trainerId, "cpu"));
        await trainer.ExpectMsgAsync<NoWorkAvailable>(Wait);
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new ResumeSearch("paused"), Wait));
        trainer.Send(manager, new RequestWork(trainerId, "cpu"));
        Assert.Equal(work.TrialId, (await trainer.ExpectMsgAsync<WorkAssignment>(Wait)).TrialId);
    }

    [Fact]
    public async Task A_result_claiming_another_trainers_id_is_acknowledged_and_ignored()
    {
        var (manager, trainer, trainerId, work) = await StartAndLease("forged");
        var forger = CreateTestProbe();
        forger.Send(manager, new TrialResult("forged", work.TrialId, trainerId, 0.99, null, null, null));
        await forger.ExpectMsgAsync<TrialResultAck>(Wait); // so it is not sent again and again
        Assert.Equal(TrialStatus.Leased, (await Trial(manager, "forged", work.TrialId)).Status);
        trainer.Send(manager, new TrialResult("forged", work.TrialId, trainerId, 0.6, null, null, null));
        await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
        Assert.Equal(0.6, (await Trial(manager, "forged", work.TrialId)).Reward);
    }

    [Fact]
    public async Task Stopping_cancels_running_trials()
    {
        var (manager, trainer, _, work) = await StartAndLease("stopped");
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StopSearch("stopped"), Wait));
        Assert.Equal(work.TrialId, (await trainer.ExpectMsgAsync<CancelTrial>(Wait)).TrialId);
    }
}

using Akka.Actor;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Tests.Persistence;

/// <summary>Why trials failed, and a search that paused itself, survive a restart of the controller on its journal.</summary>
public sealed class FailurePersistenceTests : SqliteTestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private const string Error = "Could not find a part of the path '/data/fmnist'.\n   at AutoDropout.Training.ImageDatasets.Load()";
    private const string OneLine = "Could not find a part of the path '/data/fmnist'. at AutoDropout.Training.ImageDatasets.Load()";

    public FailurePersistenceTests() : base("failures") { }

    private static async Task<WorkAssignment> Lease(IActorRef manager, Akka.TestKit.TestProbe trainer)
    {
        trainer.Send(manager, new RequestWork(trainer.Ref.Path.ToString(), "cpu"));
        return await trainer.ExpectMsgAsync<WorkAssignment>(Wait);
    }

    /// <summary>The trainer fails the trial once per attempt, as one whose data cannot be read does.</summary>
    private static async Task FailEveryAttempt(IActorRef manager, Akka.TestKit.TestProbe trainer)
    {
        var work = await Lease(manager, trainer);
        for (int attempt = 1; attempt <= SearchState.MaxAttempts; attempt++)
        {
            if (attempt > 1) Assert.Equal(work.TrialId, (await Lease(manager, trainer)).TrialId);
            trainer.Send(manager, new TrialResult(work.Search, work.TrialId, trainer.Ref.Path.ToString(), 0, null, FailureReason.Error, Error));
            await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
        }
    }

    [Fact]
    public async Task Failure_messages_and_a_pause_the_search_made_itself_survive_a_restart()
    {
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        var spec = new SearchSpec("failing", Trials: 6, PolicyBatch: 2, Policy: new PolicyOptions(Layers: 1, Width: 16));
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StartSearch(spec), Wait));
        var (a, b) = (CreateTestProbe(), CreateTestProbe());
        for (int i = 1; i < SearchState.AutoPauseAfter; i++) await FailEveryAttempt(manager, a);
        var running = await Lease(manager, b); // held by another trainer when the search pauses itself
        await FailEveryAttempt(manager, a);

        // the pause frees the other trainer at once, as an operator's pause does
        Assert.Equal(running.TrialId, (await b.ExpectMsgAsync<CancelTrial>(Wait)).TrialId);
        var before = await manager.Ask<SearchDetails>(new GetSearch("failing"), Wait);
        Assert.Equal(SearchStatus.Paused, before.Summary.Status);
        Assert.Equal($"the first {SearchState.AutoPauseAfter} trials all failed (error): gave up after {SearchState.MaxAttempts} attempts; last: error: {OneLine}",
            before.Summary.PauseReason);
        var failed = before.Trials.Where(t => t.Status == TrialStatus.Failed).ToList();
        Assert.Equal(SearchState.AutoPauseAfter, failed.Count);
        Assert.All(failed, t => Assert.EndsWith(OneLine, t.FailureMessage, StringComparison.Ordinal));
        var listed = (await manager.Ask<SearchList>(new ListSearches(), Wait)).Searches.Single(s => s.Name == "failing");
        Assert.Equal(before.Summary.PauseReason, listed.PauseReason);
        a.Send(manager, new RequestWork(a.Ref.Path.ToString(), "cpu"));
        await a.ExpectMsgAsync<NoWorkAvailable>(Wait);

        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true);

        using var restarted = ActorSystem.Create("failures-2", NodeConfig.Local(ControllerNode.PersistenceConfig(PersistenceBackend.Sqlite, Database)));
        try
        {
            var manager2 = restarted.ActorOf(SearchManager.Props(), "search-manager");
            var after = await manager2.Ask<SearchDetails>(new GetSearch("failing"), Wait);
            Assert.Equal(before.Summary with { Running = after.Summary.Running }, after.Summary);
            Assert.Equal(before.Trials.Select(t => (t.TrialId, t.FailureReason, t.FailureMessage)),
                after.Trials.Select(t => (t.TrialId, t.FailureReason, t.FailureMessage)));

            // resumed once the data is fixed: the reason goes, and the journal says so too
            Assert.IsType<CommandAccepted>(await manager2.Ask<object>(new ResumeSearch("failing"), Wait));
            var resumed = await manager2.Ask<SearchDetails>(new GetSearch("failing"), Wait);
            Assert.Equal(SearchStatus.Running, resumed.Summary.Status);
            Assert.Null(resumed.Summary.PauseReason);
        }
        finally
        {
            await restarted.Terminate();
        }
    }
}

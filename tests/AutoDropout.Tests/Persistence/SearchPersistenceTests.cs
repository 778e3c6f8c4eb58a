using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Tests.Support;

namespace AutoDropout.Tests.Persistence;

/// <summary>The controller's state survives an ActorSystem restart on a real journal (SQLite, and PostgreSQL when one is given).</summary>
public abstract class SearchPersistenceSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly Config _persistence;

    protected SearchPersistenceSpecs(Config persistence) : base(Compose(persistence), "persistence-1") => _persistence = persistence;

    private static Config Compose(Config persistence) =>
        NodeConfig.Local(ConfigurationFactory.ParseString("autodropout.controller.snapshot-every-updates = 2"), persistence);

    private Config SystemConfig() => Compose(_persistence);

    /// <summary>Skips the test when this back-end is not available here.</summary>
    protected virtual void RequireBackend() { }

    protected abstract long CountSnapshots(string persistenceId);

    /// <summary>Asks for work as a real trainer does: from one long-lived actor (an Ask's temporary actor dies at once,
    /// and the controller rightly requeues what a dead trainer held).</summary>
    private static async Task<WorkAssignment> Lease(IActorRef manager, Akka.TestKit.TestProbe trainer, string trainerId)
    {
        trainer.Send(manager, new RequestWork(trainerId, "cpu"));
        return await trainer.ExpectMsgAsync<WorkAssignment>(TimeSpan.FromSeconds(20));
    }

    private static async Task Report(IActorRef manager, Akka.TestKit.TestProbe trainer, TrialResult result)
    {
        trainer.Send(manager, result);
        await trainer.ExpectMsgAsync<TrialResultAck>(TimeSpan.FromSeconds(20));
    }

    /// <summary>A result as a real trainer sends it: from the actor whose path is its id.</summary>
    private static TrialResult Result(WorkAssignment work, double reward, Akka.TestKit.TestProbe trainer) =>
        new(work.Search, work.TrialId, trainer.Ref.Path.ToString(), reward, new TrialMetricsReport(reward, 0.4, 100, 1, work.Trial.Budget.Steps), null, null);

    [SkippableFact]
    public async Task A_search_recovers_its_trials_and_policy_after_a_restart()
    {
        RequireBackend();
        var spec = new SearchSpec("persisted", Trials: 5, PolicyBatch: 2, Seed: 9, Policy: new PolicyOptions(Layers: 1, Width: 16));
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StartSearch(spec), TimeSpan.FromSeconds(20)));
        Assert.IsType<CommandRejected>(await manager.Ask<object>(new StartSearch(spec), TimeSpan.FromSeconds(20)));

        var trainerA = CreateTestProbe();
        for (int i = 0; i < 3; i++)
        {
            var work = await Lease(manager, trainerA, trainerA.Ref.Path.ToString());
            Assert.Equal(i + 1, work.TrialId);
            await Report(manager, trainerA, Result(work, 0.5 + 0.1 * i, trainerA));
        }
        // a resend of an already recorded result is acknowledged and changes nothing
        var before = await manager.Ask<SearchDetails>(new GetSearch("persisted"), TimeSpan.FromSeconds(20));
        await Report(manager, trainerA, new TrialResult("persisted", 1, trainerA.Ref.Path.ToString(), 0.99, null, null, null));
        var leased = await Lease(manager, CreateTestProbe(), "trainer-b"); // trial 4, leased
        // the first update learned, and trial 5 proposed ahead of the next request
        before = await SearchWait.Until(manager, "persisted", d => d.Summary.PolicyVersion == 1 && d.Trials.Count == 5);
        Assert.Equal(TrialStatus.Proposed, before.Trials[4].Status);
        Assert.Equal(1, before.Summary.PolicyVersion);
        Assert.Equal(0.5, before.Trials[0].Reward);

        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true); // busy test machines can take a while

        using var restarted = ActorSystem.Create("persistence-2", SystemConfig());
        try
        {
            var manager2 = restarted.ActorOf(SearchManager.Props(), "search-manager");
            var after = await manager2.Ask<SearchDetails>(new GetSearch("persisted"), TimeSpan.FromSeconds(20));
            Assert.Equal(before.PolicyHash, after.PolicyHash);
            Assert.Equal(before.Baseline, after.Baseline);
            Assert.Equal(before.Summary, after.Summary);
            Assert.Equal(before.Trials.Select(t => (t.TrialId, t.Status, t.Reward, t.PatternHash, t.Trainer)),
                after.Trials.Select(t => (t.TrialId, t.Status, t.Reward, t.PatternHash, t.Trainer)));

            // trial 4's holder ("trainer-b" is no actor path) cannot be found after the restart, so the trial goes
            // back to the queue and is handed out again
            await AwaitAssertAsync(async () =>
            {
                var now = await manager2.Ask<SearchDetails>(new GetSearch("persisted"), TimeSpan.FromSeconds(20));
                Assert.Equal(TrialStatus.Proposed, now.Trials.Single(t => t.TrialId == 4).Status);
            }, TimeSpan.FromSeconds(10));
            var trainerC = CreateTestProbe(restarted);
            var again = await Lease(manager2, trainerC, trainerC.Ref.Path.ToString());
            Assert.Equal((4, leased.Trial.Regulariser), (again.TrialId, again.Trial.Regulariser));
            await Report(manager2, trainerC, Result(again, 0.7, trainerC));
            var updated = await SearchWait.Until(manager2, "persisted", d => d.Summary.PolicyVersion == 2);
            Assert.Equal(2, updated.Summary.PolicyVersion); // trials 3 and 4 made the second batch
            Assert.Equal(5, (await manager2.Ask<WorkAssignment>(new RequestWork("trainer-a", "cpu"), TimeSpan.FromSeconds(20))).TrialId);
        }
        finally
        {
            await restarted.Terminate();
        }
    }

    [SkippableFact]
    public async Task Recovery_from_a_snapshot_equals_a_replay_of_the_journal_alone()
    {
        RequireBackend();
        var spec = new SearchSpec("snapshotted", Trials: 9, PolicyBatch: 2, Seed: 3, Policy: new PolicyOptions(Layers: 1, Width: 16));
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        await manager.Ask<CommandAccepted>(new StartSearch(spec), TimeSpan.FromSeconds(20));
        var trainer = CreateTestProbe();
        for (int i = 0; i < 7; i++) // 3 updates (each awaited, so each learns one batch): a snapshot at version 2, then events after it
        {
            await Report(manager, trainer, Result(await Lease(manager, trainer, trainer.Ref.Path.ToString()), (i * 37 % 10) / 10.0, trainer));
            await SearchWait.Until(manager, "snapshotted", d => d.Summary.PolicyVersion == (i + 1) / 2);
        }
        var live = await SearchWait.Until(manager, "snapshotted", d => d.Trials.Count == 8); // trial 8 proposed ahead
        Assert.Equal(3, live.Summary.PolicyVersion);
        // snapshots are written asynchronously: wait for the one of version 2, so recovery starts from it
        await AwaitConditionAsync(() => Task.FromResult(CountSnapshots("search-snapshotted") == 1), TimeSpan.FromSeconds(15));
        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true); // busy test machines can take a while

        using var restarted = ActorSystem.Create("persistence-3", SystemConfig());
        try
        {
            var recovered = await restarted.ActorOf(SearchManager.Props(), "search-manager")
                .Ask<SearchDetails>(new GetSearch("snapshotted"), TimeSpan.FromSeconds(20));
            var replayed = await restarted.ActorOf(SearchReplayer.Props("snapshotted"), "rebuild")
                .Ask<SearchDetails>(new GetSearch("snapshotted"), TimeSpan.FromSeconds(20));
            Assert.Equal(live.PolicyHash, recovered.PolicyHash);
            Assert.Equal(live.PolicyHash, replayed.PolicyHash);
            Assert.Equal(live.Trials, recovered.Trials);
            Assert.Equal(live.Trials, replayed.Trials);
        }
        finally
        {
            await restarted.Terminate();
        }
        Assert.Equal(1L, CountSnapshots("search-snapshotted")); // saved at version 2; older ones are deleted
    }

    [SkippableFact]
    public async Task An_extension_reopens_a_completed_search_and_survives_a_restart()
    {
        RequireBackend();
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        await manager.Ask<CommandAccepted>(new StartSearch(new SearchSpec("extended", Trials: 2, PolicyBatch: 2)), TimeSpan.FromSeconds(20));
        var trainer = CreateTestProbe();
        for (int i = 0; i < 2; i++) await Report(manager, trainer, Result(await Lease(manager, trainer, trainer.Ref.Path.ToString()), 0.5, trainer));
        Assert.Equal(SearchStatus.Completed, (await SearchWait.Until(manager, "extended", d => d.Summary.Status == SearchStatus.Completed)).Summary.Status);

        Assert.IsType<CommandRejected>(await manager.Ask<object>(new ExtendSearch("extended", 0), TimeSpan.FromSeconds(20)));
        await manager.Ask<CommandAccepted>(new ExtendSearch("extended", 1), TimeSpan.FromSeconds(20));
        Assert.Equal(3, (await Lease(manager, trainer, "trainer-a")).TrialId);
        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true); // busy test machines can take a while

        using var restarted = ActorSystem.Create("persistence-4", SystemConfig());
        try
        {
            var summary = (await restarted.ActorOf(SearchManager.Props(), "search-manager")
                .Ask<SearchDetails>(new GetSearch("extended"), TimeSpan.FromSeconds(20))).Summary;
            Assert.Equal((3, SearchStatus.Running), (summary.Trials, summary.Status));
        }
        finally
        {
            await restarted.Terminate();
        }
    }

    [SkippableFact]
    public async Task A_deleted_search_stays_deleted_after_a_restart_and_its_name_starts_clean()
    {
        RequireBackend();
        var timeout = TimeSpan.FromSeconds(20);
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        var spec = new SearchSpec("doomed", Trials: 4, PolicyBatch: 1, Seed: 3, Policy: new PolicyOptions(Layers: 1, Width: 16));
        await manager.Ask<CommandAccepted>(new StartSearch(spec), timeout);
        var trainer = CreateTestProbe();
        for (int i = 0; i < 2; i++) await Report(manager, trainer, Result(await Lease(manager, trainer, trainer.Ref.Path.ToString()), 0.5, trainer));
        await AwaitConditionAsync(() => Task.FromResult(CountSnapshots("search-doomed") == 1), timeout); // at policy version 2
        await manager.Ask<CommandAccepted>(new StartSearch(new SearchSpec("kept", Trials: 1)), timeout);

        var running = await manager.Ask<CommandRejected>(new DeleteSearch("doomed"), timeout);
        Assert.Contains("stop it first", running.Reason);
        Assert.Contains("no such search", (await manager.Ask<CommandRejected>(new DeleteSearch("never"), timeout)).Reason);
        await manager.Ask<CommandAccepted>(new StopSearch("doomed"), timeout);
        Assert.Equal("search 'doomed' deleted", (await manager.Ask<CommandAccepted>(new DeleteSearch("doomed"), timeout)).Message);
        Assert.Equal(["kept"], (await manager.Ask<SearchList>(new ListSearches(), timeout)).Searches.Select(s => s.Name));
        Assert.Contains("no such search", (await manager.Ask<CommandRejected>(new GetSearch("doomed"), timeout)).Reason);
        Assert.Equal(0L, CountSnapshots("search-doomed"));
        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true);

        using var restarted = ActorSystem.Create("persistence-5", SystemConfig());
        try
        {
            var manager2 = restarted.ActorOf(SearchManager.Props(), "search-manager");
            Assert.Equal(["kept"], (await manager2.Ask<SearchList>(new ListSearches(), timeout)).Searches.Select(s => s.Name));
            Assert.Contains("no such search", (await manager2.Ask<CommandRejected>(new GetSearch("doomed"), timeout)).Reason);
            // the name is free, and the new search has nothing of the old one
            await manager2.Ask<CommandAccepted>(new StartSearch(spec with { Trials = 7 }), timeout);
            var fresh = await manager2.Ask<SearchDetails>(new GetSearch("doomed"), timeout);
            Assert.Equal((7, 0, SearchStatus.Running), (fresh.Summary.Trials, fresh.Trials.Count, fresh.Summary.Status));
        }
        finally
        {
            await restarted.Terminate();
        }

        // registered, deleted and registered again in one registry journal: the last search is the one that recovers
        using var third = ActorSystem.Create("persistence-6", SystemConfig());
        try
        {
            var manager3 = third.ActorOf(SearchManager.Props(), "search-manager");
            var again = await manager3.Ask<SearchDetails>(new GetSearch("doomed"), timeout);
            Assert.Equal((7, 0), (again.Summary.Trials, again.Trials.Count));
            Assert.Equal(["doomed", "kept"], (await manager3.Ask<SearchList>(new ListSearches(), timeout)).Searches.Select(s => s.Name).Order());
        }
        finally
        {
            await third.Terminate();
        }
    }

    [SkippableFact]
    public async Task A_bad_spec_is_rejected_naming_the_field_before_anything_is_persisted()
    {
        RequireBackend();
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        var rejected = await manager.Ask<CommandRejected>(new StartSearch(new SearchSpec("bad", Trials: 0)), TimeSpan.FromSeconds(20));
        Assert.StartsWith("trials:", rejected.Reason);
        var list = await manager.Ask<SearchList>(new ListSearches(), TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(list.Searches, s => s.Name == "bad");
    }

}

public sealed class SqlitePersistenceTests : SearchPersistenceSpecs
{
    private readonly string _database;

    public SqlitePersistenceTests() : this(Path.Combine(Path.GetTempPath(), $"autodropout-persistence-{Guid.NewGuid():N}.db")) { }

    private SqlitePersistenceTests(string database) : base(ControllerNode.PersistenceConfig(PersistenceBackend.Sqlite, database)) =>
        _database = database;

    protected override long CountSnapshots(string persistenceId)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_database}");
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM snapshot WHERE persistence_id = $id";
        count.Parameters.AddWithValue("$id", persistenceId);
        return (long)count.ExecuteScalar()!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            try { File.Delete(_database + suffix); } catch (IOException) { }
    }
}

/// <summary>
/// Runs when AUTODROPOUT_TEST_POSTGRES holds a connection string (CI starts a server and sets it). The database it
/// names is wiped before each test: give it one of its own.
/// </summary>
public sealed class PostgresPersistenceTests : SearchPersistenceSpecs
{
    private static readonly string? ConnectionString = Environment.GetEnvironmentVariable("AUTODROPOUT_TEST_POSTGRES");

    public PostgresPersistenceTests() : base(ControllerNode.PersistenceConfig(PersistenceBackend.Postgres,
        ConnectionString ?? "Host=127.0.0.1;Database=none"))
    {
        if (ConnectionString is null) return;
        using var db = new Npgsql.NpgsqlConnection(ConnectionString);
        db.Open();
        using var wipe = db.CreateCommand();
        wipe.CommandText = "DROP SCHEMA public CASCADE; CREATE SCHEMA public;";
        wipe.ExecuteNonQuery();
    }

    protected override void RequireBackend() =>
        Skip.If(ConnectionString is null, "set AUTODROPOUT_TEST_POSTGRES to a PostgreSQL connection string to run this");

    protected override long CountSnapshots(string persistenceId)
    {
        using var db = new Npgsql.NpgsqlConnection(ConnectionString);
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM snapshot WHERE persistence_id = @id";
        count.Parameters.AddWithValue("id", persistenceId);
        return (long)count.ExecuteScalar()!;
    }
}

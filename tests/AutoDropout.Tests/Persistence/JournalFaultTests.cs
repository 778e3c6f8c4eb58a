using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Tests.Support;
using Microsoft.Data.Sqlite;

namespace AutoDropout.Tests.Persistence;

/// <summary>A journal write that fails stops one search for a moment, not the controller.</summary>
public sealed class JournalWriteFaultTests() : Akka.TestKit.Xunit2.TestKit(NodeConfig.Local(ConfigurationFactory.ParseString(FlakyJournal.Config + """

    autodropout.controller.restart-min-backoff = 2s
    autodropout.controller.restart-max-backoff = 2s
    """)), "journal-faults")
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_search_whose_write_fails_restarts_from_its_journal_while_the_others_run_on()
    {
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        foreach (var name in new[] { "a", "b" })
            await manager.Ask<CommandAccepted>(new StartSearch(new SearchSpec(name, Trials: 4, PolicyBatch: 2)), Wait);

        await FlakyJournal.Fail(Sys, 1);
        manager.Tell(new PauseSearch("a"), CreateTestProbe().Ref); // its write fails: search a stops

        // while it is down: commands are told to try again, the list still answers, a trainer's result waits for a resend
        await AwaitAssertAsync(async () =>
        {
            // a short ask: one that reaches the actor as it stops goes unanswered
            var rejected = Assert.IsType<CommandRejected>(await manager.Ask<object>(new GetSearch("a"), TimeSpan.FromMilliseconds(300)));
            Assert.Contains("restarting", rejected.Reason);
        }, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(50));
        var list = await manager.Ask<SearchList>(new ListSearches(), Wait);
        Assert.Equal([("a", SearchStatus.Unavailable), ("b", SearchStatus.Running)], list.Searches.Select(s => (s.Name, s.Status)));
        Assert.Contains("journal write failed", list.Searches[0].Problem);
        var trainer = CreateTestProbe();
        trainer.Send(manager, new TrialResult("a", 1, trainer.Ref.Path.ToString(), 0.5, null, null, null));
        await trainer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        trainer.Send(manager, new RequestWork(trainer.Ref.Path.ToString(), "cpu"));
        Assert.Equal("b", (await trainer.ExpectMsgAsync<WorkAssignment>(Wait)).Search);

        // back from its journal: the pause was never written, so it runs
        await AwaitAssertAsync(async () =>
        {
            var details = Assert.IsType<SearchDetails>(await manager.Ask<object>(new GetSearch("a"), TimeSpan.FromSeconds(1)));
            Assert.Equal(SearchStatus.Running, details.Summary.Status);
        }, Wait, TimeSpan.FromMilliseconds(200));
        await manager.Ask<CommandAccepted>(new PauseSearch("a"), Wait);
    }

    [Fact]
    public async Task The_registry_is_started_again_when_its_write_fails()
    {
        var manager = Sys.ActorOf(SearchManager.Supervised(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)), "search-manager");
        await manager.Ask<CommandAccepted>(new StartSearch(new SearchSpec("first", Trials: 2)), Wait);
        await FlakyJournal.Fail(Sys, 1);
        manager.Tell(new StartSearch(new SearchSpec("second", Trials: 2)), CreateTestProbe().Ref); // the registry's write fails

        await AwaitAssertAsync(async () =>
            Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StartSearch(new SearchSpec("second", Trials: 2)), TimeSpan.FromSeconds(3))),
            Wait, TimeSpan.FromMilliseconds(200));
        var list = await manager.Ask<SearchList>(new ListSearches(), Wait);
        Assert.Equal(["first", "second"], list.Searches.Select(s => s.Name));
    }
}

/// <summary>What a search does with a journal it cannot fully read back.</summary>
public sealed class JournalRecoveryFaultTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly string _database;

    public JournalRecoveryFaultTests() : this(Path.Combine(Path.GetTempPath(), $"autodropout-faults-{Guid.NewGuid():N}.db")) { }

    private JournalRecoveryFaultTests(string database) : base(Compose(database), "recovery-faults-1") => _database = database;

    private static Config Compose(string database) => NodeConfig.Local(
        ConfigurationFactory.ParseString("autodropout.controller.snapshot-every-updates = 2\nautodropout.controller.restart-min-backoff = 200ms"),
        ControllerNode.PersistenceConfig(PersistenceBackend.Sqlite, database));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            try { File.Delete(_database + suffix); } catch (IOException) { }
    }

    /// <param name="learnEach">Wait for each update before the next trial, so every update learns one policy batch
    /// (on a busy machine, results that arrive while one is learned join the next).</param>
    private async Task RunTrials(IActorRef manager, string search, int count, bool learnEach = false)
    {
        var trainer = CreateTestProbe();
        for (int i = 0; i < count; i++)
        {
            trainer.Send(manager, new RequestWork(trainer.Ref.Path.ToString(), "cpu"));
            var work = await trainer.ExpectMsgAsync<WorkAssignment>(Wait);
            Assert.Equal(search, work.Search);
            trainer.Send(manager, new TrialResult(work.Search, work.TrialId, trainer.Ref.Path.ToString(), (i * 37 % 10) / 10.0,
                new TrialMetricsReport(0.5, 0.4, 100, 1, work.Trial.Budget.Steps), null, null));
            await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
            if (learnEach) await SearchWait.Until(manager, search, d => d.Summary.PolicyVersion == (i + 1) / 2);
        }
    }

    private int Execute(string sql)
    {
        using var db = new SqliteConnection($"Data Source={_database};Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    private long Count(string sql)
    {
        using var db = new SqliteConnection($"Data Source={_database};Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task A_newest_snapshot_that_cannot_be_read_falls_back_to_the_events_and_the_one_before_is_kept()
    {
        var spec = new SearchSpec("snapped", Trials: 12, PolicyBatch: 2, Seed: 5, Policy: new PolicyOptions(Layers: 1, Width: 16));
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        await manager.Ask<CommandAccepted>(new StartSearch(spec), Wait);
        await RunTrials(manager, "snapped", 9, learnEach: true); // 4 updates: snapshots at versions 2 and 4
        var live = await SearchWait.Until(manager, "snapped", d => d.Summary.PolicyVersion == 4 && d.Trials.Count == 10); // trial 10 proposed ahead
        Assert.Equal(4, live.Summary.PolicyVersion);
        await AwaitConditionAsync(() => Task.FromResult(Count("SELECT COUNT(*) FROM snapshot") == 2), TimeSpan.FromSeconds(15));
        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true);

        Assert.Equal(1, Execute("UPDATE snapshot SET snapshot = X'7B7B' WHERE sequence_number = (SELECT MAX(sequence_number) FROM snapshot)"));
        var snapshot = Assert.Single(Assert.Single(JournalDoctor.Examine(PersistenceBackend.Sqlite, _database), d => !d.Healthy).Unreadable);
        Assert.Equal("snapshot", snapshot.Table);

        using var restarted = ActorSystem.Create("recovery-faults-2", Compose(_database));
        try
        {
            var manager2 = restarted.ActorOf(SearchManager.Props(), "search-manager");
            await AwaitAssertAsync(async () =>
            {
                var recovered = Assert.IsType<SearchDetails>(await manager2.Ask<object>(new GetSearch("snapped"), TimeSpan.FromSeconds(2)));
                Assert.Equal(live.PolicyHash, recovered.PolicyHash);
                Assert.Equal(live.Trials, recovered.Trials);
            }, Wait, TimeSpan.FromMilliseconds(200));
        }
        finally
        {
            await restarted.Terminate();
        }
    }

    [Fact]
    public async Task An_event_of_an_unknown_manifest_marks_its_search_broken_and_the_others_run_on()
    {
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        await manager.Ask<CommandAccepted>(new StartSearch(new SearchSpec("bad", Trials: 3, PolicyBatch: 2)), Wait);
        await manager.Ask<CommandAccepted>(new StartSearch(new SearchSpec("good", Trials: 3, PolicyBatch: 2)), Wait);
        Shutdown(Sys, TimeSpan.FromSeconds(30), verifySystemShutdown: true);

        // a copy of its last event under a manifest no version of AutoDropout writes
        var columns = new List<string>();
        using (var db = new SqliteConnection($"Data Source={_database};Pooling=False"))
        {
            db.Open();
            using var info = db.CreateCommand();
            info.CommandText = "SELECT name FROM pragma_table_info('journal') WHERE name <> 'ordering'";
            using var reader = info.ExecuteReader();
            while (reader.Read()) columns.Add(reader.GetString(0));
        }
        var copied = string.Join(", ", columns.Select(c => c switch { "sequence_number" => "sequence_number + 1", "manifest" => "'trial-frobbed-v9'", _ => c }));
        Assert.Equal(1, Execute($"INSERT INTO journal ({string.Join(", ", columns)}) SELECT {copied} FROM journal " +
            "WHERE persistence_id = 'search-bad' ORDER BY sequence_number DESC LIMIT 1"));

        var doctor = JournalDoctor.Examine(PersistenceBackend.Sqlite, _database);
        Assert.Equal(["search-bad", "search-good", "search-registry"], doctor.Select(d => d.PersistenceId));
        var unreadable = Assert.Single(doctor[0].Unreadable);
        Assert.Equal(("journal", "trial-frobbed-v9"), (unreadable.Table, unreadable.Manifest));
        Assert.True(doctor[1].Healthy && doctor[2].Healthy);

        using var restarted = ActorSystem.Create("recovery-faults-3", Compose(_database));
        try
        {
            var manager2 = restarted.ActorOf(SearchManager.Props(), "search-manager");
            await AwaitAssertAsync(async () =>
            {
                var list = await manager2.Ask<SearchList>(new ListSearches(), Wait);
                Assert.Equal([("bad", SearchStatus.Broken), ("good", SearchStatus.Running)], list.Searches.Select(s => (s.Name, s.Status)));
                Assert.Contains("trial-frobbed-v9", list.Searches[0].Problem);
            }, Wait, TimeSpan.FromMilliseconds(200));
            var shown = await manager2.Ask<CommandRejected>(new GetSearch("bad"), Wait);
            Assert.Contains("broken", shown.Reason);
            Assert.Contains("trial-frobbed-v9", shown.Reason);

            // a trainer's result for it is acknowledged, so the trainer moves on; work comes from the good search
            var trainer = CreateTestProbe(restarted);
            trainer.Send(manager2, new TrialResult("bad", 1, trainer.Ref.Path.ToString(), 0.5, null, null, null));
            await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
            trainer.Send(manager2, new RequestWork(trainer.Ref.Path.ToString(), "cpu"));
            Assert.Equal("good", (await trainer.ExpectMsgAsync<WorkAssignment>(Wait)).Search);

            // it cannot be read, so it cannot be stopped first: a broken search is deleted as it is, and its name is free
            await manager2.Ask<CommandAccepted>(new DeleteSearch("bad"), Wait);
            Assert.Equal(["good"], (await manager2.Ask<SearchList>(new ListSearches(), Wait)).Searches.Select(s => s.Name));
            Assert.Equal(0, Count("SELECT COUNT(*) FROM journal WHERE persistence_id = 'search-bad' AND NOT deleted"));
            await manager2.Ask<CommandAccepted>(new StartSearch(new SearchSpec("bad", Trials: 3, PolicyBatch: 2)), Wait);
            Assert.Equal(SearchStatus.Running, (await manager2.Ask<SearchDetails>(new GetSearch("bad"), Wait)).Summary.Status);
        }
        finally
        {
            await restarted.Terminate();
        }
    }
}

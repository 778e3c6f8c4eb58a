using AutoDropout.Cli;
using AutoDropout.Messages;
using Npgsql;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// Two controller nodes on one PostgreSQL journal: SIGKILL the one holding the singleton mid-search, and the other
/// takes over, recovers from the journal and finishes the search, with no trial lost or completed twice. The
/// trainers are simulated (no torch), so the search is about trials moving, not training. Runs on a database of its
/// own, made for the test and dropped after it.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class ControllerFailoverTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private static readonly string? Server = Environment.GetEnvironmentVariable("AUTODROPOUT_TEST_POSTGRES");
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-failover-").FullName;
    private readonly string _database = $"autodropout_failover_{Guid.NewGuid():N}"[..32];

    [SkippableFact]
    public async Task The_second_controller_takes_over_on_PostgreSQL_and_no_trial_is_lost_or_counted_twice()
    {
        Skip.If(Server is null, "set AUTODROPOUT_TEST_POSTGRES to a PostgreSQL connection string to run this");
        try { Execute(Server!, $"CREATE DATABASE {_database}"); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            Skip.If(true, "the test's PostgreSQL role may not create databases (ALTER ROLE ... CREATEDB)");
        }
        var journal = new NpgsqlConnectionStringBuilder(Server) { Database = _database }.ConnectionString;

        using var cluster = await LocalCluster.Start(_work, trainers: 2, Ready, ["--persistence", "postgres", "--db", journal],
            ["--cmd-port", "-1", "--simulate", "4", "--trial-time", "1s-2s"]);
        using var second = cluster.StartOtherController("controller-b");
        int secondCommands = await second.WaitReady(Ready);
        using (var first = new ControlClient(cluster.Endpoint, cluster.Token))
            await first.Post("v1/searches", ControlClient.SpecJson(new SearchSpec("failover", Trials: 48, PolicyBatch: 4, TrainSteps: 10)),
                MessageJsonContext.Default.CommandAccepted);

        using var client = new ControlClient($"127.0.0.1:{secondCommands}", cluster.Token);
        var before = await WaitFor(client, d => d.Summary.Completed >= 8, TimeSpan.FromMinutes(2));
        output.WriteLine($"SIGKILL to the controller holding the singleton: {before.Summary.Completed} trials completed, {before.Summary.Running} running");
        cluster.Controller!.Crash();

        var after = await WaitFor(client, d => d.Summary.Status == SearchStatus.Completed, TimeSpan.FromMinutes(4));
        output.WriteLine($"completed on the second controller: {after.Summary.Completed} trials, policy v{after.Summary.PolicyVersion}");
        Assert.Equal(Enumerable.Range(1, 48), after.Trials.Select(t => t.TrialId));
        Assert.All(after.Trials, t => Assert.Equal(TrialStatus.Completed, t.Status));
        foreach (var t in before.Trials.Where(t => t.Status == TrialStatus.Completed)) // nothing recorded before the crash changed
        {
            var now = after.Trials.Single(a => a.TrialId == t.TrialId);
            Assert.Equal((t.Reward, t.PatternHash), (now.Reward, now.PatternHash));
        }
        Assert.All(after.Trials, t => Assert.NotNull(t.Staleness)); // every result learned from (updates of 4 or more)
        Assert.InRange(after.Summary.PolicyVersion, 1, 12);
        // exactly one completion event per trial in the journal
        Assert.Equal(48L, Count(journal, "SELECT COUNT(*) FROM journal WHERE persistence_id = 'search-failover' AND manifest = 'trial-completed-v1'"));
        cluster.Stop();
        second.Stop(TimeSpan.FromSeconds(15));
    }

    private static async Task<SearchDetails> WaitFor(ControlClient client, Func<SearchDetails, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var details = await client.Get("v1/searches/failover", MessageJsonContext.Default.SearchDetails);
                if (done(details)) return details;
            }
            catch (ControlException) when (DateTime.UtcNow < deadline) { /* the singleton is moving */ }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the search did not get there in {timeout}");
            await Task.Delay(500);
        }
    }

    private static void Execute(string connection, string sql)
    {
        using var db = new NpgsqlConnection(connection);
        db.Open();
        using var command = new NpgsqlCommand(sql, db);
        command.ExecuteNonQuery();
    }

    private static long Count(string connection, string sql)
    {
        using var db = new NpgsqlConnection(connection);
        db.Open();
        using var command = new NpgsqlCommand(sql, db);
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        if (Server is not null)
        {
            NpgsqlConnection.ClearAllPools();
            try { Execute(Server, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)"); }
            catch (PostgresException) { /* never created */ }
        }
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.DistributedData;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Messages;
using AutoDropout.Search;
using Xunit;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Tests.Persistence;

/// <summary>
/// A controller compares its journal's id with the one the cluster's replicated register holds before serving:
/// one-node clusters in this process, each on its own SQLite file.
/// </summary>
public sealed class JournalIdentityTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<string> _files = new();
    private readonly List<ActorSystem> _systems = new();

    [Theory]
    [InlineData("a", null, false, JournalVerdict.Claim)]
    [InlineData("a", "a", false, JournalVerdict.Serve)]
    [InlineData("a", "b", false, JournalVerdict.Refuse)]
    [InlineData("a", "b", true, JournalVerdict.Claim)]
    [InlineData("a", "a", true, JournalVerdict.Serve)]
    public void The_verdict(string own, string? clusters, bool adopt, JournalVerdict expected) =>
        Assert.Equal(expected, JournalIdentity.Decide(own, clusters, adopt));

    [Fact]
    public async Task A_fresh_cluster_takes_the_controllers_journal_and_keeps_it_across_restarts()
    {
        var database = NewDatabase();
        var first = await StartNode(database);
        var manager = first.ActorOf(SearchManager.Props(), "search-manager");
        Assert.IsType<SearchList>(await manager.Ask<object>(new ListSearches(), Patience));
        var claimed = await RegisterValue(first);
        Assert.Matches("^[0-9a-f]{32}$", claimed);
        await first.Terminate();

        // the same journal again, in a cluster that still remembers it: served
        var restarted = await StartNode(database, register: claimed);
        var again = restarted.ActorOf(SearchManager.Props(), "search-manager");
        Assert.IsType<SearchList>(await again.Ask<object>(new ListSearches(), Patience));
        Assert.Equal(claimed, await RegisterValue(restarted));
    }

    [Fact]
    public async Task A_controller_on_another_journal_refuses_every_command_names_both_journals_and_leaves()
    {
        var system = await StartNode(NewDatabase(), register: "0123456789abcdef0123456789abcdef");
        var manager = system.ActorOf(SearchManager.Props(), "search-manager");

        var list = await manager.Ask<object>(new ListSearches(), Patience);
        var rejected = Assert.IsType<CommandRejected>(list);
        Assert.Contains("is not the one the cluster has been using (0123456789abcdef0123456789abcdef", rejected.Reason);
        Assert.Contains("--adopt-journal", rejected.Reason);
        Assert.IsType<NoWorkAvailable>(await manager.Ask<object>(new RequestWork("t1", "cpu"), Patience));
        // the node leaves so that the singleton can move to a controller on the right journal
        await system.WhenTerminated.WaitAsync(Patience);
    }

    [Fact]
    public async Task Adopt_journal_makes_this_journal_the_clusters()
    {
        var system = await StartNode(NewDatabase(), register: "0123456789abcdef0123456789abcdef", adopt: true);
        var manager = system.ActorOf(SearchManager.Props(), "search-manager");
        Assert.IsType<SearchList>(await manager.Ask<object>(new ListSearches(), Patience));
        Assert.NotEqual("0123456789abcdef0123456789abcdef", await RegisterValue(system));
    }

    private string NewDatabase()
    {
        var file = Path.Combine(Path.GetTempPath(), $"autodropout-test-{Guid.NewGuid():N}.db");
        _files.Add(file);
        return file;
    }

    /// <summary>A one-node cluster on the journal; with <paramref name="register"/>, the cluster already knows that journal id.</summary>
    private async Task<ActorSystem> StartNode(string database, string? register = null, bool adopt = false)
    {
        var config = ConfigurationFactory.ParseString($"""
            akka.actor.provider = cluster
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.seed-nodes = []
            akka.coordinated-shutdown.terminate-actor-system = on
            autodropout.controller.adopt-journal = {(adopt ? "on" : "off")}
            """)
            .WithFallback(ControllerNode.PersistenceConfig(PersistenceBackend.Sqlite, database))
            .WithFallback(NodeConfig.EmbeddedConfig("base.conf"));
        var system = ActorSystem.Create("journal-identity", config);
        _systems.Add(system);
        var cluster = ClusterExtension.Get(system);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(up.SetResult);
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(Patience);
        if (register is not null)
        {
            var self = cluster.SelfUniqueAddress;
            var written = await DistributedData.Get(system).Replicator.Ask<IUpdateResponse>(
                Dsl.Update(SearchManager.JournalKey, new LWWRegister<string>(self, register), WriteLocal.Instance, r => r.WithValue(self, register)), Patience);
            Assert.True(written.IsSuccessful);
        }
        return system;
    }

    private static async Task<string> RegisterValue(ActorSystem system)
    {
        for (var deadline = DateTime.UtcNow + Patience; ; await Task.Delay(100))
        {
            var got = await DistributedData.Get(system).Replicator.Ask<IGetResponse>(Dsl.Get(SearchManager.JournalKey, ReadLocal.Instance), Patience);
            if (got is GetSuccess success) return success.Get(SearchManager.JournalKey).Value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the controller never recorded its journal id");
        }
    }

    public void Dispose()
    {
        foreach (var system in _systems) system.Terminate().Wait(Patience);
        foreach (var file in _files)
            foreach (var suffix in new[] { "", "-wal", "-shm" })
                try { File.Delete(file + suffix); } catch (IOException) { }
    }
}

using AutoDropout.Cli;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// A second controller started on another database takes the singleton when the first one dies: it must refuse to
/// serve from its empty journal, and leave, so that the first one, started again, takes its searches back.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class JournalIdentityClusterTests : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-journal-identity-").FullName;

    [Fact]
    public async Task A_controller_on_another_database_refuses_the_singleton_and_the_cluster_keeps_its_searches()
    {
        using var cluster = await LocalCluster.Start(_work, trainers: 0, Ready);
        using (var client = new ControlClient(cluster.Endpoint, cluster.Token))
        {
            var spec = new SearchSpec("kept", Trials: 2, TrainSteps: 5, BatchSize: 32, PolicyBatch: 2, DataDirectory: "embedded");
            await client.Post("v1/searches", ControlClient.SpecJson(spec), MessageJsonContext.Default.CommandAccepted);
        }
        using var other = cluster.StartOtherController("controller-other", ["--db", Path.Combine(_work, "other.db")]);
        await other.WaitReady(Ready);

        cluster.Controller!.Crash();
        // the split-brain resolver downs the dead node (stable-after 10 s), the singleton moves, the check refuses
        var exitCode = await other.WaitForExit(TimeSpan.FromSeconds(90));
        var log = await File.ReadAllTextAsync(Path.Combine(_work, "controller-other.log"));
        Assert.True(exitCode is not null, $"the controller on another journal kept running; its log:\n{log}");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("is not the one the cluster has been using", log);

        await cluster.StartController(Ready);
        using var again = new ControlClient(cluster.Endpoint, cluster.Token);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(500))
        {
            try
            {
                var list = await again.Get("v1/searches", MessageJsonContext.Default.SearchList);
                Assert.Contains(list.Searches, s => s.Name == "kept");
                break;
            }
            catch (ControlException) when (DateTime.UtcNow < deadline) { /* the singleton is still moving */ }
        }
        cluster.Stop();
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

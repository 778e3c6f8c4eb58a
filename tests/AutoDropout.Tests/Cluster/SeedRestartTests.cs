using AutoDropout.Cli;
using AutoDropout.Cluster;

namespace AutoDropout.Tests.Cluster;

/// <summary>A seed killed and started again on its address joins the cluster that kept running, not a new one of its own.</summary>
[Collection(nameof(ProcessTests))]
public sealed class SeedRestartTests : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-seed-restart-").FullName;

    private static async Task<ClusterView> WaitForView(ControlClient client, Func<ClusterView, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
        while (!done(view) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
        }
        return view;
    }

    [Fact]
    public async Task A_restarted_seed_rejoins_the_running_cluster()
    {
        using var cluster = await LocalCluster.Start(_work, trainers: 1, Ready);
        using var controller = new ControlClient(cluster.Endpoint, cluster.Token);
        var before = await WaitForView(controller, v => v.Members.Count(m => m.Status == "Up") == 3, TimeSpan.FromSeconds(30));
        Assert.Equal(3, before.Members.Count(m => m.Status == "Up"));
        // the seed has written down the controller and the trainer
        var seedPort = int.Parse(before.Members.Single(m => m.Roles.Contains("seed")).Address.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); SeedMemory.ReadFile(Path.Combine(_work, $"seed-{seedPort}.members")).Count < 2 && DateTime.UtcNow < deadline;)
            await Task.Delay(250);

        cluster.Seed!.Crash();
        int seedCommands = await cluster.RestartSeed(Ready);

        using var seed = new ControlClient($"127.0.0.1:{seedCommands}", cluster.Token);
        var after = await WaitForView(seed, v => v.Members.Count(m => m.Status == "Up") >= 3, TimeSpan.FromSeconds(60));
        var roles = after.Members.Where(m => m.Status == "Up").SelectMany(m => m.Roles).Order().ToArray();
        Assert.Equal(["controller", "seed", "trainer"], roles);
        cluster.Stop();
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

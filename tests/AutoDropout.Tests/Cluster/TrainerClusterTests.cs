using System.Text.Json;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Messages;
using AutoDropout.Tests.Support;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// Two trainer processes of simulated trainers under a real search: `trainer list` shows what each does, a drained
/// node finishes its trials and takes no more, a SIGKILLed node's trials are requeued as soon as it is unreachable,
/// and the search still completes every trial exactly once.
/// </summary>
[Collection(nameof(ProcessTests))]
public class TrainerClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-trainers-").FullName;

    [Fact]
    public async Task Trainers_are_listed_drained_and_a_killed_nodes_trials_come_back_at_once()
    {
        using var cluster = await LocalCluster.Start(_work, trainers: 2, Ready,
            trainerArgs: ["--cmd-port", "-1", "--simulate", "2", "--trial-time", "3s"]);
        string[] endpoint = ["--endpoint", cluster.Endpoint, "--token", cluster.Token];
        using var client = new ControlClient(cluster.Endpoint, cluster.Token);
        await client.Post("v1/searches", ControlClient.SpecJson(new SearchSpec("fleet", Trials: 16, PolicyBatch: 4, LeaseSeconds: 600)),
            MessageJsonContext.Default.CommandAccepted);

        // every trainer busy: 4 trainers and 16 trials
        var list = await Until(async () => await List(endpoint), l => l.Nodes.Sum(n => n.Trainers.Count(t => t.State == "training")) == 4, "all four trainers training");
        Assert.Equal(2, list.Nodes.Count);
        Assert.All(list.Nodes.SelectMany(n => n.Trainers), t => Assert.Equal("simulated", t.Device.Name));
        var (plainCode, plain) = await CliProcess.Run(["trainer", "list", .. endpoint]);
        Assert.Equal(0, plainCode);
        Assert.Contains("Count: 4 trainers on 2 nodes, 4 training", plain);
        Assert.Contains("training  fleet #", plain);

        var (drained, killed) = (list.Nodes[0].Node, list.Nodes[1].Node);
        // the read token may look, never drain
        var (refusedCode, refused) = await CliProcess.Run(["trainer", "drain", drained, "--endpoint", cluster.Endpoint, "--token", cluster.ReadToken]);
        Assert.Equal((ExitCodes.Unauthorised, true), (refusedCode, refused.Contains("operator token")));
        var (unknownCode, unknown) = await CliProcess.Run(["trainer", "drain", "127.0.0.1:1", .. endpoint]);
        Assert.Equal((ExitCodes.NotFound, true), (unknownCode, unknown.Contains(drained)));
        var hostPort = drained[(drained.IndexOf('@') + 1)..];
        var (drainCode, drainSaid) = await CliProcess.Run(["trainer", "drain", hostPort, .. endpoint]);
        Assert.True(drainCode == 0, drainSaid);
        Assert.Contains("draining", drainSaid);

        // it finishes the trials it holds, then sits idle
        await Until(async () => await List(endpoint), l => l.Nodes.Single(n => n.Node == drained).Trainers.All(t => t.State == "drained"), "the drained node idle");
        var idle = await List(endpoint);
        Assert.All(idle.Nodes.Single(n => n.Node == drained).Trainers, t => Assert.Null(t.TrialId));
        var searchTrainers = idle.Nodes.Single(n => n.Node == drained).Trainers.Where(t => t.Kind == WorkKind.Search).ToList();
        Assert.All(searchTrainers, t => Assert.True(t.TrialsDone >= 1)); // it finished what it held
        var doneWhenDrained = searchTrainers.Sum(t => t.TrialsDone);

        // SIGKILL the other node while it trains: its trials go back to the queue when it turns unreachable
        await Until(async () => await List(endpoint), l => l.Nodes.Single(n => n.Node == killed).Trainers.Count(t => t.State == "training") == 2, "the other node training");
        var trainer = cluster.Trainers.Single(t => killed.EndsWith(":" + AkkaPort(t), StringComparison.Ordinal));
        var killedAt = DateTime.UtcNow;
        trainer.Crash();
        var controllerLog = Path.Combine(_work, "controller.log");
        await Until(() => Task.FromResult(File.ReadAllText(controllerLog)), log => log.Contains("which became unreachable"), "the killed node's trials requeued");
        output.WriteLine($"requeued {(DateTime.UtcNow - killedAt).TotalSeconds:0.0} s after the SIGKILL");

        // nobody trains now; the drained node takes work again and finishes the search, each trial once
        var (undrainCode, _) = await CliProcess.Run(["trainer", "undrain", drained, .. endpoint]);
        Assert.Equal(0, undrainCode);
        var details = await Until(() => client.Get("v1/searches/fleet", MessageJsonContext.Default.SearchDetails),
            d => d.Summary.Status == SearchStatus.Completed, "the search completed", TimeSpan.FromMinutes(3));
        Assert.Equal(16, details.Trials.Count(t => t.Status == TrialStatus.Completed));
        var after = await List(endpoint);
        Assert.True(after.Nodes.Single(n => n.Node == drained).Trainers.Where(t => t.Kind == WorkKind.Search).Sum(t => t.TrialsDone) > doneWhenDrained);
        cluster.Stop();
    }

    private static int AkkaPort(NodeProcess trainer)
    {
        using var ready = JsonDocument.Parse(File.ReadAllText(trainer.ReadyFile));
        return ready.RootElement.GetProperty("akka_port").GetInt32();
    }

    private static async Task<TrainerList> List(string[] endpoint)
    {
        var (code, json) = await CliProcess.Run(["trainer", "list", "--json", .. endpoint]);
        Assert.True(code == 0, json);
        return JsonSerializer.Deserialize(json, TrainerJsonContext.Default.TrainerList)!;
    }

    private static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(500);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

using AutoDropout.Cli;
using AutoDropout.Messages;
using AutoDropout.Tests.Support;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// Real processes on loopback: a seed, a controller and trainers started by the same launcher the demo uses, a
/// real SQLite journal and real training on the bundled Fashion-MNIST subset.
/// </summary>
[Collection(nameof(ProcessTests))]
public class ClusterEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-e2e-").FullName;

    private static SearchSpec Spec(string name, int trials) =>
        new(name, Trials: trials, TrainSteps: 15, BatchSize: 64, PolicyBatch: 2, DataDirectory: "embedded", LeaseSeconds: 120);

    private static async Task<SearchDetails> WaitFor(ControlClient client, string name, Func<SearchDetails, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var details = await client.Get($"v1/searches/{name}", MessageJsonContext.Default.SearchDetails);
                if (done(details)) return details;
            }
            catch (ControlException) when (DateTime.UtcNow < deadline) { /* the controller is (re)joining */ }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"search {name} did not get there in {timeout}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task A_three_trial_search_runs_across_seed_controller_and_trainer_processes()
    {
        using var cluster = await LocalCluster.Start(_work, trainers: 2, Ready);
        using var client = new ControlClient(cluster.Endpoint, cluster.Token);

        // each node is ready once it is Up itself; the answering node may see the others' Up a gossip round later
        var view = await client.Get("v1/cluster", AutoDropout.Cluster.SpecJsonContext.Default.ClusterView);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); view.Members.Count(m => m.Status == "Up") < 4 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(250);
            view = await client.Get("v1/cluster", AutoDropout.Cluster.SpecJsonContext.Default.ClusterView);
        }
        Assert.Equal(4, view.Members.Count(m => m.Status == "Up"));

        await client.Post("v1/searches", ControlClient.SpecJson(Spec("e2e", 3)), MessageJsonContext.Default.CommandAccepted);
        var details = await WaitFor(client, "e2e", d => d.Summary.Status == SearchStatus.Completed, TimeSpan.FromMinutes(4));

        Assert.Equal(3, details.Summary.Completed);
        Assert.All(details.Trials, t => Assert.InRange(t.Reward!.Value, 0.2, 1.0)); // well above chance (0.1)
        Assert.Equal(2, details.Trials.Select(t => t.Trainer).Distinct().Count()); // both trainers took work
        Assert.Equal(1, details.Summary.PolicyVersion);
        Assert.NotNull(details.BestPattern);

        // state-changing commands need the token
        using var anonymous = new ControlClient(cluster.Endpoint, "wrong-token");
        var refused = await Assert.ThrowsAsync<ControlException>(() =>
            anonymous.Post("v1/searches/e2e/stop", null, MessageJsonContext.Default.CommandAccepted));
        Assert.Equal(ExitCodes.Unauthorised, refused.ExitCode);
        cluster.Stop();
    }

    [Fact]
    public async Task A_search_killed_twice_resumes_exactly_and_its_state_matches_its_journal()
    {
        // a snapshot after every policy update, so recovery goes through snapshot + journal tail
        var config = Path.Combine(_work, "controller.conf");
        await File.WriteAllTextAsync(config, "autodropout.controller.snapshot-every-updates = 1");
        using var cluster = await LocalCluster.Start(_work, trainers: 2, Ready, ["--config", config]);
        var client = new ControlClient(cluster.Endpoint, cluster.Token);
        await client.Post("v1/searches", ControlClient.SpecJson(Spec("crash", 7)), MessageJsonContext.Default.CommandAccepted);

        var recorded = new Dictionary<int, (double?, string)>();
        foreach (int killAfter in new[] { 2, 4 })
        {
            var before = await WaitFor(client, "crash", d => d.Summary.Completed >= killAfter, TimeSpan.FromMinutes(3));
            foreach (var t in before.Trials.Where(t => t.Status == TrialStatus.Completed)) recorded[t.TrialId] = (t.Reward, t.PatternHash);
            output.WriteLine($"SIGKILL to the controller with {before.Summary.Completed} trials completed, policy v{before.Summary.PolicyVersion}");
            cluster.Controller!.Crash();
            await cluster.StartController(Ready);
            client.Dispose();
            client = new ControlClient(cluster.Endpoint, cluster.Token);
        }
        var after = await WaitFor(client, "crash", d => d.Summary.Status == SearchStatus.Completed, TimeSpan.FromMinutes(4));
        client.Dispose();

        Assert.Equal(7, after.Summary.Completed);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], after.Trials.Select(t => t.TrialId));
        foreach (var (id, value) in recorded) // nothing recorded before a crash is lost or changed
            Assert.Equal(value, (after.Trials.Single(t => t.TrialId == id).Reward, after.Trials.Single(t => t.TrialId == id).PatternHash));
        // every whole batch learned from, once; results that came in while an update was learned join the next one
        Assert.Equal(6, after.Trials.Count(t => t.Staleness is not null));
        Assert.InRange(after.Summary.PolicyVersion, 1, 3);

        // the live policy (recovered from snapshots) equals one rebuilt from the journal alone, in another process
        var verify = await CliProcess.Run(["controller", "verify", "crash", "--endpoint", cluster.Endpoint, "--token", cluster.Token, "--db", cluster.DatabasePath, "--json"]);
        output.WriteLine(verify.Output);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("\"equal\":true", verify.Output);
        cluster.Stop();
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Multi-process tests run one at a time: each uses every core of a small machine.</summary>
[CollectionDefinition(nameof(ProcessTests), DisableParallelization = true)]
public class ProcessTests;

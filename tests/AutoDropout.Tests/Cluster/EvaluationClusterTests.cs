using AutoDropout.Cli;
using AutoDropout.Messages;
using AutoDropout.Search;
using AutoDropout.Tests.Support;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// An evaluation job end to end on real processes: a short search, then its winners and every default baseline
/// retrained by the trainers' evaluators with two seeds, through a SIGKILL of the controller.
/// </summary>
[Collection(nameof(ProcessTests))]
public class EvaluationClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-eval-").FullName;

    private static async Task<T> WaitFor<T>(Func<Task<T>> get, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var value = await get();
                if (done(value)) return value;
            }
            catch (ControlException) when (DateTime.UtcNow < deadline) { /* the controller is (re)joining */ }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not get there in {timeout}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task An_evaluation_retrains_the_winners_and_every_baseline_with_each_seed_and_survives_a_controller_crash()
    {
        try { await RunEvaluation(); }
        catch (Exception)
        {
            foreach (var log in Directory.GetFiles(_work, "*.log"))
                output.WriteLine($"--- {Path.GetFileName(log)}, last lines:\n{string.Join('\n', File.ReadLines(log).TakeLast(25))}");
            throw;
        }
    }

    private async Task RunEvaluation()
    {
        using var cluster = await LocalCluster.Start(_work, trainers: 2, Ready);
        var client = new ControlClient(cluster.Endpoint, cluster.Token);
        var search = new SearchSpec("ev", Trials: 3, TrainSteps: 15, BatchSize: 64, PolicyBatch: 2, DataDirectory: "embedded", LeaseSeconds: 120);
        await client.Post("v1/searches", ControlClient.SpecJson(search), MessageJsonContext.Default.CommandAccepted);
        await WaitFor(() => client.Get("v1/searches/ev", MessageJsonContext.Default.SearchDetails), d => d.Summary.Status == SearchStatus.Completed,
            TimeSpan.FromMinutes(3), "search ev");

        var started = await CliProcess.Run(["evaluate", "ev", "--top", "2", "--seeds", "2", "--steps", "10", "--endpoint", cluster.Endpoint, "--token", cluster.Token]);
        output.WriteLine(started.Output);
        Assert.Equal(0, started.ExitCode);
        Assert.Contains("evaluation 'ev-eval' started", started.Output);
        Task<EvaluationDetails> Get() => client.Get("v1/evaluations/ev-eval", MessageJsonContext.Default.EvaluationDetails);

        var before = await WaitFor(Get, d => d.Summary.Completed >= 6, TimeSpan.FromMinutes(3), "evaluation ev-eval");
        var recorded = before.Rows.SelectMany(r => r.Runs).Where(r => r.Score is not null).ToDictionary(r => r.TrialId, r => r.Score);
        output.WriteLine($"SIGKILL to the controller with {before.Summary.Completed} evaluation trials completed");
        cluster.Controller!.Crash();
        await cluster.StartController(Ready);
        client.Dispose();
        client = new ControlClient(cluster.Endpoint, cluster.Token);
        var after = await WaitFor(Get, d => d.Summary.Status == SearchStatus.Completed, TimeSpan.FromMinutes(5), "evaluation ev-eval");

        // the two best patterns, then every default baseline; each with both seeds, scored on the test split
        Assert.Equal(2 + EvaluationPlanner.ImageBaselines.Count, after.Rows.Count);
        Assert.Equal(EvaluationPlanner.ImageBaselines, after.Rows.Skip(2).Select(r => r.Label));
        Assert.Equal(after.Rows.Count * 2, after.Summary.Completed);
        foreach (var row in after.Rows)
        {
            Assert.All(row.Runs, run => Assert.InRange(run.Score!.Value, 0.2, 1.0)); // well above chance (0.1)
            Assert.All(row.Runs, run => Assert.EndsWith("/evaluator", run.Trainer, StringComparison.Ordinal));
            var (mean, std) = EvaluationViews.MeanAndStandardDeviation(row.Runs.Select(r => r.Score!.Value).ToArray());
            Assert.Equal(mean, row.Mean);
            Assert.Equal(std, row.StandardDeviation);
        }
        // the seeds give different runs (weights, batches, masks), but the same two seeds for every candidate
        Assert.True(after.Rows.Count(r => r.Runs[0].Score != r.Runs[1].Score) >= after.Rows.Count - 1);
        Assert.All(after.Rows, r => Assert.Equal(after.Spec.Seeds, r.Runs.Select(x => x.Seed)));
        foreach (var (id, score) in recorded) // nothing finished before the crash is lost or changed
            Assert.Equal(score, after.Rows.SelectMany(r => r.Runs).Single(r => r.TrialId == id).Score);

        var shown = await CliProcess.Run(["evaluation", "show", "ev-eval", "--endpoint", cluster.Endpoint, "--token", cluster.Token]);
        output.WriteLine(shown.Output);
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("dropblock:5:0.9", shown.Output);
        Assert.Contains("test accuracy", shown.Output);
        var refused = await CliProcess.Run(["evaluate", "no-such-search", "--endpoint", cluster.Endpoint, "--token", cluster.Token]);
        Assert.Equal(ExitCodes.NotFound, refused.ExitCode);
        client.Dispose();
        cluster.Stop();
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

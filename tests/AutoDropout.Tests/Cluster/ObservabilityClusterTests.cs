using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using AutoDropout.Cli;
using AutoDropout.Messages;
using AutoDropout.Tests.Support;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// A real local cluster with simulated trainers (no torch) runs a short search: each node's /metrics shows the
/// counters moved, the JSON log lines carry the search and trial ids, and the search's TensorBoard file holds its
/// policy updates and trials.
/// </summary>
[Collection(nameof(ProcessTests))]
public class ObservabilityClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-observe-").FullName;

    [Fact]
    public async Task A_short_search_moves_the_metrics_and_logs_json_with_its_ids()
    {
        var board = Path.Combine(_work, "tensorboard");
        var config = Path.Combine(_work, "controller.conf");
        await File.WriteAllTextAsync(config, $"autodropout.controller.tensorboard-dir = \"{board}\"");
        using var cluster = await LocalCluster.Start(_work, trainers: 1, Ready, ["--config", config],
            trainerArgs: ["--cmd-port", "0", "--simulate", "2", "--trial-time", "300ms"],
            environment: new Dictionary<string, string> { ["AUTODROPOUT_LOG_FORMAT"] = "json" });
        using var client = new ControlClient(cluster.Endpoint, cluster.Token);
        await client.Post("v1/searches", ControlClient.SpecJson(new SearchSpec("observed", Trials: 6, PolicyBatch: 2, LeaseSeconds: 60)),
            MessageJsonContext.Default.CommandAccepted);
        for (var deadline = DateTime.UtcNow.AddMinutes(2); ; await Task.Delay(500))
        {
            var details = await client.Get("v1/searches/observed", MessageJsonContext.Default.SearchDetails);
            if (details.Summary.Status == SearchStatus.Completed) break;
            Assert.True(DateTime.UtcNow < deadline, "the search did not complete in time");
        }

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Token);
        var controller = await Scrape(http, cluster.ControllerCommandPort);
        Assert.Equal(6, Value(controller, "autodropout_trials_completed_total", "search=\"observed\""));
        Assert.Equal(0, Value(controller, "autodropout_queue_depth", "search=\"observed\""));
        Assert.Equal(3, Value(controller, "autodropout_policy_version", "search=\"observed\""));
        Assert.InRange(Value(controller, "autodropout_reward_best", "search=\"observed\""), 0.0, 1.0);
        Assert.True(Value(controller, "autodropout_journal_write_seconds_count", "job=\"search\"") > 0);

        var trainer = await Scrape(http, await cluster.Trainers[0].WaitReady(Ready));
        Assert.Equal(6, Value(trainer, "autodropout_dispatch_latency_seconds_count", "kind=\"search\""));
        Assert.True(Values(trainer, "autodropout_trainer_busy_seconds_total").Sum() >= 6 * 0.3 * 0.9);

        // metrics need a token, as every route but health does
        using var anonymous = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized,
            (await anonymous.GetAsync($"http://127.0.0.1:{cluster.ControllerCommandPort}/metrics")).StatusCode);

        // one point per policy update and per completed trial, read back by an independent reader
        var scalars = TensorBoardReader.ReadSearch(Path.Combine(board, "observed"));
        Assert.Equal([1L, 2, 3], scalars.Where(s => s.Tag == "policy/mean_reward").Select(s => s.Step));
        Assert.Equal(3, scalars.Count(s => s.Tag == "policy/entropy"));
        Assert.Equal(6, scalars.Count(s => s.Tag == "trial/reward"));
        Assert.Equal((float)Value(controller, "autodropout_reward_best", "search=\"observed\""),
            scalars.Last(s => s.Tag == "policy/best_reward").Value);

        cluster.Stop();
        foreach (var node in new[] { "controller", "trainer-1" })
        {
            var lines = LogObjects(Path.Combine(_work, $"{node}.log"));
            Assert.NotEmpty(lines);
            var trialLines = lines.Where(l => l.TryGetProperty("TrialId", out _)).ToList();
            Assert.NotEmpty(trialLines);
            Assert.All(trialLines, l => Assert.Equal("observed", l.GetProperty("Search").GetString()));
            Assert.All(lines, l => Assert.True(l.TryGetProperty("@m", out _)));
        }
    }

    private async Task<string> Scrape(HttpClient http, int port)
    {
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        output.WriteLine(text);
        return text;
    }

    /// <summary>The samples of one metric (Prometheus text), those whose labels contain <paramref name="label"/>.</summary>
    private static double[] Values(string text, string metric, string label = "") =>
        text.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(l => l.Contains(label, StringComparison.Ordinal))
            .Select(l => l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0])
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    private static double Value(string text, string metric, string label) => Assert.Single(Values(text, metric, label));

    /// <summary>Every JSON line of a node's log (the ready line and the runtime's own output are plain text).</summary>
    private static List<JsonElement> LogObjects(string path) =>
        File.ReadAllLines(path).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

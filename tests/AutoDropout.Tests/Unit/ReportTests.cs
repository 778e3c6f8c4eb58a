using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AutoDropout.Cli;
using AutoDropout.Core;
using AutoDropout.Messages;
using SkiaSharp;

namespace AutoDropout.Tests.Unit;

public sealed partial class ReportTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-report-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    // cnn has two mask sites; the patterns differ in their first site's size and its second site's rotation
    private static string Pattern(int i) => $"s{1 + i % 3} t{4 + i % 5} r2 rot{i % 4 * 15} sx0.2 sy0 c0 res0 | s2 t4 r3 rot0 sx0 sy0.1 c1 res0";

    private static SearchDetails Search(string name, string policy, int trials, Func<int, double> reward, Func<int, double> entropy)
    {
        var views = new List<TrialView>
        {
            new(1, TrialStatus.Completed, "none", "b1", 0, 0.80, "t", null, null, 0, Baseline: "none"),
            new(2, TrialStatus.Completed, "dropout:0.3", "b2", 0, 0.83, "t", null, null, 0, Baseline: "dropout:0.3"),
        };
        for (int id = 3; id < trials + 3; id++)
            views.Add(new TrialView(id, TrialStatus.Completed, Pattern(id), $"h{id % 7}", (id - 3) / 4, reward(id), "t", null, null, 0));
        views.Add(new TrialView(trials + 3, TrialStatus.Failed, Pattern(1), "hf", 0, null, "t", FailureReason.Diverged, null, null));
        var updates = Enumerable.Range(1, trials / 4)
            .Select(v => new PolicyUpdateStats(v, 0.7 + 0.01 * v, 0.69 + 0.01 * v, entropy(v)))
            .ToList();
        var spec = new SearchSpec(name, Trials: trials + 3, TrainSteps: 50, BatchSize: 32, Policy: new PolicyOptions(Kind: policy), Baselines: ["none", "dropout:0.3"]);
        double best = views.Where(t => t.Baseline is null && t.Reward is not null).Max(t => t.Reward!.Value);
        var summary = new SearchSummary(name, SearchStatus.Completed, views.Count, views.Count - 1, 1, 0, updates.Count, best, "h");
        return new SearchDetails(summary, spec, views, null, 0.75, "hash", updates);
    }

    private static SearchDetails Learning() => Search("learned", PolicyOptions.Reinforce, 20, id => 0.70 + 0.005 * id + (id % 3 == 0 ? 0.01 : 0), v => 2.0 - 0.1 * v);

    private static SearchDetails Control() => Search("control", PolicyOptions.Random, 20, id => 0.72 + (id % 4) * 0.01, _ => 2.0);

    private static EvaluationRun Run(int trial, long seed, double? score) =>
        new(trial, seed, score is null ? TrialStatus.Failed : TrialStatus.Completed, score, "t", null, score is null ? FailureReason.Diverged : null);

    private static readonly long[] Seeds = [11, 12, 13];

    /// <summary>Three candidates with their per-seed scores, one of them with a failed seed, and one with no completed run.</summary>
    private static EvaluationDetails Evaluation(bool higherIsBetter)
    {
        var scores = new (string Label, double?[] Scores)[]
        {
            ("pattern #7", [0.91, 0.90, 0.93]),
            ("dropout:0.3", [0.89, 0.92, null]),
            ("pattern #12", [0.95, 0.94, 0.96]),
            ("none", [null, null, null]),
        };
        int trial = 0;
        var rows = scores.Select(c => new EvaluationRow(c.Label, c.Label, c.Label.StartsWith("pattern", StringComparison.Ordinal) ? 7 : null, 0.8,
            [.. c.Scores.Select((s, i) => Run(++trial, Seeds[i], s))], null, null)).ToList();
        var spec = new EvaluationSpec("learned-eval", "learned", "cnn", null, null, new TrialBudget(0, 2), 64, 1e-3,
            [.. rows.Select(r => new EvaluationCandidate(r.Label, ConvPattern.ParseCompact(Pattern(1))))], Seeds);
        var summary = new EvaluationSummary("learned-eval", "learned", SearchStatus.Completed, 12, 8, 4, 0);
        return new EvaluationDetails(summary, spec, higherIsBetter ? "test accuracy" : "test perplexity", higherIsBetter, rows);
    }

    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(AutoDropout.Core.Pictures.Png.Signature), $"{path} is not a PNG");
        Assert.Equal("IHDR", Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    /// <summary>Decodes the PNG in full and counts its colours: a plot with axes, text and series has many.</summary>
    private static int Colours(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        return bitmap.Pixels.Distinct().Count();
    }

    [Fact]
    public void Every_picture_the_html_and_markdown_reference_exists_and_decodes()
    {
        var document = SearchReport.Write(Learning(), Control(), Evaluation(higherIsBetter: true), _work);

        var html = File.ReadAllText(Path.Combine(_work, SearchReport.HtmlFile));
        var markdown = File.ReadAllText(Path.Combine(_work, SearchReport.MarkdownFile));
        var fromHtml = ImgSource().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        var fromMarkdown = MarkdownImage().Matches(markdown).Select(m => m.Groups[1].Value).ToList();
        string[] expected = [SearchReport.RewardsFile, SearchReport.EntropyFile, SearchReport.UpdateRewardsFile, "pattern-1.png", "pattern-2.png", "pattern-3.png", SearchReport.SeedDotsFile];
        Assert.Equal(expected, fromHtml);
        Assert.Equal(expected, fromMarkdown);
        Assert.Equal(expected, document.Images);
        foreach (var file in fromHtml)
        {
            Assert.False(Path.IsPathRooted(file), file);
            var path = Path.Combine(_work, file);
            Assert.True(File.Exists(path), $"{file} is referenced but missing");
            var (width, height) = PngSize(path);
            if (!file.StartsWith("pattern-", StringComparison.Ordinal)) Assert.Equal((ReportPlots.Width, ReportPlots.Height), (width, height));
            Assert.True(Colours(path) > (file.StartsWith("pattern-", StringComparison.Ordinal) ? 2 : 20), $"{file} looks empty");
        }
    }

    [Fact]
    public void Without_a_control_or_evaluation_or_updates_the_report_says_so_and_draws_only_what_it_has()
    {
        var lone = Learning() with { Updates = null };
        var document = SearchReport.Write(lone, null, null, _work);
        Assert.Equal([SearchReport.RewardsFile, "pattern-1.png", "pattern-2.png", "pattern-3.png"], document.Images);
        var markdown = File.ReadAllText(Path.Combine(_work, SearchReport.MarkdownFile));
        Assert.Contains("No policy update yet.", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Evaluation", markdown, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, SearchReport.EntropyFile)));
    }

    [Fact]
    public void The_top_patterns_are_the_best_distinct_ones_and_never_a_baseline()
    {
        var search = Learning();
        var top = SearchReport.Top(search, 3);
        var expected = search.Trials.Where(t => t.Baseline is null && t.Reward is not null)
            .OrderByDescending(t => t.Reward).ThenBy(t => t.TrialId).DistinctBy(t => t.PatternHash).Take(3).Select(t => t.TrialId);
        Assert.Equal(expected, top.Select(t => t.TrialId));
        Assert.Equal(3, top.Select(t => t.PatternHash).Distinct().Count());
        // a baseline with the highest reward is still not a pattern
        var withStrongBaseline = search with { Trials = [.. search.Trials.Select(t => t.Baseline is null ? t : t with { Reward = 0.99 })] };
        Assert.DoesNotContain(SearchReport.Top(withStrongBaseline, 3), t => t.Baseline is not null);
    }

    [Fact]
    public void Moving_average_and_best_so_far_follow_the_rewards()
    {
        double[] rewards = [0.5, 0.7, 0.6, 0.9, 0.4];
        var average = ReportMath.MovingAverage(rewards, 3);
        double[] expected = [0.5, 0.6, 0.6, (0.7 + 0.6 + 0.9) / 3, (0.6 + 0.9 + 0.4) / 3];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], average[i], 12);
        Assert.Equal([0.5, 0.7, 0.7, 0.9, 0.9], ReportMath.BestSoFar(rewards));

        var series = RewardSeries.Of(Learning());
        Assert.Equal(Enumerable.Range(3, 20), series.Points.Select(p => p.TrialId));
        Assert.Equal([("none", 0.80), ("dropout:0.3", 0.83)], series.Baselines);
    }

    [Fact]
    public void The_table_shows_mean_and_sample_std_of_the_completed_seeds()
    {
        var evaluation = Evaluation(higherIsBetter: true);
        var rows = EvaluationTable.Rows(evaluation);
        foreach (var source in evaluation.Rows)
        {
            var scores = source.Runs.Where(r => r.Status == TrialStatus.Completed).Select(r => r.Score!.Value).ToList();
            var row = rows.Single(r => r.Label == source.Label);
            Assert.Equal(scores.Count, row.Scores.Count);
            if (scores.Count == 0)
            {
                Assert.Null(row.Mean);
                continue;
            }
            double mean = scores.Average();
            double std = Math.Sqrt(scores.Select(s => (s - mean) * (s - mean)).Sum() / (scores.Count - 1));
            Assert.Equal(mean, row.Mean!.Value, 12);
            Assert.Equal(std, row.StandardDeviation!.Value, 12);
        }

        SearchReport.Write(Learning(), null, evaluation, _work);
        var markdown = File.ReadAllText(Path.Combine(_work, SearchReport.MarkdownFile));
        // pattern #12: 0.95, 0.94, 0.96 -> mean 0.95, sample std 0.01
        Assert.Contains("| 1 | pattern #12 | 0.9500 ± 0.0100 | 3 | seed 11: 0.9500, seed 12: 0.9400, seed 13: 0.9600 | 0.8000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("seed 13: failed", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rows_are_sorted_best_first_in_the_metric_direction_with_unscored_candidates_last(bool higherIsBetter)
    {
        var labels = EvaluationTable.Rows(Evaluation(higherIsBetter)).Select(r => r.Label);
        // means: pattern #12 0.95, pattern #7 0.9133, dropout:0.3 0.905, none no score
        Assert.Equal(higherIsBetter
            ? ["pattern #12", "pattern #7", "dropout:0.3", "none"]
            : ["dropout:0.3", "pattern #7", "pattern #12", "none"], labels);
    }

    [Fact]
    public void The_markdown_states_the_evaluations_budget_batch_and_seeds()
    {
        SearchReport.Write(Learning(), Control(), Evaluation(higherIsBetter: false), _work);
        var markdown = File.ReadAllText(Path.Combine(_work, SearchReport.MarkdownFile));
        Assert.Contains("budget 2 epochs", markdown, StringComparison.Ordinal);
        Assert.Contains("batch size 64", markdown, StringComparison.Ordinal);
        Assert.Contains("3 seeds (11, 12, 13)", markdown, StringComparison.Ordinal);
        Assert.Contains("test perplexity (lower is better)", markdown, StringComparison.Ordinal);
        // both searches' settings come from their specs
        Assert.Contains("| learned | reinforce | completed | 22/23 | 1 | cnn | fashion-mnist | 50 steps | 32 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| control | random |", markdown, StringComparison.Ordinal);
    }

    private static int Cli(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        return CliApp.Run(args, output, error).GetAwaiter().GetResult();
    }

    [Fact]
    public void Out_naming_a_file_is_a_usage_error_and_an_unreachable_endpoint_says_so()
    {
        var file = Path.Combine(_work, "a-file");
        File.WriteAllText(file, "");
        Assert.Equal(ExitCodes.Usage, Cli("report", "s", "--out", file, "--endpoint", "127.0.0.1:1"));
        Assert.Equal(ExitCodes.Usage, Cli("report", "s"));
        Assert.Equal(ExitCodes.Unreachable, Cli("report", "s", "--out", Path.Combine(_work, "out"), "--endpoint", $"127.0.0.1:{ClosedPort()}"));
    }

    [Fact]
    public async Task The_verb_fetches_search_control_and_evaluation_and_an_unknown_search_is_not_found()
    {
        int port = ClosedPort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var answers = new Dictionary<string, string>
        {
            ["/v1/searches/learned"] = JsonSerializer.Serialize(Learning(), MessageJsonContext.Default.SearchDetails),
            ["/v1/searches/control"] = JsonSerializer.Serialize(Control(), MessageJsonContext.Default.SearchDetails),
            ["/v1/evaluations/learned-eval"] = JsonSerializer.Serialize(Evaluation(true), MessageJsonContext.Default.EvaluationDetails),
        };
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (HttpListenerException) { return; }
                catch (ObjectDisposedException) { return; }
                var path = context.Request.Url!.AbsolutePath;
                bool known = answers.TryGetValue(path, out var body);
                context.Response.StatusCode = known ? 200 : 404;
                var bytes = Encoding.UTF8.GetBytes(body ?? JsonSerializer.Serialize(new CommandRejected($"no such search: {path}"), MessageJsonContext.Default.CommandRejected));
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });

        var endpoint = $"127.0.0.1:{port}";
        var outDir = Path.Combine(_work, "report");
        Assert.Equal(ExitCodes.NotFound, await Task.Run(() => Cli("report", "missing", "--out", outDir, "--endpoint", endpoint)));
        Assert.Equal(ExitCodes.Ok, await Task.Run(() =>
            Cli("report", "learned", "--out", outDir, "--control", "control", "--evaluation", "learned-eval", "--endpoint", endpoint)));
        Assert.True(File.Exists(Path.Combine(outDir, SearchReport.SeedDotsFile)));
        Assert.Contains("| control | random |", File.ReadAllText(Path.Combine(outDir, SearchReport.MarkdownFile)), StringComparison.Ordinal);
        listener.Stop();
        await serving;
    }

    /// <summary>A port nothing listens on now.</summary>
    private static int ClosedPort()
    {
        var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        int port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return port;
    }

    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImgSource();

    [GeneratedRegex(@"!\[[^\]]*\]\(([^)]+)\)")]
    private static partial Regex MarkdownImage();
}

using AutoDropout.Cli;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

public class ClusterBenchTests
{
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TrialMetricsReport Metrics = new(0.5, 0.5, 0, 0.2, 10);

    private static (DateTime, ISearchEvent) Leased(int ms, int trial, string trainer) => (Start.AddMilliseconds(ms), new TrialLeased(trial, trainer, DateTimeOffset.MaxValue));

    private static (DateTime, ISearchEvent) Completed(int ms, int trial, string trainer) => (Start.AddMilliseconds(ms), new TrialCompleted(trial, trainer, 0.5, Metrics));

    [Fact]
    public void Throughput_runs_from_the_first_lease_to_the_last_completion_and_latency_from_a_result_to_the_same_trainers_next_lease()
    {
        var events = new[]
        {
            Leased(0, 1, "a"), Leased(5, 2, "b"),
            Completed(200, 1, "a"), Leased(210, 3, "a"),
            Completed(205, 2, "b"), Leased(245, 4, "b"),
            Completed(410, 3, "a"), Completed(445, 4, "b"),
        };
        var figures = ClusterBench.Measure(events, trainers: 2, TimeSpan.FromMilliseconds(200));
        Assert.Equal(4, figures.Trials);
        Assert.Equal(0.445, figures.WallSeconds, 9);
        Assert.Equal(4 / 0.445, figures.Throughput, 9);
        Assert.Equal(10, figures.Ideal, 9);
        Assert.Equal(10, figures.P50Ms, 9); // gaps 10 and 40 ms
        Assert.Equal(40, figures.P99Ms, 9);
        Assert.Equal(200, figures.TrialP50Ms, 9); // spans 200, 200, 200 and 200 ms
    }

    [Fact]
    public void Merged_searches_measure_from_the_first_lease_of_any_to_the_last_completion_of_any_and_latency_across_searches()
    {
        (DateTime, ISearchEvent)[] first =
        [
            Leased(0, 1, "a"), Completed(200, 1, "a"), Leased(230, 2, "b"), Completed(430, 2, "b"),
        ];
        (DateTime, ISearchEvent)[] second =
        [
            Leased(5, 1, "b"), Completed(205, 1, "b"), Leased(220, 2, "a"), Completed(420, 2, "a"), Leased(600, 3, "a"), Completed(1000, 3, "a"),
        ];
        var figures = ClusterBench.Measure([first, second], trainers: 2, TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, figures.Searches);
        Assert.Equal(5, figures.Trials);
        Assert.Equal(1.0, figures.WallSeconds, 9);
        Assert.Equal(5, figures.Throughput, 9);
        // a: 200 -> 220 (into the second search), 420 -> 600; b: 205 -> 230 (into the first); both journals' last result leads nowhere
        Assert.Equal(25, figures.P50Ms, 9);
        Assert.Equal(180, figures.P99Ms, 9);
        Assert.Equal(3 / 0.995, figures.MinSearchThroughput, 9); // each over its own span: the first ran 0-430 ms, the second 5-1000 ms
        Assert.Equal(2 / 0.430, figures.MaxSearchThroughput, 9);
    }

    [Fact]
    public void One_timeline_measures_as_one_search()
    {
        (DateTime, ISearchEvent)[] events = [Leased(0, 1, "a"), Completed(500, 1, "a")];
        var figures = ClusterBench.Measure(events, trainers: 1, TimeSpan.FromMilliseconds(200));
        Assert.Equal((1, 2.0, 2.0, 2.0), (figures.Searches, figures.Throughput, figures.MinSearchThroughput, figures.MaxSearchThroughput));
        Assert.True(double.IsNaN(figures.P50Ms)); // no result was followed by a lease
        Assert.Equal(500, figures.TrialP50Ms, 9);
    }

    [Fact]
    public void Trials_are_split_evenly_among_distinct_searches_each_with_at_least_one_policy_batch()
    {
        var specs = ClusterBench.Specs("bench", trials: 20, searches: 3, policyBatch: null);
        Assert.Equal([7, 7, 6], specs.Select(s => s.Trials));
        Assert.Equal(3, specs.Select(s => s.Name).Distinct().Count());
        Assert.Equal([7, 7, 6], specs.Select(s => s.PolicyBatch)); // the default 8 is cut to each share
        Assert.Equal("bench", Assert.Single(ClusterBench.Specs("bench", 45, 1, 4)).Name);
        Assert.Equal(4, ClusterBench.Specs("bench", 45, 1, 4)[0].PolicyBatch);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClusterBench.Specs("bench", trials: 2, searches: 3, policyBatch: null));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("abc")]
    [InlineData("7")] // 3 trainers x 2 rounds = 6 trials
    public async Task Bad_search_counts_are_refused_before_any_node_starts(string searches)
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await CliApp.Run(["bench", "cluster", "--trainers", "3", "--rounds", "2", "--searches", searches], TextWriter.Null, error));
        Assert.Contains("--searches", error.ToString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("8,x")]
    [InlineData("")]
    [InlineData("99999999999")]
    public async Task Bad_trainer_counts_are_refused_before_any_node_starts(string counts)
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await CliApp.Run(["bench", "cluster", "--trainers", counts], TextWriter.Null, error));
        Assert.Contains("--trainers", error.ToString());
    }
    [Fact]
    public void The_soak_counts_each_trials_completions_and_the_requeues_by_cause()
    {
        var pattern = new BaselinePattern(BaselineSpec.None);
        ISearchEvent[] events =
        [
            new TrialProposed(1, pattern, 0, 1), new TrialProposed(2, pattern, 0, 2), new TrialProposed(3, pattern, 0, 3),
            new TrialRequeued(1, RequeueCause.TrainerLost, "gone"), new TrialRequeued(2, RequeueCause.LeaseExpired, "quiet"),
            new TrialCompleted(1, "a", 0.5, Metrics), new TrialCompleted(2, "b", 0.5, Metrics), new TrialRequeued(3, RequeueCause.TrainerLost, "gone"),
        ];
        var outcome = SoakBench.Count(events, trials: 3, trainers: 2, "200ms", 1, 0, 10, resends: 4, refused: 1);
        Assert.False(outcome.ExactlyOnce); // trial 3 never finished
        Assert.Equal((2, 0, 0, 1), (outcome.Completed, outcome.Failed, outcome.CompletedTwice, outcome.NeverCompleted));
        Assert.Equal(2, outcome.Requeued[RequeueCause.TrainerLost]);
        Assert.Contains("leases expired: 1", outcome.Report());

        var twice = SoakBench.Count([.. events, new TrialCompleted(3, "a", 0.5, Metrics), new TrialCompleted(3, "b", 0.5, Metrics)], 3, 2, "200ms", 1, 0, 10, 0, 0);
        Assert.Equal(1, twice.CompletedTwice);
        Assert.False(twice.ExactlyOnce);
        Assert.True(SoakBench.Count([.. events, new TrialCompleted(3, "a", 0.5, Metrics)], 3, 2, "200ms", 1, 0, 10, 0, 0).ExactlyOnce);
    }
}

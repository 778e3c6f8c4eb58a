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

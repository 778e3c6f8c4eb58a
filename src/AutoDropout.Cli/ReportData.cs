using AutoDropout.Messages;

namespace AutoDropout.Cli;

public sealed record RewardPoint(int TrialId, double Reward);

/// <summary>A search's completed pattern trials in trial-id order, with the curves the reward plot draws.</summary>
/// <param name="Window">How many trials, up to and including each one, the moving average takes.</param>
/// <param name="Baselines">Completed reference trials: the hand-made regulariser and its reward.</param>
public sealed record RewardSeries(string Search, IReadOnlyList<RewardPoint> Points, int Window, IReadOnlyList<double> MovingAverage,
    IReadOnlyList<double> BestSoFar, IReadOnlyList<(string Baseline, double Reward)> Baselines)
{
    public static RewardSeries Of(SearchDetails details)
    {
        var points = details.Trials
            .Where(t => t.Status == TrialStatus.Completed && t.Baseline is null && t.Reward is not null)
            .OrderBy(t => t.TrialId)
            .Select(t => new RewardPoint(t.TrialId, t.Reward!.Value))
            .ToList();
        var rewards = points.Select(p => p.Reward).ToList();
        int window = WindowFor(rewards.Count);
        var baselines = details.Trials
            .Where(t => t.Status == TrialStatus.Completed && t.Baseline is not null && t.Reward is not null)
            .OrderBy(t => t.TrialId)
            .Select(t => (t.Baseline!, t.Reward!.Value))
            .ToList();
        return new RewardSeries(details.Summary.Name, points, window, ReportMath.MovingAverage(rewards, window), ReportMath.BestSoFar(rewards), baselines);
    }

    /// <summary>A tenth of the trials, at least 3: smooth enough to show a trend, short enough to show it move.</summary>
    public static int WindowFor(int count) => Math.Max(3, count / 10);
}

public static class ReportMath
{
    /// <summary>The mean of each value and the <paramref name="window"/> - 1 before it (fewer at the start).</summary>
    public static IReadOnlyList<double> MovingAverage(IReadOnlyList<double> values, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var averages = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            averages[i] = sum / Math.Min(i + 1, window);
        }
        return averages;
    }

    public static IReadOnlyList<double> BestSoFar(IReadOnlyList<double> values)
    {
        var best = new double[values.Count];
        for (int i = 0; i < values.Count; i++) best[i] = i == 0 ? values[0] : Math.Max(best[i - 1], values[i]);
        return best;
    }

    public static double Mean(IReadOnlyList<double> values) => values.Sum() / values.Count;

    /// <summary>The sample standard deviation (n - 1); null below two values, where it is undefined.</summary>
    public static double? SampleStandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return null;
        double mean = Mean(values);
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}

/// <summary>One seed's score of a candidate; null when that run has not completed.</summary>
public sealed record SeedScore(long Seed, TrialStatus Status, double? Score);

/// <summary>A row of the evaluation table: mean and sample standard deviation over the completed runs' scores.</summary>
public sealed record EvaluationTableRow(string Label, string Regulariser, int? SearchTrialId, double? SearchReward,
    IReadOnlyList<SeedScore> Runs, IReadOnlyList<double> Scores, double? Mean, double? StandardDeviation);

public static class EvaluationTable
{
    /// <summary>
    /// Every candidate, best mean first in the metric's direction; candidates with no completed run last. Means and
    /// deviations are computed here from the runs, so the table shows exactly what the listed scores give.
    /// </summary>
    public static IReadOnlyList<EvaluationTableRow> Rows(EvaluationDetails evaluation)
    {
        var rows = evaluation.Rows.Select(row =>
        {
            var runs = row.Runs.OrderBy(r => r.TrialId).Select(r => new SeedScore(r.Seed, r.Status, r.Status == TrialStatus.Completed ? r.Score : null)).ToList();
            var scores = runs.Where(r => r.Score is not null).Select(r => r.Score!.Value).ToList();
            return new EvaluationTableRow(row.Label, row.Regulariser, row.SearchTrialId, row.SearchReward, runs, scores,
                scores.Count > 0 ? ReportMath.Mean(scores) : null, ReportMath.SampleStandardDeviation(scores));
        }).ToList();
        var scored = rows.Where(r => r.Mean is not null);
        var ordered = evaluation.HigherIsBetter ? scored.OrderByDescending(r => r.Mean) : scored.OrderBy(r => r.Mean);
        return [.. ordered, .. rows.Where(r => r.Mean is null)];
    }
}

using System.Globalization;
using AutoDropout.Messages;
using ScottPlot;

namespace AutoDropout.Cli;

/// <summary>The report's plots, drawn with ScottPlot into PNGs of one size.</summary>
public static class ReportPlots
{
    public const int Width = 900;
    public const int Height = 500;

    private static readonly Color SearchColour = Colors.Blue;
    private static readonly Color ControlColour = Colors.OrangeRed;
    private static readonly Color[] BaselineColours = [Colors.Green, Colors.Purple, Colors.Brown, Colors.Teal, Colors.Magenta, Colors.Olive];

    /// <summary>Reward against trial id; the control, when given, on the same axes in another colour.</summary>
    public static void Rewards(RewardSeries search, RewardSeries? control, string path)
    {
        var plot = new Plot();
        AddRewards(plot, search, SearchColour);
        if (control is not null) AddRewards(plot, control, ControlColour);
        int colour = 0;
        foreach (var (baseline, reward) in search.Baselines)
        {
            var line = plot.Add.HorizontalLine(reward, 1.5f, BaselineColours[colour++ % BaselineColours.Length], LinePattern.Dotted);
            line.LegendText = $"baseline {baseline} ({Format(reward)})";
        }
        Finish(plot, control is null ? $"Reward per trial: {search.Search}" : $"Reward per trial: {search.Search} vs {control.Search}",
            "trial id", "validation reward", path);
    }

    private static void AddRewards(Plot plot, RewardSeries series, Color colour)
    {
        if (series.Points.Count == 0) return;
        double[] xs = [.. series.Points.Select(p => (double)p.TrialId)];
        var rewards = plot.Add.ScatterPoints(xs, [.. series.Points.Select(p => p.Reward)], colour);
        rewards.MarkerSize = 6;
        rewards.LegendText = $"{series.Search}: reward";
        var average = plot.Add.ScatterLine(xs, [.. series.MovingAverage], colour);
        average.LineWidth = 2;
        average.LegendText = $"{series.Search}: moving average ({series.Window} trials)";
        var best = plot.Add.ScatterLine(xs, [.. series.BestSoFar], colour);
        best.ConnectStyle = ConnectStyle.StepHorizontal;
        best.LinePattern = LinePattern.Dashed;
        best.LegendText = $"{series.Search}: best so far";
    }

    /// <summary>The policy's pattern entropy per update, for each search that has updates.</summary>
    public static void Entropy(IReadOnlyList<(string Search, IReadOnlyList<PolicyUpdateStats> Updates)> searches, string path)
    {
        var plot = new Plot();
        foreach (var ((search, updates), colour) in searches.Zip([SearchColour, ControlColour]))
        {
            var line = plot.Add.Scatter(updates.Select(u => (double)u.Version).ToArray(), updates.Select(u => u.MeanEntropy).ToArray(), colour);
            line.LegendText = $"{search}: mean entropy";
        }
        Finish(plot, "Policy entropy per update", "policy version (update)", "pattern entropy, batch mean (nats)", path);
    }

    /// <summary>The batch's mean reward and the reward baseline after each update.</summary>
    public static void UpdateRewards(IReadOnlyList<(string Search, IReadOnlyList<PolicyUpdateStats> Updates)> searches, string path)
    {
        var plot = new Plot();
        foreach (var ((search, updates), colour) in searches.Zip([SearchColour, ControlColour]))
        {
            double[] xs = [.. updates.Select(u => (double)u.Version)];
            var mean = plot.Add.Scatter(xs, updates.Select(u => u.MeanReward).ToArray(), colour);
            mean.LegendText = $"{search}: batch mean reward";
            var baseline = plot.Add.ScatterLine(xs, [.. updates.Select(u => u.Baseline)], colour);
            baseline.LinePattern = LinePattern.Dashed;
            baseline.LegendText = $"{search}: reward baseline";
        }
        Finish(plot, "Mean reward and baseline per update", "policy version (update)", "validation reward", path);
    }

    /// <summary>One column per candidate in table order: a dot per seed, and the mean with a ±1 sample std bar.</summary>
    public static void SeedDots(IReadOnlyList<EvaluationTableRow> rows, string metric, string title, string path)
    {
        var plot = new Plot();
        var scored = rows.Where(r => r.Mean is not null).ToList();
        for (int i = 0; i < scored.Count; i++)
        {
            var dots = plot.Add.ScatterPoints(Enumerable.Repeat((double)i, scored[i].Scores.Count).ToArray(), [.. scored[i].Scores], SearchColour);
            dots.MarkerSize = 7;
            if (i == 0) dots.LegendText = "one seed";
        }
        if (scored.Count > 0)
        {
            double[] xs = [.. Enumerable.Range(0, scored.Count).Select(i => i + 0.15)];
            double[] means = [.. scored.Select(r => r.Mean!.Value)];
            var bars = plot.Add.ErrorBar(xs, means, [.. scored.Select(r => r.StandardDeviation ?? 0)]);
            bars.Color = Colors.Black;
            var marks = plot.Add.ScatterPoints(xs, means, Colors.Black);
            marks.MarkerShape = MarkerShape.FilledDiamond;
            marks.MarkerSize = 9;
            marks.LegendText = "mean ± sample std";
            plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, scored.Count).Select(i => (double)i)], [.. scored.Select(r => r.Label)]);
            // labels such as "dropblock:5:0.9" overlap when level: slant them, with room below the axis
            plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 90;
            plot.Axes.SetLimitsX(-0.5, scored.Count + 0.5); // room for the last slanted label
        }
        Finish(plot, title, "candidate (best first)", metric, path, integerX: false);
    }

    private static void Finish(Plot plot, string title, string x, string y, string path, bool integerX = true)
    {
        // trial ids and policy versions are whole numbers; a tick at 2.5 would suggest otherwise
        if (integerX) plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, Width, Height);
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}

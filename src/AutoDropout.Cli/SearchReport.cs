using System.Globalization;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Training;

namespace AutoDropout.Cli;

/// <summary>
/// Writes a search's report into a directory: report.md, report.html (the same content, linking the PNGs beside it
/// by relative path) and the PNGs. Plain code over the data objects: the verb fetches them, tests make them.
/// </summary>
public static class SearchReport
{
    public const string MarkdownFile = "report.md";
    public const string HtmlFile = "report.html";
    public const string RewardsFile = "rewards.png";
    public const string EntropyFile = "entropy.png";
    public const string UpdateRewardsFile = "update-rewards.png";
    public const string SeedDotsFile = "seeds.png";
    public const int TopPatterns = 3;

    /// <summary>Mask sheets draw one example's masks with this seed, as `pattern render` does by default.</summary>
    public const ulong SheetSeed = 1;

    public static ReportDocument Write(SearchDetails search, SearchDetails? control, EvaluationDetails? evaluation, string directory)
    {
        Directory.CreateDirectory(directory);
        var blocks = new List<ReportBlock>();
        blocks.AddRange(Overview(search, control));
        blocks.AddRange(RewardSection(search, control, directory));
        blocks.AddRange(UpdateSection(search, control, directory));
        blocks.AddRange(PatternSection(search, directory));
        if (evaluation is not null) blocks.AddRange(EvaluationSection(evaluation, directory));
        var document = new ReportDocument($"AutoDropout report: search {search.Summary.Name}", blocks);
        File.WriteAllText(Path.Combine(directory, MarkdownFile), document.ToMarkdown());
        File.WriteAllText(Path.Combine(directory, HtmlFile), document.ToHtml());
        return document;
    }

    private static IEnumerable<ReportBlock> Overview(SearchDetails search, SearchDetails? control)
    {
        yield return new ReportHeading(1, "Searches");
        var searches = control is null ? [search] : new[] { search, control };
        yield return new ReportTable(
            ["search", "policy", "status", "completed", "failed", "target", "dataset", "budget", "batch size", "learning rate", "seed", "best reward"],
            [.. searches.Select(d => (IReadOnlyList<string>)
            [
                d.Summary.Name, d.Spec.Policy?.Kind ?? PolicyOptions.Reinforce, d.Summary.Status.Name(),
                $"{d.Summary.Completed}/{d.Summary.Trials}", Int(d.Summary.Failed), d.Spec.Target, d.Spec.Dataset, Budget(d.Spec),
                Int(d.Spec.BatchSize), Number(d.Spec.LearningRate), d.Spec.Seed.ToString(CultureInfo.InvariantCulture), Format(d.Summary.BestReward),
            ])]);
        if (control is not null && (Budget(control.Spec) != Budget(search.Spec) || control.Spec.Target != search.Spec.Target))
            yield return new ReportParagraph("Note: the control's target or budget differs from the search's, so their rewards are not directly comparable.");
    }

    private static IEnumerable<ReportBlock> RewardSection(SearchDetails search, SearchDetails? control, string directory)
    {
        yield return new ReportHeading(1, "Reward per trial");
        var main = RewardSeries.Of(search);
        var other = control is null ? null : RewardSeries.Of(control);
        ReportPlots.Rewards(main, other, Path.Combine(directory, RewardsFile));
        yield return new ReportImage(RewardsFile,
            $"Validation reward of each completed pattern trial against its trial id, with a trailing moving average ({main.Window} trials) and the best so far; " +
            "dotted lines: the search's baseline trials (hand-made regularisers, same budget)." + (other is null ? "" : $" Control {other.Search}: second colour."));
        foreach (var series in other is null ? [main] : new[] { main, other })
        {
            var rewards = series.Points.Select(p => p.Reward).ToList();
            if (rewards.Count == 0)
            {
                yield return new ReportParagraph($"{series.Search}: no completed pattern trial yet.");
                continue;
            }
            int half = rewards.Count / 2;
            string halves = half == 0 ? "" : $"; mean of the first {half}: {Format(ReportMath.Mean(rewards.Take(half).ToList()))}, " +
                                             $"of the last {rewards.Count - half}: {Format(ReportMath.Mean(rewards.Skip(half).ToList()))}";
            yield return new ReportParagraph($"{series.Search}: {rewards.Count} completed pattern trials, best {Format(rewards.Max())}, mean {Format(ReportMath.Mean(rewards))}{halves}.");
            if (series.Baselines.Count > 0)
                yield return new ReportTable(["baseline", "reward"], [.. series.Baselines.Select(b => (IReadOnlyList<string>)[b.Baseline, Format(b.Reward)])]);
        }
    }

    private static IEnumerable<ReportBlock> UpdateSection(SearchDetails search, SearchDetails? control, string directory)
    {
        yield return new ReportHeading(1, "Policy updates");
        var searches = (control is null ? [search] : new[] { search, control })
            .Where(d => d.Updates is { Count: > 0 })
            .Select(d => (d.Summary.Name, d.Updates!))
            .ToList();
        if (searches.Count == 0)
        {
            yield return new ReportParagraph("No policy update yet.");
            yield break;
        }
        ReportPlots.Entropy(searches, Path.Combine(directory, EntropyFile));
        yield return new ReportImage(EntropyFile, "The policy's entropy over a whole pattern (nats, summed over its tokens), averaged over each update's batch; a random control's stays flat at the space's largest.");
        ReportPlots.UpdateRewards(searches, Path.Combine(directory, UpdateRewardsFile));
        yield return new ReportImage(UpdateRewardsFile, "Each update's batch mean reward, and the reward baseline after the update.");
        yield return new ReportTable(["search", "updates", "first entropy", "last entropy", "first batch mean", "last batch mean"],
            [.. searches.Select(s => (IReadOnlyList<string>)
            [
                s.Name, Int(s.Item2.Count), Format(s.Item2[0].MeanEntropy), Format(s.Item2[^1].MeanEntropy),
                Format(s.Item2[0].MeanReward), Format(s.Item2[^1].MeanReward),
            ])]);
    }

    /// <summary>The best distinct patterns by reward (the earlier trial on a tie), baselines left out.</summary>
    public static IReadOnlyList<TrialView> Top(SearchDetails search, int count) =>
        [.. search.Trials
            .Where(t => t.Status == TrialStatus.Completed && t.Baseline is null && t.Reward is not null)
            .OrderByDescending(t => t.Reward).ThenBy(t => t.TrialId)
            .DistinctBy(t => t.PatternHash)
            .Take(count)];

    private static IEnumerable<ReportBlock> PatternSection(SearchDetails search, string directory)
    {
        yield return new ReportHeading(1, $"Top {TopPatterns} patterns");
        var top = Top(search, TopPatterns);
        if (top.Count == 0)
        {
            yield return new ReportParagraph("No completed pattern trial yet.");
            yield break;
        }
        yield return new ReportTable(["rank", "trial", "reward", "policy version", "hash", "pattern"],
            [.. top.Select((t, i) => (IReadOnlyList<string>)[Int(i + 1), Int(t.TrialId), Format(t.Reward), $"v{t.PolicyVersion}", t.PatternHash, t.PatternCompact])]);
        for (int i = 0; i < top.Count; i++)
        {
            var file = $"pattern-{i + 1}.png";
            var sheet = Sheet(search.Spec, top[i].PatternCompact);
            sheet.Canvas.Save(Path.Combine(directory, file));
            yield return new ReportImage(file, $"Rank {i + 1}: trial {top[i].TrialId}, reward {Format(top[i].Reward)}: masks of one example (black = dropped, seed {SheetSeed}).");
        }
    }

    /// <summary>The pattern's mask sheet on the searched target and its data's input shape.</summary>
    private static MaskSheet Sheet(SearchSpec spec, string compact)
    {
        if (spec.IsTransformer)
            return MaskSheet.ForTransformer(TransformerPattern.ParseCompact(compact), LanguageModelSpec.Parse(spec.Target), (spec.Text ?? new TextOptions()).Context, SheetSeed);
        var (channels, side) = spec.Dataset == SearchSpec.CifarTen ? (3, 32) : (1, 28);
        return MaskSheet.ForConv(ConvPattern.ParseCompact(compact), TargetSpec.Parse(spec.Target), channels, side, side, SheetSeed);
    }

    private static IEnumerable<ReportBlock> EvaluationSection(EvaluationDetails evaluation, string directory)
    {
        var spec = evaluation.Spec;
        yield return new ReportHeading(1, $"Evaluation {spec.Name}");
        string budget = spec.Budget.Epochs is { } epochs ? $"{Number(epochs)} epochs" : $"{Int(spec.Budget.Steps)} steps";
        string searched = spec.SearchedTarget is { } s && s != spec.Target ? $" (searched on {s})" : "";
        yield return new ReportParagraph(
            $"Search {spec.Search}'s top patterns and baselines retrained on the whole training split and scored on the test split: " +
            $"target {spec.Target}{searched}, budget {budget}, batch size {Int(spec.BatchSize)}, learning rate {Number(spec.LearningRate)}, " +
            $"{spec.Seeds.Count} seeds ({string.Join(", ", spec.Seeds.Select(x => x.ToString(CultureInfo.InvariantCulture)))}); " +
            $"metric: {evaluation.Metric} ({(evaluation.HigherIsBetter ? "higher" : "lower")} is better); status {evaluation.Summary.Status.Name()}, " +
            $"{evaluation.Summary.Completed}/{evaluation.Summary.Trials} runs completed, {evaluation.Summary.Failed} failed.");
        var rows = EvaluationTable.Rows(evaluation);
        yield return new ReportTable(["rank", "candidate", $"{evaluation.Metric} mean ± std", "seeds", "per seed", "search reward"],
            [.. rows.Select((r, i) => (IReadOnlyList<string>)
            [
                Int(i + 1), r.Label, r.Mean is { } m ? $"{Format(m)} ± {Format(r.StandardDeviation)}" : "-", Int(r.Scores.Count),
                string.Join(", ", r.Runs.Select(run => $"seed {run.Seed.ToString(CultureInfo.InvariantCulture)}: {(run.Score is { } v ? Format(v) : run.Status.Name())}")),
                Format(r.SearchReward),
            ])]);
        yield return new ReportParagraph("Mean and sample standard deviation (n - 1) over each candidate's completed seeds; '-' where there are fewer than two.");
        ReportPlots.SeedDots(rows, evaluation.Metric, $"Evaluation {spec.Name}: {evaluation.Metric} per seed", Path.Combine(directory, SeedDotsFile));
        yield return new ReportImage(SeedDotsFile, "Seed dots: one dot per seed, the mean with a ±1 sample std bar beside it, candidates best first.");
    }

    private static string Budget(SearchSpec spec) => spec.TrainEpochs is { } epochs ? $"{Number(epochs)} epochs" : $"{Int(spec.TrainSteps)} steps";

    private static string Format(double? value) => SearchCommands.Format(value);

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}

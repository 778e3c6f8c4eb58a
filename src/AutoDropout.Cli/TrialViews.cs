using System.Globalization;
using System.Text;
using System.Text.Json;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>The pure side of `search trials|best|tail|export`: filtering, ordering and writing a search's trials.</summary>
public static class TrialViews
{
    /// <summary>A trial status by the name `search show` prints; `running` is a leased trial.</summary>
    public static TrialStatus ParseStatus(string text) => text.Trim().ToLowerInvariant() switch
    {
        "proposed" or "queued" => TrialStatus.Proposed,
        "leased" or "running" => TrialStatus.Leased,
        "completed" or "done" => TrialStatus.Completed,
        "failed" => TrialStatus.Failed,
        _ => throw new UsageException($"--status: '{text}' is not one of proposed, running (leased), completed, failed"),
    };

    /// <param name="sort">"id" (default) or "reward" (best first; trials without a reward last).</param>
    public static IReadOnlyList<TrialView> Select(IEnumerable<TrialView> trials, TrialStatus? status, string? sort, int? top)
    {
        var chosen = trials.Where(t => status is null || t.Status == status);
        chosen = (sort ?? "id") switch
        {
            "id" => chosen.OrderBy(t => t.TrialId),
            "reward" => chosen.OrderByDescending(t => t.Reward.HasValue).ThenByDescending(t => t.Reward).ThenBy(t => t.TrialId),
            _ => throw new UsageException($"--sort: '{sort}' is not one of id, reward"),
        };
        if (top is { } n)
        {
            if (n < 1) throw new UsageException("--top: N >= 1");
            chosen = chosen.Take(n);
        }
        return chosen.ToList();
    }

    /// <summary>The best pattern's trial: the completed pattern trial (not a baseline) with the highest reward, the earliest on a tie.</summary>
    public static TrialView? Best(SearchDetails details) =>
        details.Trials.Where(t => t.Status == TrialStatus.Completed && t.Reward is not null && t.Baseline is null)
            .OrderByDescending(t => t.Reward).ThenBy(t => t.TrialId).FirstOrDefault();

    public static string Json(TrialView trial) => JsonSerializer.Serialize(trial, MessageJsonContext.Default.TrialView);

    public static string JsonArray(IEnumerable<TrialView> trials) => "[" + string.Join(",", trials.Select(Json)) + "]";

    /// <summary>One line for `search tail`: the trial as it landed and the search's running count.</summary>
    public static string TailLine(DateTime time, TrialView t, SearchSummary s) =>
        $"[{time.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] trial {t.TrialId} {t.Status.Name()}"
        + (t.Status == TrialStatus.Completed ? $" reward {SearchCommands.Format(t.Reward)}" : $" ({SearchCommands.Why(t)})")
        + $" ({s.Completed}/{s.Trials} completed, {s.Failed} failed, {s.Running} running) {t.PatternCompact}";

    public static readonly string[] CsvColumns =
    [
        "trial", "status", "reward", "policy_version", "staleness", "trainer", "baseline", "validation_accuracy", "train_accuracy",
        "final_train_loss", "validation_perplexity", "images_per_second", "wall_seconds", "steps", "failure_reason", "failure_message",
        "pattern_hash", "pattern",
    ];

    /// <summary>Every trial as CSV (RFC 4180, invariant numbers), one row per trial in id order.</summary>
    public static string Csv(IEnumerable<TrialView> trials)
    {
        var csv = new StringBuilder();
        csv.Append(string.Join(",", CsvColumns)).Append('\n');
        foreach (var t in trials.OrderBy(t => t.TrialId))
        {
            var m = t.Metrics;
            string?[] cells =
            [
                Number(t.TrialId), t.Status.Name(), Number(t.Reward), Number(t.PolicyVersion), Number(t.Staleness), t.Trainer, t.Baseline,
                Number(m?.ValidationAccuracy), Number(m?.TrainAccuracy), Number(m?.FinalTrainLoss), Number(m?.ValidationPerplexity),
                Number(m?.ImagesPerSecond), Number(m?.WallSeconds), Number(m?.Steps), t.FailureReason?.Name(), t.FailureMessage,
                t.PatternHash, t.PatternCompact,
            ];
            csv.Append(string.Join(",", cells.Select(Cell))).Append('\n');
        }
        return csv.ToString();
    }

    private static string? Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Cell(string? value) =>
        value is null ? "" : value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}

using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>What operators see of a search: read models built from its state.</summary>
public static class SearchViews
{
    public static SearchSummary Summary(SearchState state) =>
        new(state.Spec.Name, state.Status, state.TotalTrials, state.Completed, state.Failed, state.Running, state.PolicyVersion,
            state.Best?.Reward, state.Best?.Pattern.Hash(), PauseReason: state.Status == SearchStatus.Paused ? state.PauseReason : null);

    /// <param name="progress">The latest progress report per running trial, kept in memory by the controller.</param>
    public static IReadOnlyList<TrialView> Trials(SearchState state, IReadOnlyDictionary<int, TrialProgress>? progress = null,
        int from = 0, int? limit = null) =>
        state.Trials.Values.Skip(from).Take(limit ?? int.MaxValue).Select(t => new TrialView(t.Id, t.Status, t.Pattern.ToCompact(), t.Pattern.Hash(), t.PolicyVersion,
            t.Reward, t.Status == TrialStatus.Proposed ? null : t.Trainer, t.FailureReason, t.Metrics, t.LearnedAtVersion - 1 - t.PolicyVersion,
            t.Status == TrialStatus.Leased && progress is not null && progress.TryGetValue(t.Id, out var p) && p.TrainerId == t.Trainer && p.Steps > 0 ? p : null,
            (t.Pattern as BaselinePattern)?.Baseline.ToString(),
            t.Status == TrialStatus.Failed && !string.IsNullOrEmpty(t.FailureMessage) ? t.FailureMessage : null)).ToArray();

    /// <summary>A search with its trials from <paramref name="from"/> on (at most <paramref name="limit"/>, all when null).</summary>
    public static SearchDetails Details(SearchModel model, IReadOnlyDictionary<int, TrialProgress>? progress = null, int from = 0, int? limit = null)
    {
        var state = model.State!;
        return new(Summary(state), state.Spec, Trials(state, progress, Math.Max(0, from), limit), state.Best?.Pattern, model.Policy!.Baseline,
            model.Policy.StateHash(), state.Updates, Math.Max(0, from), state.Trials.Count);
    }

    /// <summary>A log line for an event worth one, or null.</summary>
    public static string? Describe(ISearchEvent e) => e switch
    {
        SearchCreated c => $"created: {c.Spec.Trials} trials of {c.Spec.Target}",
        TrialCompleted c => $"trial {c.TrialId} completed with reward {c.Reward:0.0000}",
        TrialFailed f => $"trial {f.TrialId} failed ({f.Reason.Name()}): {f.Message}",
        TrialRequeued r => $"trial {r.TrialId} requeued ({r.Cause}): {r.Detail}",
        PolicyUpdated u => $"policy updated to version {u.Version} on trials [{string.Join(", ", u.TrialIds)}]",
        SearchPaused { Reason: { } reason } => $"paused itself: {reason}",
        _ => null,
    };
}

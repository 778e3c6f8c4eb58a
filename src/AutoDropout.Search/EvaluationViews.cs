using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>What operators see of an evaluation: its table, computed from the trials' results.</summary>
public static class EvaluationViews
{
    public static EvaluationSummary Summary(EvaluationState state) =>
        new(state.Spec.Name, state.Spec.Search, state.Status, state.Trials.Count, state.Completed, state.Failed, state.Leased.Count);

    public static EvaluationDetails Details(EvaluationState state)
    {
        var spec = state.Spec;
        bool perplexity = spec.IsLanguageModel;
        var rows = spec.Candidates.Select((candidate, c) =>
        {
            var runs = spec.Seeds.Select((seed, s) =>
            {
                var trial = state.Trials[c * spec.Seeds.Count + s + 1];
                double? score = trial.Status != TrialStatus.Completed ? null
                    : perplexity ? trial.Metrics?.ValidationPerplexity : trial.Metrics?.ValidationAccuracy ?? trial.Reward;
                return new EvaluationRun(trial.Id, seed, trial.Status, score, trial.Status == TrialStatus.Proposed ? null : trial.Trainer, trial.Metrics, trial.FailureReason);
            }).ToArray();
            var (mean, std) = MeanAndStandardDeviation(runs.Where(r => r.Score is not null).Select(r => r.Score!.Value).ToArray());
            return new EvaluationRow(candidate.Label, candidate.Regulariser.ToCompact(), candidate.SearchTrialId, candidate.SearchReward, runs, mean, std);
        }).ToArray();
        return new EvaluationDetails(Summary(state), spec, perplexity ? "test perplexity" : "test accuracy", !perplexity, rows);
    }

    /// <summary>The mean and the sample standard deviation (n - 1); null where there are too few values.</summary>
    public static (double? Mean, double? StandardDeviation) MeanAndStandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (null, null);
        double mean = values.Average();
        if (values.Count == 1) return (mean, null);
        return (mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)));
    }
}

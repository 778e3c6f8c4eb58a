using System.Text.Json.Serialization;
using AutoDropout.Core;

namespace AutoDropout.Messages;

/// <summary>
/// An evaluation job: the winners of a search and hand-made baselines retrained on the whole training split, every
/// one with the same seeds, and scored on the test split. Persisted with the job, so it is versioned with the events.
/// </summary>
/// <param name="Name">Unique among searches and evaluations (letters, digits, '-', '_').</param>
/// <param name="Search">The search whose patterns are evaluated.</param>
/// <param name="Target">The network the candidates train; may be larger than the searched one (patterns are mapped).</param>
/// <param name="Candidates">What is compared: the search's top patterns, then the baselines.</param>
/// <param name="Seeds">Every candidate trains once per seed; a seed gives every candidate the same initial weights and
/// batch order, so candidates are compared seed by seed.</param>
/// <param name="LeaseSeconds">How long a trainer may hold one evaluation trial before it is requeued.</param>
/// <param name="SearchedTarget">The network the search ran on, when it differs from <paramref name="Target"/>.</param>
public sealed record EvaluationSpec(
    string Name,
    string Search,
    string Target,
    string? Dataset,
    string? DataDirectory,
    TrialBudget Budget,
    int BatchSize,
    double LearningRate,
    IReadOnlyList<EvaluationCandidate> Candidates,
    IReadOnlyList<long> Seeds,
    OptimizerSettings? Optimizer = null,
    TextOptions? Text = null,
    int LeaseSeconds = 7200,
    string? SearchedTarget = null)
{
    [JsonIgnore] public int TrialCount => Candidates.Count * Seeds.Count;

    [JsonIgnore] public bool IsLanguageModel => LanguageModelSpec.IsLanguageModelName(Target);

    /// <summary>Trial ids run candidate by candidate, seed by seed, from 1.</summary>
    public (int Candidate, int Seed) Locate(int trialId) => ((trialId - 1) / Seeds.Count, (trialId - 1) % Seeds.Count);
}

/// <param name="Label">How tables name it: "pattern #12" (trial 12 of the search) or the baseline ("dropout:0.3").</param>
/// <param name="Regulariser">A pattern of the target's space, or a <see cref="BaselinePattern"/>.</param>
/// <param name="SearchTrialId">The search trial that found the pattern; null for a baseline.</param>
/// <param name="SearchReward">That trial's reward in the search.</param>
public sealed record EvaluationCandidate(string Label, DropoutPattern Regulariser, int? SearchTrialId = null, double? SearchReward = null);

/// <summary>Event of an evaluation job's journal; its trials then move with <see cref="TrialLeased"/>,
/// <see cref="TrialCompleted"/>, <see cref="TrialFailed"/> and <see cref="TrialRequeued"/>, as a search's do.</summary>
public sealed record EvaluationCreated(EvaluationSpec Spec) : ISearchEvent;

/// <summary>Event of the registry: an evaluation job exists, so it is brought back after a restart.</summary>
public sealed record EvaluationRegistered(string Name) : IAutoDropoutMessage;

/// <summary>What an operator asks for; the controller turns it into an <see cref="EvaluationSpec"/> from the search.</summary>
/// <param name="Name">null: "SEARCH-eval", or "SEARCH-eval-2" and on when taken.</param>
/// <param name="Top">How many of the search's best distinct patterns (by validation reward) to retrain.</param>
/// <param name="Seeds">How many seeds each candidate trains with.</param>
/// <param name="Baselines">Hand-made regularisers to compare with; null for the default grid of the target's family.</param>
/// <param name="Target">null: the searched target.</param>
/// <param name="Epochs">The final budget in passes over the training split; null with <paramref name="Steps"/> null: the search's budget.</param>
public sealed record EvaluationRequest(
    string Search,
    string? Name = null,
    int Top = 3,
    int Seeds = 3,
    IReadOnlyList<string>? Baselines = null,
    string? Target = null,
    double? Epochs = null,
    int? Steps = null,
    int? LeaseSeconds = null);

public sealed record StartEvaluation(EvaluationRequest Request) : IAutoDropoutMessage;

public sealed record GetEvaluation(string Name) : IAutoDropoutMessage;

public sealed record ListEvaluations : IAutoDropoutMessage;

/// <param name="Problem">Why a broken or unavailable job cannot say more; null otherwise.</param>
public sealed record EvaluationSummary(string Name, string Search, SearchStatus Status, int Trials, int Completed, int Failed, int Running,
    string? Problem = null);

public sealed record EvaluationList(IReadOnlyList<EvaluationSummary> Evaluations) : IAutoDropoutMessage;

/// <param name="Score">Test accuracy, or test perplexity for a language model.</param>
public sealed record EvaluationRun(int TrialId, long Seed, TrialStatus Status, double? Score, string? Trainer,
    TrialMetricsReport? Metrics, FailureReason? FailureReason);

/// <summary>One candidate's runs and their mean and sample standard deviation (over completed runs).</summary>
public sealed record EvaluationRow(string Label, string Regulariser, int? SearchTrialId, double? SearchReward,
    IReadOnlyList<EvaluationRun> Runs, double? Mean, double? StandardDeviation);

/// <param name="Metric">"test accuracy" (higher is better) or "test perplexity" (lower is better).</param>
public sealed record EvaluationDetails(EvaluationSummary Summary, EvaluationSpec Spec, string Metric, bool HigherIsBetter,
    IReadOnlyList<EvaluationRow> Rows) : IAutoDropoutMessage;

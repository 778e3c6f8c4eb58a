using System.Text.Json.Serialization;

namespace AutoDropout.Core;

/// <summary>
/// Everything that defines one trial, whoever runs it: a trainer for a search, `evaluate`, a benchmark. Training
/// turns it into a runnable plan in one place, so the same spec trains the same way everywhere.
/// </summary>
/// <param name="Target">"cnn" or "wrn-D-K" (an image classifier); "lm-L-W-H" (a language model).</param>
/// <param name="Dataset">The image dataset the trial must find at <paramref name="DataDirectory"/> ("fashion-mnist",
/// "cifar-10"), so the rewards of one search come from one dataset; null: whatever the directory holds.</param>
/// <param name="DataDirectory">Where the data is; null: the system Fashion-MNIST copy if present, else the bundled
/// subset. Language models need a directory with a word-level corpus.</param>
/// <param name="Regulariser">What goes at the mask sites: a pattern of the target's space, or a
/// <see cref="BaselinePattern"/> (a hand-made regulariser, or none).</param>
/// <param name="ValidationFraction">Share of the training images held out to score the trial.</param>
/// <param name="SplitSeed">Seeds the validation split; the same for every trial of a search.</param>
/// <param name="TrialSeed">Seeds the target's weights, batch order, augmentation and mask offsets.</param>
/// <param name="Optimizer">null: Adam with a constant rate.</param>
/// <param name="Text">Language models only; null: the defaults.</param>
/// <param name="ScoreOnTest">Score on the test split instead of the held-out validation split (evaluation only).</param>
public sealed record TrialSpec(
    string Target,
    string? Dataset,
    string? DataDirectory,
    TrialBudget Budget,
    int BatchSize,
    double LearningRate,
    DropoutPattern Regulariser,
    double ValidationFraction,
    int SplitSeed,
    long TrialSeed,
    OptimizerSettings? Optimizer = null,
    TextOptions? Text = null,
    bool ScoreOnTest = false)
{
    [JsonIgnore] public bool IsLanguageModel => LanguageModelSpec.IsLanguageModelName(Target);

    [JsonIgnore] public TextOptions TextOrDefault => Text ?? new TextOptions();
}

/// <summary>How long a trial trains: a number of optimiser steps, or passes over the training data.</summary>
/// <param name="Epochs">When set, it wins over <paramref name="Steps"/>: each runner turns it into steps for the data
/// it holds.</param>
public sealed record TrialBudget(int Steps, double? Epochs = null)
{
    /// <param name="examples">Training examples in one pass: images, or windows of context tokens of one row.</param>
    public int StepsFor(long examples, int batchSize) =>
        Epochs is { } epochs ? TrainingBudget.StepsFor(epochs, examples, batchSize) : Steps;
}

using System.Text.Json.Serialization;
using AutoDropout.Core;

namespace AutoDropout.Messages;

/// <summary>Everything that defines a search. Persisted with the search, so it is versioned with the events.</summary>
/// <param name="Name">Unique name of the search (letters, digits, '-', '_').</param>
/// <param name="Target">"cnn" or "wrn-D-K" (conv space); "lm-L-W-H" (transformer space).</param>
/// <param name="Dataset">"fashion-mnist" (IDX files; MNIST works too) or "cifar-10" for images; "text" (a
/// word-level corpus such as PTB or WikiText in <paramref name="DataDirectory"/>) for language models.</param>
/// <param name="DataDirectory">Where trainers read the data; null: the system copy if present, else the bundled subset.</param>
/// <param name="Trials">How many patterns to train and score.</param>
/// <param name="TrainSteps">Training budget of one trial, in optimiser steps (unless <paramref name="TrainEpochs"/> is set).</param>
/// <param name="BatchSize">Training batch size.</param>
/// <param name="LearningRate">Initial learning rate of the target network's optimiser.</param>
/// <param name="Seed">Seeds the policy, every trial and the validation split.</param>
/// <param name="PolicyBatch">Results per REINFORCE update.</param>
/// <param name="ValidationFraction">Share of the training set held out to compute rewards.</param>
/// <param name="LeaseSeconds">How long a trainer may hold a trial before it is requeued.</param>
/// <param name="Space">The search space: "conv" (8 tokens per ConvNet mask site) or "transformer" (4 per sub-layer).</param>
/// <param name="Grid">The ConvNet space's value grids; null for <see cref="ConvSearchSpace.Default"/>.</param>
/// <param name="Optimizer">How trials optimise the target; null for Adam with a constant rate.</param>
/// <param name="TransformerGrid">The Transformer space's value grids; null for <see cref="TransformerSearchSpace.Default"/>.</param>
/// <param name="Text">Language-model settings (context length, reward scale); null for the defaults.</param>
/// <param name="Baselines">Hand-made regularisers ("dropout:0.1", "dropblock:3:0.9", ...) to train as reference trials
/// before the patterns, with the same budget; the policy does not learn from them.</param>
/// <param name="TrainEpochs">Training budget in passes over the training split instead of steps; each trainer turns
/// it into steps for the data it holds.</param>
public sealed record SearchSpec(
    string Name,
    string Target = TargetSpec.Cnn,
    string Dataset = SearchSpec.FashionMnist,
    string? DataDirectory = null,
    int Trials = 12,
    int TrainSteps = 80,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    long Seed = 1,
    int PolicyBatch = 8,
    double ValidationFraction = 0.1,
    int LeaseSeconds = 600,
    PolicyOptions? Policy = null,
    string Space = SearchSpec.ConvSpace,
    ConvSearchSpace? Grid = null,
    OptimizerSettings? Optimizer = null,
    TransformerSearchSpace? TransformerGrid = null,
    TextOptions? Text = null,
    double? TrainEpochs = null,
    IReadOnlyList<string>? Baselines = null)
{
    public const string FashionMnist = "fashion-mnist";
    public const string ConvSpace = "conv";
    public const string TransformerSpace = "transformer";
    public const string CifarTen = "cifar-10";
    public const string TextDataset = "text";

    /// <summary>Limits of a new search (docs/operations.md says why each is where it is). They are checked when a
    /// search starts, never on replay: a search persisted before a limit existed still loads.</summary>
    public const int MaxTrials = 100_000, MaxTrainSteps = 1_000_000, MaxBatchSize = 8192, MaxPolicyBatch = 1024,
        MaxLeaseSeconds = 7 * 24 * 3600, MaxBaselines = 100;

    public const double MaxTrainEpochs = 1000;

    [JsonIgnore]
    public bool IsTransformer => Space == TransformerSpace;

    /// <summary>The space the policy writes in, with this spec's grids.</summary>
    [JsonIgnore]
    public IPatternSpace PatternSpace => IsTransformer ? TransformerGrid ?? TransformerSearchSpace.Default : GridOrDefault;

    /// <summary>How many mask sites the target has, so how many groups of tokens a pattern has.</summary>
    [JsonIgnore]
    public int MaskSites => IsTransformer ? LanguageModelSpec.Parse(Target).MaskSites : TargetSpec.Parse(Target).MaskSites;

    [JsonIgnore]
    public TextOptions TextOrDefault => Text ?? new TextOptions();

    [JsonIgnore]
    public int BaselineCount => Baselines?.Count ?? 0;

    [JsonIgnore]
    public PolicyOptions PolicyOrDefault => Policy ?? new PolicyOptions();

    [JsonIgnore]
    public ConvSearchSpace GridOrDefault => Grid ?? ConvSearchSpace.Default;

    /// <summary>Rejects a bad spec with a message that names the field, before anything is persisted.</summary>
    public void Validate()
    {
        // JSON may say null where the record does not allow it
        if (Target is null) throw new ArgumentException("target: required");
        if (Dataset is null) throw new ArgumentException("dataset: required");
        if (Space is null) throw new ArgumentException("space: required");
        if (string.IsNullOrWhiteSpace(Name) || !Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') || Name.Length > 64)
            throw new ArgumentException("name: 1-64 characters of letters, digits, '-' or '_'");
        // a search's journal is "search-NAME", and the registry of searches keeps its own as "search-registry"
        if (Name == "registry") throw new ArgumentException("name: 'registry' is reserved for the controller's registry of searches");
        if (Space is not (ConvSpace or TransformerSpace))
            throw new ArgumentException($"space: unknown search space '{Space}' (known: {ConvSpace}, {TransformerSpace})");
        try
        {
            if (IsTransformer) LanguageModelSpec.Parse(Target).CheckLimits();
            else TargetSpec.Parse(Target).CheckLimits();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"target: {e.Message}{(IsTransformer ? "" : LanguageModelSpec.IsLanguageModelName(Target) ? " (language models search the transformer space)" : "")}");
        }
        if (IsTransformer)
        {
            if (Dataset != TextDataset) throw new ArgumentException($"dataset: a Transformer search trains on '{TextDataset}', not '{Dataset}'");
            if (DataDirectory is null) throw new ArgumentException("data_directory: a language-model search needs a directory with a text corpus (e.g. PTB)");
            TextOrDefault.Validate();
        }
        else if (Dataset is not (FashionMnist or CifarTen))
            throw new ArgumentException($"dataset: unknown image dataset '{Dataset}' (known: {FashionMnist}, {CifarTen})");
        if (Trials is <= 0 or > MaxTrials) throw new ArgumentException($"trials: from 1 to {MaxTrials}");
        if (TrainSteps is <= 0 or > MaxTrainSteps) throw new ArgumentException($"train_steps: from 1 to {MaxTrainSteps}");
        if (TrainEpochs is { } epochs && (!(epochs > 0) || !(epochs <= MaxTrainEpochs)))
            throw new ArgumentException($"train_epochs: must be positive and at most {MaxTrainEpochs}");
        if (BatchSize is <= 0 or > MaxBatchSize) throw new ArgumentException($"batch_size: from 1 to {MaxBatchSize}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException("learning_rate: must be positive");
        if (PolicyBatch is <= 0 or > MaxPolicyBatch) throw new ArgumentException($"policy_batch: from 1 to {MaxPolicyBatch}");
        if (!(ValidationFraction is > 0 and < 1)) throw new ArgumentException("validation_fraction: must be in (0, 1)");
        if (LeaseSeconds is <= 0 or > MaxLeaseSeconds) throw new ArgumentException($"lease_seconds: from 1 to {MaxLeaseSeconds} (7 days)");
        Grid?.Validate();
        TransformerGrid?.Validate();
        if (BaselineCount > MaxBaselines) throw new ArgumentException($"baselines: at most {MaxBaselines}");
        foreach (var baseline in Baselines ?? [])
        {
            if (baseline is null) throw new ArgumentException("baselines: an entry is null");
            BaselineSpec parsed;
            try { (parsed = BaselineSpec.Parse(baseline)).CheckLimits(); }
            catch (ArgumentException e) { throw new ArgumentException($"baselines: {e.Message}"); }
            if (IsTransformer && !parsed.FitsLanguageModels)
                throw new ArgumentException($"baselines: a language model takes dropout:P or none, not '{baseline}'");
        }
        Optimizer?.Validate();
        try { PolicyOrDefault.Validate(); }
        catch (ArgumentException e) { throw new ArgumentException(e.Message); }
    }
}

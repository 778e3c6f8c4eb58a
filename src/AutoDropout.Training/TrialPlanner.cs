using AutoDropout.Core;
using AutoDropout.Torch;

namespace AutoDropout.Training;

/// <summary>The data a trial trains and is scored on, on a device; loaded once and shared by trials that agree on it.</summary>
public abstract class TrialData : IDisposable
{
    /// <summary>Where the data came from, for people (a directory, or the bundled subset).</summary>
    public abstract string Source { get; }

    public abstract void Dispose();
}

/// <summary>Normalised images and what augments them (chosen by the dataset; none for benchmarks).</summary>
public sealed class ImageTrialData(PreparedData prepared, string dataset, string source, AugmentationOptions augmentation) : TrialData
{
    public PreparedData Prepared { get; } = prepared;
    public string Dataset { get; } = dataset;
    public override string Source { get; } = source;
    public AugmentationOptions Augmentation { get; } = augmentation;

    public override void Dispose() => Prepared.Dispose();
}

/// <summary>A tokenised corpus: the training stream and the held-out stream that scores.</summary>
public sealed class TextTrialData(TokenStreams streams, string source) : TrialData
{
    public TokenStreams Streams { get; } = streams;
    public override string Source { get; } = source;

    public override void Dispose() => Streams.Dispose();
}

/// <summary>A trial ready to train: its target family (with the data) and its plan.</summary>
public sealed record RunnableTrial(ITrialFamily Family, TrialPlan Plan)
{
    public TrialOutcome Run(CancellationToken cancel, Action<int, double>? progress = null) => TrialLoop.Run(Family, Plan, cancel, progress);
}

/// <summary>
/// The one place a <see cref="TrialSpec"/> becomes data on a device and a runnable trial: the trainer, `evaluate` and
/// the benchmarks all go through here.
/// </summary>
public static class TrialPlanner
{
    /// <summary>Specs with the same key can share loaded data.</summary>
    public static string DataKey(TrialSpec spec) => spec.IsLanguageModel
        ? $"text|{spec.DataDirectory}|{spec.ScoreOnTest}"
        : $"{spec.Dataset}|{spec.DataDirectory}|{spec.ValidationFraction}|{spec.SplitSeed}|{spec.ScoreOnTest}";

    /// <summary>Loads what <paramref name="spec"/> trains on onto <paramref name="device"/>.</summary>
    /// <exception cref="InvalidDataException">The directory holds another dataset than the spec names.</exception>
    public static TrialData LoadData(TrialSpec spec, DeviceChoice choice)
    {
        var device = choice.Device;
        if (spec.IsLanguageModel)
        {
            var directory = spec.DataDirectory ?? throw new ArgumentException("a language-model trial needs a data directory with a text corpus");
            var corpus = TextCorpus.Load(directory);
            var scored = spec.ScoreOnTest ? corpus.Test ?? throw new ArgumentException($"{directory} has no test file") : corpus.Validation;
            return new TextTrialData(TokenStreams.FromIds(corpus.Train, scored, corpus.Vocabulary.Count, device), directory);
        }
        var dataset = ImageDatasets.Load(spec.DataDirectory);
        // rewards of one search must come from one dataset, whatever each trainer finds at the path
        if (spec.Dataset is not null && dataset.Name != spec.Dataset)
            throw new InvalidDataException($"the search trains on {spec.Dataset}, but {dataset.Source} holds {dataset.Name}");
        // an evaluation scored on the test split trains on the whole training split (validation fraction 0)
        var (train, validation) = spec is { ScoreOnTest: true, ValidationFraction: 0 }
            ? (dataset.Train, dataset.Test)
            : dataset.Train.SplitValidation(spec.ValidationFraction, spec.SplitSeed);
        return new ImageTrialData(new PreparedData(train, spec.ScoreOnTest ? dataset.Test : validation, device),
            dataset.Name, dataset.Source, AugmentationOptions.ForDataset(dataset.Name));
    }

    /// <summary>
    /// The target family and plan of <paramref name="spec"/> on loaded data: the budget in steps for this data, the
    /// regulariser checked against the target's family.
    /// </summary>
    public static RunnableTrial Plan(TrialSpec spec, TrialData data)
    {
        var regulariser = spec.Regulariser;
        if (spec.IsLanguageModel)
        {
            var text = data as TextTrialData ?? throw new ArgumentException($"{spec.Target} trains on a text corpus, not on images");
            var model = LanguageModelSpec.Parse(spec.Target);
            var options = spec.TextOrDefault;
            if (regulariser is BaselinePattern { Baseline: var baseline } && !baseline.FitsLanguageModels)
                throw new ArgumentException($"a language model takes the baseline dropout:P or none, not {baseline}");
            if (regulariser is not (null or BaselinePattern or TransformerPattern))
                throw new ArgumentException($"{model.Name} takes Transformer patterns, not {regulariser.Space} patterns");
            int steps = spec.Budget.StepsFor(text.Streams.Train.shape[0] / options.Context, spec.BatchSize);
            return new RunnableTrial(new LanguageModelTrial(text.Streams, model, options.Context, options.RewardScale),
                new TrialPlan(steps, spec.BatchSize, spec.LearningRate, spec.TrialSeed, regulariser, spec.Optimizer));
        }
        var images = data as ImageTrialData ?? throw new ArgumentException($"{spec.Target} trains on images, not on a text corpus");
        var target = TargetSpec.Parse(spec.Target);
        if (regulariser is not (null or BaselinePattern or ConvPattern))
            throw new ArgumentException($"{target.Name} takes ConvNet patterns, not {regulariser.Space} patterns");
        return new RunnableTrial(new ImageClassifierTrial(images.Prepared, target, images.Augmentation),
            new TrialPlan(spec.Budget.StepsFor(images.Prepared.TrainCount, spec.BatchSize), spec.BatchSize, spec.LearningRate,
                spec.TrialSeed, regulariser, spec.Optimizer));
    }
}

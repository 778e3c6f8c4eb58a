using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>
/// Image classification: a ConvNet target on prepared images, shuffled batches (augmented when asked), cross-entropy,
/// scored by validation accuracy; the accuracy on a fixed sample of the (unaugmented) training images is reported too.
/// </summary>
/// <param name="Augmentation">Applied to every training batch, never at evaluation; null: none.</param>
public sealed class ImageClassifierTrial(PreparedData data, TargetSpec target, AugmentationOptions? augmentation = null) : ITrialFamily
{
    public const int DefaultEvalBatchSize = 500;

    /// <summary>The most training images the train accuracy is measured on, so it costs at most this many forward passes.</summary>
    public const int MaxTrainSample = 2_000;

    // its own generator with a fixed seed: every trial on the same data scores the same images, and the trial's
    // generators (masks, batch order, augmentation) are not touched, so rewards stay what they were
    private const int TrainSampleSeed = 20_210_101;

    public PreparedData Data { get; } = data;
    public TargetSpec Target { get; } = target;

    public ITrialSession Start(TrialPlan plan) => new Session(this, plan, augmentation is { IsNone: false } a ? a : null);

    /// <summary>Top-1 accuracy with masks off (eval mode).</summary>
    public static double Evaluate(MaskedTarget model, (Tensor Images, Tensor Labels) set, int batchSize)
    {
        model.eval();
        long correct = 0, total = set.Images.shape[0];
        using var noGrad = no_grad();
        for (long start = 0; start < total; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(batchSize, total - start);
            var logits = model.call(set.Images.narrow(0, start, length));
            correct += logits.argmax(1).eq(set.Labels.narrow(0, start, length)).sum().item<long>();
        }
        return total == 0 ? 0 : (double)correct / total;
    }

    /// <summary>
    /// Which training images the train accuracy is measured on: as many as the validation split has, at most
    /// <see cref="MaxTrainSample"/>, drawn without replacement with a fixed seed and sorted; all of them when the
    /// training split is no larger.
    /// </summary>
    public static long[] TrainSample(long trainCount, long validationCount)
    {
        var all = Enumerable.Range(0, (int)trainCount).Select(i => (long)i).ToArray();
        long count = Math.Min(Math.Min(validationCount, MaxTrainSample), trainCount);
        if (count == trainCount) return all;
        new Random(TrainSampleSeed).Shuffle(all);
        var sample = all[..(int)count];
        Array.Sort(sample);
        return sample;
    }

    /// <summary>Top-1 accuracy, masks off, on the training images <see cref="TrainSample"/> picks.</summary>
    public static double TrainAccuracy(MaskedTarget model, PreparedData data, int batchSize)
    {
        using var index = tensor(TrainSample(data.TrainCount, data.Validation.Images.shape[0]), device: data.Device);
        using var images = data.Train.Images.index_select(0, index);
        using var labels = data.Train.Labels.index_select(0, index);
        return Evaluate(model, (images, labels), batchSize);
    }

    private sealed class Session : ITrialSession
    {
        private readonly PreparedData _data;
        private readonly int _batchSize;
        private readonly MaskedTarget _model;
        private readonly Generator _masks;
        private readonly AugmentationOptions? _augmentation;
        private readonly Generator? _augmentations;
        private readonly Random _order;
        private int[] _permutation = [];
        private int _cursor;

        public Session(ImageClassifierTrial family, TrialPlan plan, AugmentationOptions? augmentation)
        {
            _data = family.Data;
            _batchSize = plan.BatchSize;
            _model = TorchRuntime.Seeded(plan.Seed, () => MaskedTarget.Build(family.Target, _data.InputChannels, _data.Classes));
            _model.to(_data.Device);
            _masks = new Generator((ulong)plan.Seed, _data.Device);
            switch (plan.Regulariser)
            {
                case BaselinePattern baseline: _model.ApplyBaseline(baseline.Baseline, _masks); break;
                case ConvPattern pattern: _model.ApplyPattern(pattern, _masks); break;
                case null: _model.ApplyPattern(null, _masks); break;
                case var other: throw new ArgumentException($"{family.Target.Name} takes ConvNet patterns, not {other.Space} patterns");
            }
            _augmentation = augmentation;
            // a generator of its own, seeded Seed + 1, so turning augmentation on leaves the masks' draws unchanged
            _augmentations = augmentation is null ? null : new Generator(unchecked((ulong)plan.Seed + 1), _data.Device);
            _order = new Random(unchecked((int)plan.Seed));
        }

        public nn.Module Model => _model;

        public long ItemsPerStep => _batchSize;

        public void BeforeStep(int step, int steps)
        {
            if (_cursor + _batchSize > _permutation.Length)
            {
                _permutation = Enumerable.Range(0, (int)_data.TrainCount).ToArray();
                _order.Shuffle(_permutation);
                _cursor = 0;
            }
            _model.SetTrainingProgress((double)step / steps);
        }

        public Tensor Loss()
        {
            var index = tensor(_permutation.AsSpan(_cursor, _batchSize).ToArray().Select(i => (long)i).ToArray(), device: _data.Device);
            _cursor += _batchSize;
            var x = _data.Train.Images.index_select(0, index);
            if (_augmentation is not null && _augmentations is not null) x = Augmentation.Apply(x, _augmentation, _augmentations);
            var y = _data.Train.Labels.index_select(0, index);
            return F.cross_entropy(_model.call(x), y);
        }

        public void AfterStep() { }

        public TrialScores Evaluate(int? batchSize)
        {
            double accuracy = ImageClassifierTrial.Evaluate(_model, _data.Validation, batchSize ?? DefaultEvalBatchSize);
            double train = TrainAccuracy(_model, _data, batchSize ?? DefaultEvalBatchSize);
            _model.ApplyPattern(null, null);
            return new TrialScores(accuracy, accuracy, TrainAccuracy: train);
        }

        public void Dispose()
        {
            _model.Dispose();
            _masks.Dispose();
            _augmentations?.Dispose();
        }
    }
}

using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>
/// Image classification: a ConvNet target on prepared images, shuffled batches (augmented when asked), cross-entropy,
/// scored by validation accuracy.
/// </summary>
/// <param name="Augmentation">Applied to every training batch, never at evaluation; null: none.</param>
public sealed class ImageClassifierTrial(PreparedData data, TargetSpec target, AugmentationOptions? augmentation = null) : ITrialFamily
{
    public const int DefaultEvalBatchSize = 500;

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
            _model.ApplyPattern(null, null);
            return new TrialScores(accuracy, accuracy);
        }

        public void Dispose()
        {
            _model.Dispose();
            _masks.Dispose();
            _augmentations?.Dispose();
        }
    }
}

using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>Token streams on a device: the training stream and the held-out validation stream (1-D int64).</summary>
public sealed class TokenStreams(Tensor train, Tensor validation, int vocabulary) : IDisposable
{
    public Tensor Train { get; } = train;
    public Tensor Validation { get; } = validation;
    public int Vocabulary { get; } = vocabulary;

    public static TokenStreams FromIds(long[] train, long[] validation, int vocabulary, Device device) =>
        new(tensor(train, device: device), tensor(validation, device: device), vocabulary);

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
    }
}

/// <summary>
/// Language modelling: a <see cref="TransformerLm"/> on contiguous windows of the training stream, next-token
/// cross-entropy, scored by validation perplexity (reward = c / perplexity); next-token accuracy is reported on the
/// validation stream and on an equal slice of the training stream.
/// </summary>
/// <param name="Context">Tokens per training window (truncated back-propagation length).</param>
/// <param name="RewardScale">c in reward = c / validation perplexity (see docs/patterns.md).</param>
public sealed class LanguageModelTrial(TokenStreams data, LanguageModelSpec model, int context, double rewardScale = 1.0) : ITrialFamily
{
    public const int DefaultEvalBatchSize = 16;

    public TokenStreams Data { get; } = data;
    public LanguageModelSpec Model { get; } = model;
    public int Context { get; } = context;
    public double RewardScale { get; } = rewardScale;

    public static double Reward(double perplexity, double scale) => scale / perplexity;

    public ITrialSession Start(TrialPlan plan) => new Session(this, plan);

    private sealed class Session : ITrialSession
    {
        private readonly LanguageModelTrial _family;
        private readonly TransformerLm _model;
        private readonly Generator _masks;
        private readonly Tensor _rows;
        private readonly long _length;
        private long _position;

        public Session(LanguageModelTrial family, TrialPlan plan)
        {
            _family = family;
            var device = family.Data.Train.device;
            _model = TorchRuntime.Seeded(plan.Seed, () => new TransformerLm(family.Model, family.Data.Vocabulary, family.Context));
            _model.to(device);
            _masks = new Generator((ulong)plan.Seed, device);
            switch (plan.Regulariser)
            {
                case BaselinePattern baseline: _model.ApplyBaseline(baseline.Baseline, _masks); break;
                case TransformerPattern pattern: _model.ApplyPattern(pattern, _masks); break;
                case null: _model.ApplyPattern(null, _masks); break;
                case var other: throw new ArgumentException($"{family.Model.Name} takes Transformer patterns, not {other.Space} patterns");
            }
            _rows = Batchify(family.Data.Train, plan.BatchSize);
            _length = _rows.shape[1];
            if (_length < family.Context + 1)
                throw new ArgumentException($"the training stream is too short for {plan.BatchSize} rows of {family.Context + 1} tokens");
            ItemsPerStep = (long)plan.BatchSize * family.Context;
        }

        public nn.Module Model => _model;

        public long ItemsPerStep { get; }

        public void BeforeStep(int step, int steps)
        {
            if (_position + _family.Context + 1 > _length) _position = 0;
        }

        public Tensor Loss()
        {
            var (input, target) = Window(_rows, _position, _family.Context);
            var logits = _model.call(input);
            return F.cross_entropy(logits.reshape(-1, _family.Data.Vocabulary), target.reshape(-1));
        }

        public void AfterStep() => _position += _family.Context;

        public TrialScores Evaluate(int? batchSize)
        {
            var (validationLoss, accuracy) = LanguageModelTrial.Evaluate(_model, _family.Data.Validation, _family.Context, batchSize ?? DefaultEvalBatchSize);
            if (!double.IsFinite(validationLoss)) return new TrialScores(0, accuracy, Diverged: $"validation loss is {validationLoss}");
            double perplexity = Math.Exp(validationLoss);
            return new TrialScores(Reward(perplexity, _family.RewardScale), accuracy, perplexity,
                TrainAccuracy: TrainAccuracy(_model, _family.Data, _family.Context, batchSize ?? DefaultEvalBatchSize));
        }

        public void Dispose()
        {
            _model.Dispose();
            _masks.Dispose();
            _rows.Dispose();
        }
    }

    /// <summary>Mean next-token cross-entropy (nats) and top-1 accuracy over a whole stream, masks off.</summary>
    public static (double Loss, double Accuracy) Evaluate(TransformerLm model, Tensor stream, int context, int batchSize)
    {
        model.eval();
        using var noGrad = no_grad();
        using var rows = Batchify(stream, Math.Max(1, (int)Math.Min(batchSize, (stream.shape[0] - 1) / 2)));
        long length = rows.shape[1];
        double totalLoss = 0;
        long correct = 0, count = 0;
        for (long start = 0; start + 1 < length; start += context)
        {
            using var scope = NewDisposeScope();
            var (input, next) = Window(rows, start, context);
            var target = next.reshape(-1);
            var logits = model.call(input).reshape(target.shape[0], -1);
            totalLoss += F.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(target).sum().item<long>();
            count += target.shape[0];
        }
        model.train();
        return count == 0 ? (double.NaN, 0) : (totalLoss / count, (double)correct / count);
    }

    /// <summary>
    /// Next-token accuracy, masks off, on the start of the training stream: as many tokens as the validation stream
    /// has (all of the training stream when it is shorter), read like the validation stream.
    /// </summary>
    public static double TrainAccuracy(TransformerLm model, TokenStreams data, int context, int batchSize)
    {
        using var slice = data.Train.narrow(0, 0, Math.Min(data.Train.shape[0], data.Validation.shape[0]));
        return Evaluate(model, slice, context, batchSize).Accuracy;
    }

    /// <summary>Cuts a stream into <paramref name="rows"/> contiguous rows [rows, length / rows], dropping the tail.</summary>
    public static Tensor Batchify(Tensor stream, int rows)
    {
        if (rows <= 0) throw new ArgumentOutOfRangeException(nameof(rows), "must be positive");
        long length = stream.shape[0] / rows;
        if (length == 0) throw new ArgumentException($"a stream of {stream.shape[0]} tokens cannot fill {rows} rows");
        return stream.narrow(0, 0, length * rows).view(rows, length).clone();
    }

    /// <summary>
    /// The window of batchified rows [B, L] at position <paramref name="offset"/>: inputs [B, T] and the next tokens
    /// as targets [B, T], T = min(<paramref name="length"/>, L - 1 - offset) so the last window may be shorter.
    /// Both are views of the rows.
    /// </summary>
    public static (Tensor Input, Tensor Target) Window(Tensor rows, long offset, int length)
    {
        long available = rows.shape[1] - 1 - offset;
        if (offset < 0 || available <= 0) throw new ArgumentOutOfRangeException(nameof(offset), $"no window at {offset} in rows of {rows.shape[1]} tokens");
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), "must be positive");
        long span = Math.Min(length, available);
        return (rows.narrow(1, offset, span), rows.narrow(1, offset + 1, span));
    }
}

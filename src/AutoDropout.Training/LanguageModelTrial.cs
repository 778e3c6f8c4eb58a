using System.Diagnostics;
using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using AutoDropout.Torch;

namespace AutoDropout.Training;

/// <summary>What one language-model trial trains.</summary>
/// <param name="Context">Tokens per training window (truncated back-propagation length).</param>
/// <param name="RewardScale">c in reward = c / validation perplexity (see docs/patterns.md).</param>
/// <param name="Dropout">Standard dropout at every site instead of a pattern (the hand-made baseline), or null.</param>
public sealed record LanguageModelPlan(
    LanguageModelSpec Model, int Context, int Steps, int BatchSize, double LearningRate, long Seed,
    double RewardScale = 1.0, double? Dropout = null, int EvalBatchSize = 16, OptimizerSettings? Optimizer = null);

public sealed record LanguageModelMetrics(
    double ValidationPerplexity, double ValidationAccuracy, double Reward, double FinalTrainLoss,
    double TokensPerSecond, double WallSeconds, int Steps);

/// <summary>A language-model trial that finished; failures use <see cref="TrialOutcome.Failed"/>.</summary>
public sealed record LanguageModelCompleted(LanguageModelMetrics Metrics) : TrialOutcome;

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
/// Trains a <see cref="TransformerLm"/> with a pattern on contiguous windows of the training stream and scores it by
/// validation perplexity. Same conventions as <see cref="TrialRunner"/>: calling thread, one dispose scope a step.
/// </summary>
public static class LanguageModelTrial
{
    public static double Reward(double perplexity, double scale) => scale / perplexity;

    public static TrialOutcome Run(TokenStreams data, TransformerPattern? pattern, LanguageModelPlan plan,
        CancellationToken cancel, Action<int, double>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var model = TorchRuntime.Seeded(plan.Seed, () => new TransformerLm(plan.Model, data.Vocabulary, plan.Context));
            model.to(data.Train.device);
            using var masks = new Generator((ulong)plan.Seed, data.Train.device);
            if (plan.Dropout is { } rate) model.ApplyDropout(rate, masks);
            else model.ApplyPattern(pattern, masks);
            var settings = plan.Optimizer ?? OptimizerSettings.Default;
            using var optimizer = settings.Create(model.parameters(), plan.LearningRate);
            using var rows = Batchify(data.Train, plan.BatchSize);
            long length = rows.shape[1];
            if (length < plan.Context + 1)
                throw new ArgumentException($"the training stream is too short for {plan.BatchSize} rows of {plan.Context + 1} tokens");

            model.train();
            long position = 0, tokens = 0;
            double lastLoss = double.NaN;
            for (int step = 0; step < plan.Steps; step++)
            {
                if (cancel.IsCancellationRequested) return new TrialOutcome.Failed("cancelled", $"cancelled at step {step}");
                if (position + plan.Context + 1 > length) position = 0;
                if (settings.Schedule != OptimizerSettings.Constant)
                    optimizer.SetLearningRate(settings.LearningRateAt(plan.LearningRate, step, plan.Steps));
                using (NewDisposeScope())
                {
                    var (input, target) = Window(rows, position, plan.Context);
                    optimizer.zero_grad();
                    var logits = model.call(input);
                    var loss = F.cross_entropy(logits.reshape(-1, data.Vocabulary), target.reshape(-1));
                    lastLoss = loss.item<float>();
                    if (!double.IsFinite(lastLoss)) return new TrialOutcome.Failed("diverged", $"loss became {lastLoss} at step {step}");
                    loss.backward();
                    optimizer.step();
                }
                position += plan.Context;
                tokens += (long)plan.BatchSize * plan.Context;
                progress?.Invoke(step + 1, lastLoss);
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            var (validationLoss, accuracy) = Evaluate(model, data.Validation, plan.Context, plan.EvalBatchSize);
            if (!double.IsFinite(validationLoss)) return new TrialOutcome.Failed("diverged", $"validation loss is {validationLoss}");
            double perplexity = Math.Exp(validationLoss);
            return new LanguageModelCompleted(new LanguageModelMetrics(perplexity, accuracy, Reward(perplexity, plan.RewardScale),
                lastLoss, tokens / trainSeconds, clock.Elapsed.TotalSeconds, plan.Steps));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return TrialOutcome.FromException(e);
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

using System.Diagnostics;
using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using AutoDropout.Torch;

namespace AutoDropout.Training;

/// <summary>What one trial trains: target, budget and optimiser settings. Data comes separately.</summary>
/// <param name="Baseline">A hand-made regulariser at every site instead of a pattern (for comparisons).</param>
/// <param name="Augmentation">Applied to every training batch, never at evaluation; null: none.</param>
public sealed record TrialPlan(
    TargetSpec Target, int Steps, int BatchSize, double LearningRate, long Seed, int EvalBatchSize = 500,
    BaselineSpec? Baseline = null, OptimizerSettings? Optimizer = null, AugmentationOptions? Augmentation = null);

public sealed record TrialMetrics(
    double ValidationAccuracy, double FinalTrainLoss, double ImagesPerSecond, double WallSeconds, int Steps);

public abstract record TrialOutcome
{
    public sealed record Completed(TrialMetrics Metrics) : TrialOutcome;

    /// <param name="Reason">"diverged" (the pattern's fault), "cancelled", or "error" (the infrastructure's).</param>
    public sealed record Failed(string Reason, string Message) : TrialOutcome;

    /// <summary>A trial that threw: out of memory (torch says so in its message) or any other error.</summary>
    public static Failed FromException(Exception e) =>
        new(e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e is OutOfMemoryException ? "out-of-memory" : "error",
            e.Message);
}

/// <summary>
/// Training data prepared once per device and reused by every trial: float32 [N, C, H, W] on the device, each channel
/// normalised with the mean and standard deviation of the training images given (validation uses the same numbers,
/// so nothing about the held-out images leaks into training).
/// </summary>
public sealed class PreparedData : IDisposable
{
    public PreparedData(ImageSet train, ImageSet validation, Device device)
    {
        var (t, v) = (train.Images, validation.Images);
        if ((t.Channels, t.Rows, t.Columns) != (v.Channels, v.Rows, v.Columns))
            throw new ArgumentException($"training images are {t.Channels}x{t.Rows}x{t.Columns} but validation images are {v.Channels}x{v.Rows}x{v.Columns}");
        if (t.Count == 0) throw new ArgumentException("no training images to train on or to normalise with");
        (Mean, Std) = ChannelStatistics(t);
        Train = (ToTensor(t, Mean, Std, device), tensor(train.Labels.Select(l => (long)l).ToArray(), device: device));
        Validation = (ToTensor(v, Mean, Std, device), tensor(validation.Labels.Select(l => (long)l).ToArray(), device: device));
        InputChannels = t.Channels;
        Classes = train.Classes;
        Device = device;
    }

    public (Tensor Images, Tensor Labels) Train { get; }
    public (Tensor Images, Tensor Labels) Validation { get; }
    public int InputChannels { get; }
    public int Classes { get; }
    public Device Device { get; }
    public long TrainCount => Train.Images.shape[0];

    /// <summary>Per-channel pixel mean and standard deviation of the training images, on the 0..1 scale.</summary>
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    /// <summary>Per-channel mean and (population) standard deviation on the 0..1 scale; a constant channel gets 1.</summary>
    public static (float[] Mean, float[] Std) ChannelStatistics(IdxImages images)
    {
        int plane = images.Rows * images.Columns;
        // integer sums are exact and independent of summation order, so every device gets the same numbers
        var sums = new long[images.Channels];
        var squares = new long[images.Channels];
        for (int n = 0; n < images.Count; n++)
            for (int c = 0; c < images.Channels; c++)
            {
                long sum = 0, square = 0;
                foreach (var b in images.Pixels.AsSpan((n * images.Channels + c) * plane, plane))
                {
                    sum += b;
                    square += b * b;
                }
                sums[c] += sum;
                squares[c] += square;
            }
        double count = (double)images.Count * plane;
        var mean = new float[images.Channels];
        var std = new float[images.Channels];
        for (int c = 0; c < images.Channels; c++)
        {
            double m = sums[c] / count, variance = Math.Max(0, squares[c] / count - m * m);
            mean[c] = (float)(m / 255);
            std[c] = variance > 1e-12 ? (float)(Math.Sqrt(variance) / 255) : 1f;
        }
        return (mean, std);
    }

    private static Tensor ToTensor(IdxImages images, IReadOnlyList<float> mean, IReadOnlyList<float> std, Device device)
    {
        using var scope = NewDisposeScope();
        var shape = new long[] { 1, images.Channels, 1, 1 };
        // bytes cross to the device, floats are made there: a quarter of the transfer and no float copy on the host
        return tensor(images.Pixels, [images.Count, images.Channels, images.Rows, images.Columns]).to(device)
            .to_type(float32).div_(255f)
            .sub_(tensor(mean.ToArray(), shape, device: device))
            .div_(tensor(std.ToArray(), shape, device: device))
            .MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Train.Images.Dispose(); Train.Labels.Dispose();
        Validation.Images.Dispose(); Validation.Labels.Dispose();
    }
}

/// <summary>
/// Trains a target with a pattern for a fixed number of steps and scores it on the validation split. Runs on the
/// calling thread (torch dispose scopes are per thread); every step has its own dispose scope so memory stays flat.
/// </summary>
public static class TrialRunner
{
    public static TrialOutcome Run(PreparedData data, ConvPattern? pattern, TrialPlan plan, CancellationToken cancel,
        Action<int, double>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var model = TorchRuntime.Seeded(plan.Seed, () => MaskedTarget.Build(plan.Target, data.InputChannels, data.Classes));
            model.to(data.Device);
            using var masks = new Generator((ulong)plan.Seed, data.Device);
            if (plan.Baseline is { } baseline) model.ApplyBaseline(baseline, masks);
            else model.ApplyPattern(pattern, masks);
            var settings = plan.Optimizer ?? OptimizerSettings.Default;
            using var optimizer = settings.Create(model.parameters(), plan.LearningRate);
            var augmentation = plan.Augmentation is { IsNone: false } a ? a : null;
            // a generator of its own, seeded Seed + 1, so turning augmentation on leaves the masks' draws unchanged
            using var augmentations = augmentation is null ? null : new Generator(unchecked((ulong)plan.Seed + 1), data.Device);

            var order = new Random(unchecked((int)plan.Seed));
            int[] permutation = [];
            int cursor = 0;
            double lastLoss = double.NaN;
            long images = 0;
            model.train();
            for (int step = 0; step < plan.Steps; step++)
            {
                if (cancel.IsCancellationRequested) return new TrialOutcome.Failed("cancelled", $"cancelled at step {step}");
                if (cursor + plan.BatchSize > permutation.Length)
                {
                    permutation = Enumerable.Range(0, (int)data.TrainCount).ToArray();
                    order.Shuffle(permutation);
                    cursor = 0;
                }
                model.SetTrainingProgress((double)step / plan.Steps);
                if (settings.Schedule != OptimizerSettings.Constant)
                    optimizer.SetLearningRate(settings.LearningRateAt(plan.LearningRate, step, plan.Steps));
                using (NewDisposeScope())
                {
                    var index = tensor(permutation.AsSpan(cursor, plan.BatchSize).ToArray().Select(i => (long)i).ToArray(), device: data.Device);
                    cursor += plan.BatchSize;
                    var x = data.Train.Images.index_select(0, index);
                    if (augmentation is not null && augmentations is not null) x = Augmentation.Apply(x, augmentation, augmentations);
                    var y = data.Train.Labels.index_select(0, index);
                    optimizer.zero_grad();
                    var loss = F.cross_entropy(model.call(x), y);
                    lastLoss = loss.item<float>();
                    if (!double.IsFinite(lastLoss))
                        return new TrialOutcome.Failed("diverged", $"loss became {lastLoss} at step {step}");
                    loss.backward();
                    optimizer.step();
                    images += plan.BatchSize;
                }
                progress?.Invoke(step + 1, lastLoss);
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            double accuracy = Evaluate(model, data.Validation, plan.EvalBatchSize);
            model.ApplyPattern(null, null);
            return new TrialOutcome.Completed(new TrialMetrics(accuracy, lastLoss, images / trainSeconds, clock.Elapsed.TotalSeconds, plan.Steps));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return TrialOutcome.FromException(e);
        }
    }

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
}

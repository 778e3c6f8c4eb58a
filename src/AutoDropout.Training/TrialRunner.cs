using System.Diagnostics;
using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>What one trial trains: target, budget and optimiser settings. Data comes separately.</summary>
/// <param name="Baseline">A hand-made regulariser at every site instead of a pattern (for comparisons).</param>
public sealed record TrialPlan(
    TargetSpec Target, int Steps, int BatchSize, double LearningRate, long Seed, int EvalBatchSize = 500,
    BaselineSpec? Baseline = null, OptimizerSettings? Optimizer = null);

public sealed record TrialMetrics(
    double ValidationAccuracy, double FinalTrainLoss, double ImagesPerSecond, double WallSeconds, int Steps);

public abstract record TrialOutcome
{
    public sealed record Completed(TrialMetrics Metrics) : TrialOutcome;

    /// <param name="Reason">"diverged" (the pattern's fault), "cancelled", or "error" (the infrastructure's).</param>
    public sealed record Failed(string Reason, string Message) : TrialOutcome;
}

/// <summary>Training data prepared once per device and reused by every trial: normalised tensors on the device.</summary>
public sealed class PreparedData : IDisposable
{
    // Fashion-MNIST's pixel mean and standard deviation over the training set (on the 0..1 scale)
    private const float Mean = 0.2860f, Std = 0.3530f;

    public PreparedData(ImageSet train, ImageSet validation, Device device)
    {
        Train = (ToTensor(train.Images, device), tensor(train.Labels.Select(l => (long)l).ToArray(), device: device));
        Validation = (ToTensor(validation.Images, device), tensor(validation.Labels.Select(l => (long)l).ToArray(), device: device));
        InputChannels = 1;
        Classes = train.Classes;
        Device = device;
    }

    public (Tensor Images, Tensor Labels) Train { get; }
    public (Tensor Images, Tensor Labels) Validation { get; }
    public int InputChannels { get; }
    public int Classes { get; }
    public Device Device { get; }
    public long TrainCount => Train.Images.shape[0];

    private static Tensor ToTensor(IdxImages images, Device device) =>
        tensor(images.Pixels, [images.Count, 1, images.Rows, images.Columns])
            .to_type(float32).div(255f).sub(Mean).div(Std).to(device);

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
            return new TrialOutcome.Failed(IsOutOfMemory(e) ? "out-of-memory" : "error", e.Message);
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

    private static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e is OutOfMemoryException;
}

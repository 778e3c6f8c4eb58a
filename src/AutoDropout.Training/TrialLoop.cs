using System.Diagnostics;
using AutoDropout.Core;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>How one trial trains, whatever the target; the data and the target's own settings are in its family.</summary>
/// <param name="Regulariser">A pattern of the target's space, a <see cref="BaselinePattern"/>, or null for none.</param>
/// <param name="EvalBatchSize">null: the family's default.</param>
public sealed record TrialPlan(
    int Steps, int BatchSize, double LearningRate, long Seed, DropoutPattern? Regulariser = null,
    OptimizerSettings? Optimizer = null, int? EvalBatchSize = null);

/// <param name="Reward">What the search learns from: validation accuracy for images, c / perplexity for language models.</param>
/// <param name="ItemsPerSecond">Training throughput: images, or tokens for language models.</param>
/// <param name="ValidationPerplexity">Language models only.</param>
/// <param name="TrainAccuracy">The same accuracy on a fixed sample of the training data, masks off; its gap to the
/// validation accuracy shows overfitting.</param>
public sealed record TrialMetrics(
    double Reward, double ValidationAccuracy, double FinalTrainLoss, double ItemsPerSecond, double WallSeconds, int Steps,
    double? ValidationPerplexity = null, double? TrainAccuracy = null);

public abstract record TrialOutcome
{
    public sealed record Completed(TrialMetrics Metrics) : TrialOutcome;

    /// <param name="Reason">Diverged is the pattern's fault; the others are the infrastructure's.</param>
    public sealed record Failed(FailureReason Reason, string Message) : TrialOutcome;

    /// <summary>A trial that threw: out of memory (torch says so in its message) or any other error.</summary>
    public static Failed FromException(Exception e) =>
        new(e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e is OutOfMemoryException ? FailureReason.OutOfMemory : FailureReason.Error,
            WithoutNativeTrace(e.Message));

    /// <summary>libtorch's errors end with the C++ call stack ("Exception raised from ... frame #0: ..."), which says
    /// nothing to an operator and would crowd the message out of its 300 characters.</summary>
    public static string WithoutNativeTrace(string message)
    {
        int at = message.IndexOf("Exception raised from ", StringComparison.Ordinal);
        return at > 0 ? message[..at].TrimEnd() : message;
    }
}

/// <summary>A finished model's scores on held-out data; <paramref name="Diverged"/> says why they are unusable.</summary>
/// <param name="TrainAccuracy">The accuracy on a fixed sample of the training data (see docs/patterns.md).</param>
public sealed record TrialScores(
    double Reward, double ValidationAccuracy, double? ValidationPerplexity = null, string? Diverged = null, double? TrainAccuracy = null);

/// <summary>The part of a trial that depends on the kind of target: its data, model, batches, loss and scores.</summary>
public interface ITrialFamily
{
    /// <summary>Builds this trial's model (weights from the plan's seed) with the plan's regulariser at its sites.</summary>
    ITrialSession Start(TrialPlan plan);
}

/// <summary>One trial's model and batch order; disposed by the loop.</summary>
public interface ITrialSession : IDisposable
{
    nn.Module Model { get; }

    /// <summary>Images or tokens one step trains on.</summary>
    long ItemsPerStep { get; }

    /// <summary>Before step <paramref name="step"/> of <paramref name="steps"/>, outside the step's dispose scope.</summary>
    void BeforeStep(int step, int steps);

    /// <summary>The loss of the next training batch, inside the step's dispose scope.</summary>
    Tensor Loss();

    /// <summary>After a step that completed.</summary>
    void AfterStep();

    /// <summary>Scores on the held-out data and on a fixed sample of the training data, masks off.</summary>
    TrialScores Evaluate(int? batchSize);
}

/// <summary>
/// The one training loop: trains a family's model for a fixed number of steps and scores it. Runs on the calling
/// thread (torch dispose scopes are per thread); every step has its own dispose scope so memory stays flat.
/// </summary>
public static class TrialLoop
{
    public static TrialOutcome Run(ITrialFamily family, TrialPlan plan, CancellationToken cancel, Action<int, double>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var session = family.Start(plan);
            var settings = plan.Optimizer ?? OptimizerSettings.Default;
            using var optimizer = settings.Create(session.Model.parameters(), plan.LearningRate);
            session.Model.train();
            double lastLoss = double.NaN;
            long items = 0;
            for (int step = 0; step < plan.Steps; step++)
            {
                if (cancel.IsCancellationRequested) return new TrialOutcome.Failed(FailureReason.Cancelled, $"cancelled at step {step}");
                session.BeforeStep(step, plan.Steps);
                if (settings.Schedule != OptimizerSettings.Constant)
                    optimizer.SetLearningRate(settings.LearningRateAt(plan.LearningRate, step, plan.Steps));
                using (NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var loss = session.Loss();
                    lastLoss = loss.item<float>();
                    if (!double.IsFinite(lastLoss)) return new TrialOutcome.Failed(FailureReason.Diverged, $"loss became {lastLoss} at step {step}");
                    loss.backward();
                    optimizer.step();
                }
                session.AfterStep();
                items += session.ItemsPerStep;
                progress?.Invoke(step + 1, lastLoss);
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            var scores = session.Evaluate(plan.EvalBatchSize);
            if (scores.Diverged is { } why) return new TrialOutcome.Failed(FailureReason.Diverged, why);
            return new TrialOutcome.Completed(new TrialMetrics(scores.Reward, scores.ValidationAccuracy, lastLoss,
                items / trainSeconds, clock.Elapsed.TotalSeconds, plan.Steps, scores.ValidationPerplexity, scores.TrainAccuracy));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return TrialOutcome.FromException(e);
        }
    }
}

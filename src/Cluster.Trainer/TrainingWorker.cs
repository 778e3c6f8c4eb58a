using System.Collections.Concurrent;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Training;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// Runs trials for one device on a dedicated thread: torch dispose scopes are per thread, and a long training step
/// must never block an actor dispatcher. Data is loaded once and kept on the device while assignments share it.
/// </summary>
public sealed class TrainingWorker : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly DeviceChoice _device;
    private (string Key, PreparedData Data)? _cached;

    public TrainingWorker(DeviceChoice device)
    {
        _device = device;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"trainer-{device.Name}" };
        _thread.Start();
    }

    /// <param name="progress">Called on the training thread after a step, at most every <paramref name="progressInterval"/>.</param>
    public Task<TrialResult> Run(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress = null, TimeSpan? progressInterval = null)
    {
        var done = new TaskCompletionSource<TrialResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(Train(work, trainerId, cancel, progress, progressInterval ?? TimeSpan.FromSeconds(2))); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    private TrialResult Train(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress, TimeSpan progressInterval)
    {
        var sinceReport = System.Diagnostics.Stopwatch.StartNew();
        void OnStep(int step, double loss)
        {
            if (progress is null || (sinceReport.Elapsed < progressInterval && step < work.TrainSteps)) return;
            sinceReport.Restart();
            progress(new TrialProgress(work.Search, work.TrialId, trainerId, step, work.TrainSteps, loss));
        }
        TrialOutcome outcome;
        try
        {
            var data = Data(work);
            var plan = new TrialPlan(TargetSpec.Parse(work.Target), work.TrainSteps, work.BatchSize, work.LearningRate, work.TrialSeed,
                Optimizer: work.Optimizer);
            outcome = TrialRunner.Run(data, work.Pattern, plan, cancel, OnStep);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or PatternException)
        {
            outcome = new TrialOutcome.Failed("error", e.Message);
        }
        return outcome switch
        {
            TrialOutcome.Completed c => new TrialResult(work.Search, work.TrialId, trainerId, c.Metrics.ValidationAccuracy,
                new TrialMetricsReport(c.Metrics.ValidationAccuracy, c.Metrics.FinalTrainLoss, c.Metrics.ImagesPerSecond,
                    c.Metrics.WallSeconds, c.Metrics.Steps), null, null),
            TrialOutcome.Failed f => new TrialResult(work.Search, work.TrialId, trainerId, 0, null, f.Reason, f.Message),
            _ => throw new InvalidOperationException(),
        };
    }

    private PreparedData Data(WorkAssignment work)
    {
        var key = $"{work.Dataset}|{work.DataDirectory}|{work.ValidationFraction}|{work.SplitSeed}";
        if (_cached is { } cached && cached.Key == key) return cached.Data;
        _cached?.Data.Dispose();
        var dataset = FashionMnist.Load(work.DataDirectory);
        var (train, validation) = dataset.Train.SplitValidation(work.ValidationFraction, work.SplitSeed);
        var data = new PreparedData(train, validation, _device.Device);
        _cached = (key, data);
        return data;
    }

    private void Loop()
    {
        foreach (var job in _work.GetConsumingEnumerable()) job();
        _cached?.Data.Dispose();
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(30));
    }
}

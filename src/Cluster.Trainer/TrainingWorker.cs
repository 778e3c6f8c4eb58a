using System.Collections.Concurrent;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Torch;
using AutoDropout.Training;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// Runs trials for one device on a dedicated thread: torch dispose scopes are per thread, and a long training step
/// must never block an actor dispatcher. Data is loaded once and kept on the device while assignments share it.
/// </summary>
public sealed class TrainingWorker : ITrialRunner
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly DeviceChoice _device;
    private (string Key, TrialData Data)? _cached; // image tensors or token streams, on the device

    public TrainingWorker(DeviceChoice device)
    {
        _device = device;
        Facts = DeviceProbe.Describe(device);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"trainer-{device.Name}" };
        _thread.Start();
    }

    public string DeviceName => _device.Name;

    public DeviceFacts Facts { get; }

    /// <param name="progress">Called on the training thread after a step, at most every <paramref name="progressInterval"/>.</param>
    public Task<TrialResult> Run(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress = null, TimeSpan? progressInterval = null)
    {
        var done = new TaskCompletionSource<TrialResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(Train(work, trainerId, cancel, progress, progressInterval ?? TimeSpan.FromSeconds(2))); }
            catch (Exception e) { done.SetException(e); }
            finally { NativeMemory.ReleaseFreedMemory(); }
        });
        return done.Task;
    }

    private TrialResult Train(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress, TimeSpan progressInterval)
    {
        TrialOutcome outcome;
        try
        {
            var data = Cached(TrialPlanner.DataKey(work.Trial), () => TrialPlanner.LoadData(work.Trial, _device));
            var trial = TrialPlanner.Plan(work.Trial, data);
            int steps = trial.Plan.Steps;
            var sinceReport = System.Diagnostics.Stopwatch.StartNew();
            outcome = trial.Run(cancel, (step, loss) =>
            {
                if (progress is null || (sinceReport.Elapsed < progressInterval && step < steps)) return;
                sinceReport.Restart();
                progress(new TrialProgress(work.Search, work.TrialId, trainerId, step, steps, loss));
            });
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or PatternException)
        {
            outcome = new TrialOutcome.Failed(FailureReason.Error, e.Message);
        }
        return outcome switch
        {
            TrialOutcome.Completed { Metrics: var m } => new TrialResult(work.Search, work.TrialId, trainerId, m.Reward,
                new TrialMetricsReport(m.ValidationAccuracy, m.FinalTrainLoss, m.ItemsPerSecond, m.WallSeconds, m.Steps, m.ValidationPerplexity, m.TrainAccuracy),
                null, null),
            TrialOutcome.Failed f => new TrialResult(work.Search, work.TrialId, trainerId, 0, null, f.Reason, FailureReasons.OneLine(f.Message)),
            _ => throw new InvalidOperationException($"unknown outcome {outcome}"),
        };
    }

    private TrialData Cached(string key, Func<TrialData> load)
    {
        if (_cached is { } cached && cached.Key == key) return cached.Data;
        _cached?.Data.Dispose();
        _cached = null;
        var data = load();
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

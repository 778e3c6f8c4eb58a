using System.Collections.Concurrent;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Training;
using AutoDropout.Torch;

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
    private (string Key, IDisposable Data)? _cached; // image tensors or token streams, on the device

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
            finally { NativeMemory.ReleaseFreedMemory(); }
        });
        return done.Task;
    }

    private TrialResult Train(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress, TimeSpan progressInterval)
    {
        var sinceReport = System.Diagnostics.Stopwatch.StartNew();
        int steps = work.TrainSteps;
        void OnStep(int step, double loss)
        {
            if (progress is null || (sinceReport.Elapsed < progressInterval && step < steps)) return;
            sinceReport.Restart();
            progress(new TrialProgress(work.Search, work.TrialId, trainerId, step, steps, loss));
        }
        TrialOutcome TrainImages(PreparedImages images, ConvPattern? conv, BaselineSpec? baseline = null)
        {
            if (work.TrainEpochs is { } epochs) steps = TrainingBudget.StepsFor(epochs, images.Data.TrainCount, work.BatchSize);
            return TrialRunner.Run(images.Data, conv,
                new TrialPlan(TargetSpec.Parse(work.Target), steps, work.BatchSize, work.LearningRate, work.TrialSeed, Baseline: baseline,
                    Optimizer: work.Optimizer, Augmentation: AugmentationOptions.ForDataset(images.Dataset)),
                cancel, OnStep);
        }
        TrialOutcome TrainLanguageModel(TokenStreams text, TransformerPattern? pattern, BaselineSpec? baseline = null)
        {
            var options = work.Text ?? new TextOptions();
            if (work.TrainEpochs is { } epochs) steps = TrainingBudget.StepsFor(epochs, text.Train.shape[0] / options.Context, work.BatchSize);
            if (baseline is not null && baseline.Kind != "dropout")
                return new TrialOutcome.Failed("error", $"a language model takes the baseline dropout:P, not {baseline}");
            return LanguageModelTrial.Run(text, pattern,
                new LanguageModelPlan(LanguageModelSpec.Parse(work.Target), options.Context, steps, work.BatchSize, work.LearningRate,
                    work.TrialSeed, options.RewardScale, baseline?.Rate, Optimizer: work.Optimizer),
                cancel, OnStep);
        }
        TrialOutcome outcome;
        try
        {
            outcome = work.Pattern switch
            {
                ConvPattern conv => TrainImages(Images(work), conv),
                TransformerPattern transformer => TrainLanguageModel(Text(work), transformer),
                BaselinePattern reference when LanguageModelSpec.IsLanguageModelName(work.Target) =>
                    TrainLanguageModel(Text(work), null, reference.Baseline),
                BaselinePattern reference => TrainImages(Images(work), null, reference.Baseline),
                _ => new TrialOutcome.Failed("error", $"this trainer cannot train {work.Pattern.Space} patterns"),
            };
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
            LanguageModelCompleted lm => new TrialResult(work.Search, work.TrialId, trainerId, lm.Metrics.Reward,
                new TrialMetricsReport(lm.Metrics.ValidationAccuracy, lm.Metrics.FinalTrainLoss, lm.Metrics.TokensPerSecond,
                    lm.Metrics.WallSeconds, lm.Metrics.Steps, lm.Metrics.ValidationPerplexity), null, null),
            TrialOutcome.Failed f => new TrialResult(work.Search, work.TrialId, trainerId, 0, null, f.Reason, f.Message),
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Images on the device and the name of their dataset, which picks the augmentation.</summary>
    private sealed record PreparedImages(PreparedData Data, string Dataset) : IDisposable
    {
        public void Dispose() => Data.Dispose();
    }

    private PreparedImages Images(WorkAssignment work) =>
        Cached($"{work.Dataset}|{work.DataDirectory}|{work.ValidationFraction}|{work.SplitSeed}", () =>
        {
            var dataset = ImageDatasets.Load(work.DataDirectory);
            // rewards of one search must come from one dataset, whatever each trainer finds at the path
            if (dataset.Name != work.Dataset)
                throw new InvalidDataException($"the search trains on {work.Dataset}, but {dataset.Source} holds {dataset.Name}");
            var (train, validation) = dataset.Train.SplitValidation(work.ValidationFraction, work.SplitSeed);
            return new PreparedImages(new PreparedData(train, validation, _device.Device), dataset.Name);
        });

    private TokenStreams Text(WorkAssignment work) =>
        Cached($"text|{work.DataDirectory}", () =>
        {
            var corpus = TextCorpus.Load(work.DataDirectory
                ?? throw new ArgumentException("a language-model trial needs a data directory with a text corpus"));
            return TokenStreams.FromIds(corpus.Train, corpus.Validation, corpus.Vocabulary.Count, _device.Device);
        });

    private T Cached<T>(string key, Func<T> load) where T : class, IDisposable
    {
        if (_cached is { } cached && cached.Key == key && cached.Data is T hit) return hit;
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

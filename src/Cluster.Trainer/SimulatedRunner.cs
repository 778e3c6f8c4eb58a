using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Cluster.Trainer;

/// <summary>How long a simulated trial takes: a fixed time, or one drawn uniformly from a range by the trial's seed.</summary>
public sealed record SimulatedTrialTime(TimeSpan Min, TimeSpan Max)
{
    /// <summary>"200ms", "1.5s", or a range "100ms-300ms".</summary>
    public static SimulatedTrialTime Parse(string text)
    {
        var parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        var (min, max) = (Duration(parts[0], text), parts.Length == 2 ? Duration(parts[1], text) : Duration(parts[0], text));
        if (max < min) throw new ArgumentException($"--trial-time: '{text}' ends before it starts");
        return new SimulatedTrialTime(min, max);
    }

    public TimeSpan For(long trialSeed)
    {
        if (Max == Min) return Min;
        var random = Seeds.Random(trialSeed ^ 0x5EED); // apart from the reward noise drawn from the same seed
        return Min + (Max - Min) * random.NextDouble();
    }

    private static TimeSpan Duration(string part, string whole)
    {
        var (number, unit) = part.EndsWith("ms", StringComparison.Ordinal) ? (part[..^2], 1.0)
            : part.EndsWith('s') ? (part[..^1], 1000.0)
            : throw new ArgumentException($"--trial-time: '{whole}' is not a time such as 200ms, 1.5s or 100ms-300ms");
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value >= 0) || value * unit > 86_400_000)
            throw new ArgumentException($"--trial-time: '{whole}' is not a time such as 200ms, 1.5s or 100ms-300ms (at most a day)");
        return TimeSpan.FromMilliseconds(value * unit);
    }
}

/// <summary>
/// A trainer without a device: each trial waits its simulated time and is scored by a <see cref="SyntheticReward"/>
/// whose hidden best pattern comes from the search's split seed, so every simulated trainer of a search scores
/// alike. Patterns are scored in the default search spaces; a hand-made regulariser (an evaluation's baseline)
/// scores 0.5. For benchmarks, soaks and tests of the cluster at a scale no machine here could train at.
/// </summary>
public sealed class SimulatedRunner(string deviceName, SimulatedTrialTime time, double noise = 0.02) : ITrialRunner
{
    private const double BaselineScore = 0.5;
    private static readonly ConcurrentDictionary<(string Space, int Sites, long Seed, double Noise), SyntheticReward> Rewards = new();

    public string DeviceName { get; } = deviceName;

    public DeviceFacts Facts => new(DeviceName, "simulated", null);

    public async Task<TrialResult> Run(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress = null, TimeSpan? progressInterval = null)
    {
        var trial = work.Trial;
        var clock = Stopwatch.StartNew();
        double score;
        try { score = Score(trial); }
        catch (ArgumentException e)
        {
            return new TrialResult(work.Search, work.TrialId, trainerId, 0, null, FailureReason.Error, e.Message);
        }
        var duration = time.For(trial.TrialSeed);
        var interval = progressInterval ?? TimeSpan.FromSeconds(2);
        int steps = Math.Max(1, trial.Budget.Steps);
        try
        {
            for (var left = duration; left > TimeSpan.Zero; left = duration - clock.Elapsed)
            {
                await Task.Delay(left < interval ? left : interval, cancel);
                int step = (int)Math.Min(steps, steps * clock.Elapsed.Ticks / Math.Max(1, duration.Ticks));
                if (clock.Elapsed < duration) progress?.Invoke(new TrialProgress(work.Search, work.TrialId, trainerId, step, steps, 1 - score));
            }
        }
        catch (OperationCanceledException)
        {
            return new TrialResult(work.Search, work.TrialId, trainerId, 0, null, FailureReason.Cancelled, "cancelled");
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (trial.IsLanguageModel)
        {
            var perplexity = 1 / Math.Max(score, 1e-3);
            return new TrialResult(work.Search, work.TrialId, trainerId, trial.TextOrDefault.RewardScale / perplexity,
                new TrialMetricsReport(0, Math.Log(perplexity), 0, seconds, steps, perplexity), null, null);
        }
        return new TrialResult(work.Search, work.TrialId, trainerId, score,
            new TrialMetricsReport(score, 1 - score, 0, seconds, steps, TrainAccuracy: score), null, null);
    }

    /// <summary>The trial's noisy reward in [0, 1].</summary>
    private double Score(TrialSpec trial)
    {
        var pattern = trial.Regulariser;
        if (pattern is BaselinePattern) return BaselineScore;
        IPatternSpace space = pattern switch
        {
            ConvPattern => ConvSearchSpace.Default,
            TransformerPattern => TransformerSearchSpace.Default,
            _ => throw new ArgumentException($"simulated trainers cannot score a '{pattern.Space}' pattern"),
        };
        var reward = Rewards.GetOrAdd((pattern.Space, pattern.SiteCount, trial.SplitSeed, noise),
            key => new SyntheticReward(space, key.Sites, key.Seed, key.Noise));
        return reward.Reward(pattern, trial.TrialSeed);
    }

    public void Dispose() { }
}

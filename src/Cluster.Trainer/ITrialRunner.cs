using AutoDropout.Messages;

namespace AutoDropout.Cluster.Trainer;

/// <summary>What a trainer actor hands its trials to: a device's training thread, or a simulation.</summary>
public interface ITrialRunner : IDisposable
{
    /// <summary>The device's name as trainers report it ("cpu", "cuda:0", "sim:3").</summary>
    string DeviceName { get; }

    /// <summary>The device as operators see it in `trainer list`.</summary>
    DeviceFacts Facts { get; }

    /// <param name="progress">Called at most every <paramref name="progressInterval"/> while the trial runs.</param>
    Task<TrialResult> Run(WorkAssignment work, string trainerId, CancellationToken cancel,
        Action<TrialProgress>? progress = null, TimeSpan? progressInterval = null);
}

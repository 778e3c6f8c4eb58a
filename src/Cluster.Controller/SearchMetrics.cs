using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>What a search's events and state mean for <see cref="Telemetry"/>; counted for live events only, never on replay.</summary>
internal static class SearchMetrics
{
    public static void Count(string search, ISearchEvent e)
    {
        var name = Telemetry.Search(search);
        switch (e)
        {
            case TrialCompleted:
                Telemetry.TrialsCompleted.Add(1, name);
                break;
            case TrialFailed failed:
                Telemetry.TrialsFailed.Add(1, name, new("reason", failed.Reason.Name()));
                break;
            case TrialRequeued requeued:
                Telemetry.TrialsRequeued.Add(1, name, new("cause", Cause(requeued.Cause)));
                if (requeued.Cause == RequeueCause.LeaseExpired) Telemetry.LeasesExpired.Add(1, name);
                break;
        }
    }

    /// <summary>The gauges from the state as it is now: the same after a replay as before it.</summary>
    public static void Observe(string search, SearchState state)
    {
        var last = state.Updates.Count > 0 ? state.Updates[^1] : null;
        Telemetry.SetSearch(search, new Telemetry.SearchGauges(state.Waiting.Count, state.PolicyVersion, last?.MeanEntropy,
            last?.MeanReward, last?.Baseline, state.Best?.Reward));
    }

    /// <summary>What TensorBoard charts of an event (with the state it made): a policy update at its version, a
    /// completed trial at its id; null for the others.</summary>
    public static (long Step, (string, double)[] Values)? Scalars(ISearchEvent e, SearchState state) => e switch
    {
        PolicyUpdated u when state.Updates.Count > 0 => (u.Version,
        [
            ("policy/mean_reward", state.Updates[^1].MeanReward), ("policy/baseline", state.Updates[^1].Baseline),
            ("policy/entropy", state.Updates[^1].MeanEntropy), ("policy/best_reward", state.Best?.Reward ?? 0),
        ]),
        TrialCompleted c => (c.TrialId,
        [
            ("trial/reward", c.Reward), ("trial/validation_accuracy", c.Metrics.ValidationAccuracy),
            ("trial/train_loss", c.Metrics.FinalTrainLoss),
        ]),
        _ => null,
    };

    private static string Cause(RequeueCause cause) => cause switch
    {
        RequeueCause.LeaseExpired => "lease-expired",
        RequeueCause.TrainerLost => "trainer-lost",
        RequeueCause.Cancelled => "cancelled",
        RequeueCause.TrainerFailure => "trainer-failure",
        _ => "unknown",
    };
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace AutoDropout.Cluster;

/// <summary>
/// The nodes' metrics, as System.Diagnostics.Metrics instruments of the meter "AutoDropout", read by the command
/// endpoint's Prometheus route. Actors record into them; nothing here is persisted or feeds back into a decision.
/// Labels stay few: a search's name, a device, a failure reason; never a trial id.
/// </summary>
public static class Telemetry
{
    public const string MeterName = "AutoDropout";

    private static readonly Meter Meter = new(MeterName, ProductVersion.Version);

    /// <summary>Trials whose results were recorded as completed, by search.</summary>
    public static readonly Counter<long> TrialsCompleted = Meter.CreateCounter<long>("autodropout.trials.completed", "{trial}",
        "Trials completed, by search");

    /// <summary>Trials recorded as failed for good, by search and reason.</summary>
    public static readonly Counter<long> TrialsFailed = Meter.CreateCounter<long>("autodropout.trials.failed", "{trial}",
        "Trials failed for good, by search and reason");

    /// <summary>Trials put back in the queue, by search and cause (lease-expired, trainer-lost, cancelled, trainer-failure).</summary>
    public static readonly Counter<long> TrialsRequeued = Meter.CreateCounter<long>("autodropout.trials.requeued", "{trial}",
        "Trials put back in the queue, by search and cause");

    /// <summary>Trainers' results that changed nothing, by search and why: a resend of a result already recorded
    /// ("resend"), or one from a trainer that no longer held the trial ("refused").</summary>
    public static readonly Counter<long> ResultsDropped = Meter.CreateCounter<long>("autodropout.results.dropped", "{result}",
        "Results that changed nothing (a resend of a recorded result, or one from a trainer no longer holding the trial), by search and why");

    /// <summary>Leases that ran out before their trainer reported, by search.</summary>
    public static readonly Counter<long> LeasesExpired = Meter.CreateCounter<long>("autodropout.leases.expired", "{lease}",
        "Leases that expired before their trainer reported, by search");

    /// <summary>Seconds from a trainer's request for work to the assignment reaching it.</summary>
    public static readonly Histogram<double> DispatchLatency = Meter.CreateHistogram<double>("autodropout.dispatch.latency", "s",
        "From a trainer's request for work to the assignment reaching it",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Seconds a device spent training, by device and kind (search or evaluation); its rate is the busy fraction.</summary>
    public static readonly Counter<double> TrainerBusy = Meter.CreateCounter<double>("autodropout.trainer.busy", "s",
        "Seconds a trainer's device spent on trials; its rate is the device's busy fraction");

    /// <summary>Images (or tokens) per second of the device's last trial.</summary>
    public static readonly Gauge<double> TrainerThroughput = Meter.CreateGauge<double>("autodropout.trainer.throughput", null,
        "Images or tokens per second of the device's last trial");

    /// <summary>Seconds from a persist call to its last event's handler, by job kind (search, registry).</summary>
    public static readonly Histogram<double> JournalWrite = Meter.CreateHistogram<double>("autodropout.journal.write", "s",
        "From a persist call to its handler: the journal's write latency",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    private static readonly ConcurrentDictionary<string, SearchGauges> Searches = new();

    /// <summary>Set by each search actor as it runs; removed when it stops.</summary>
    public sealed record SearchGauges(int Waiting, int? PolicyVersion, double? Entropy, double? MeanReward, double? Baseline, double? BestReward);

    static Telemetry()
    {
        Meter.CreateObservableGauge("autodropout.queue.depth", () => Observe(g => g.Waiting), "{trial}",
            "Proposed trials waiting for a trainer, by search");
        Meter.CreateObservableGauge("autodropout.policy.version", () => Observe(g => g.PolicyVersion), "{update}",
            "The policy's version (updates so far), by search");
        Meter.CreateObservableGauge("autodropout.policy.entropy", () => Observe(g => g.Entropy), null,
            "Mean entropy of the policy's token choices at its last update, by search");
        Meter.CreateObservableGauge("autodropout.reward.mean", () => Observe(g => g.MeanReward), null,
            "Mean reward of the batch of the policy's last update, by search");
        Meter.CreateObservableGauge("autodropout.reward.baseline", () => Observe(g => g.Baseline), null,
            "The moving-average baseline after the policy's last update, by search");
        Meter.CreateObservableGauge("autodropout.reward.best", () => Observe(g => g.BestReward), null,
            "Best reward so far, by search");
    }

    /// <summary>The meter provider behind an endpoint's Prometheus route (mapped by MapPrometheusScrapingEndpoint).</summary>
    public static void AddPrometheus(IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(MeterName).AddPrometheusExporter());

    public static void SetSearch(string search, SearchGauges gauges) => Searches[search] = gauges;

    public static void RemoveSearch(string search) => Searches.TryRemove(search, out _);

    public static KeyValuePair<string, object?> Search(string name) => new("search", name);

    private static IEnumerable<Measurement<double>> Observe(Func<SearchGauges, double?> value) =>
        Searches.Select(kv => (kv.Key, Value: value(kv.Value)))
            .Where(s => s.Value is not null)
            .Select(s => new Measurement<double>(s.Value!.Value, Search(s.Key)));
}

using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using AutoDropout.Cluster;

namespace AutoDropout.Tests.Unit;

/// <summary>deploy/grafana/autodropout.json queries only metrics the nodes export.</summary>
public sealed partial class GrafanaDashboardTests
{
    [Fact]
    public void Every_metric_the_dashboard_queries_is_exported()
    {
        var exported = ExportedNames();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Grafana", "autodropout.json")));
        var queried = Expressions(dashboard.RootElement).SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet();

        Assert.True(queried.Count >= 10, $"only {queried.Count} metrics queried");
        Assert.All(queried, name => Assert.Contains(name, exported));
    }

    /// <summary>The Prometheus names of the meter's instruments, as the exporter writes them.</summary>
    private static HashSet<string> ExportedNames()
    {
        _ = Telemetry.TrialsCompleted; // the meter and its instruments exist once the class is initialised
        var names = new HashSet<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name != Telemetry.MeterName) return;
                var name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : "");
                if (instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal)) names.Add(name + "_total");
                else if (instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
                    names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
                else names.Add(name);
            },
        };
        listener.Start();
        return names;
    }

    private static IEnumerable<string> Expressions(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name is "expr" or "query" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : Expressions(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Expressions),
        _ => [],
    };

    [GeneratedRegex("autodropout_[a-z_]+")]
    private static partial Regex MetricName();
}

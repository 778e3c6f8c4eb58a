using AutoDropout.Tests.Support;

namespace AutoDropout.Tests.Cluster;

/// <summary>`bench cluster` as an operator runs it, as small as it goes: the nodes, the searches and the figures.</summary>
[Collection(nameof(ProcessTests))]
public class ClusterBenchProcessTests
{
    [Fact]
    public async Task Two_searches_share_three_trainers_and_the_table_shows_them()
    {
        var (code, output) = await CliProcess.Run(["bench", "cluster", "--trainers", "3", "--rounds", "2", "--searches", "2", "--trial-time", "50ms"]);
        Assert.True(code == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines.Single(l => l.StartsWith("trainers", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["trainers", "searches", "trials"], header[..3]);
        var row = lines.Single(l => l.StartsWith("3 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["3", "2", "6"], row[..3]);
        // the controller worked, and no process can use more than the cores there are
        Assert.Equal(["ctl-cpu", "all-cpu", "min/s", "max/s"], header[^4..]);
        double controller = double.Parse(row[^4], System.Globalization.CultureInfo.InvariantCulture), all = double.Parse(row[^3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(controller, 0.001, Environment.ProcessorCount);
        Assert.InRange(all, controller, Environment.ProcessorCount * 1.1);
    }
}

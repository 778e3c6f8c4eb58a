using Akka.Actor;
using Akka.Serialization;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// Journals written today must stay readable: the bytes of every persisted event, as written by the first release,
/// are committed under Golden/ and must still decode to the same values. A change that breaks this needs a new
/// event version with its own manifest, not an edit of the old one.
/// A brand-new manifest gets its file with AUTODROPOUT_WRITE_GOLDEN=tests/AutoDropout.Tests/Golden (absolute path)
/// dotnet test --filter GoldenEventTests; files that exist are never rewritten.
/// </summary>
public class GoldenEventTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("golden", NodeConfig.Local());

    private static string GoldenDirectory => Path.Combine(AppContext.BaseDirectory, "Golden");

    public static TheoryData<object> PersistedMessages()
    {
        var data = new TheoryData<object>();
        foreach (var row in (IEnumerable<object[]>)SerializerTests.Messages())
            if (row[0] is ISearchEvent or SearchRegistered or SearchDeleted or JournalIdentified or EvaluationRegistered or SearchSnapshot) data.Add(row[0]);
        return data;
    }

    [Theory]
    [MemberData(nameof(PersistedMessages))]
    public void Committed_event_bytes_still_decode_to_the_same_event(object expected)
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(expected);
        var manifest = serializer.Manifest(expected);
        var path = Path.Combine(GoldenDirectory, manifest + ".json");
        if (Environment.GetEnvironmentVariable("AUTODROPOUT_WRITE_GOLDEN") is { Length: > 0 } writeTo)
        {
            // only new manifests get files: existing golden bytes are never rewritten; what is written is checked below
            path = Path.Combine(writeTo, manifest + ".json");
            if (!File.Exists(path)) File.WriteAllBytes(path, serializer.ToBinary(expected));
        }
        Assert.True(File.Exists(path), $"no golden bytes for {manifest}: a new manifest needs its golden file (see the class comment)");
        var decoded = serializer.FromBinary(File.ReadAllBytes(path), manifest);
        Assert.Equal(expected.GetType(), decoded.GetType());
        Assert.Equal(serializer.ToBinary(expected), serializer.ToBinary(decoded));
    }

    /// <summary>Old forms of events are read, never written: each golden file decodes to today's form.</summary>
    public static TheoryData<string, object> LegacyForms() => new()
    {
        { "trial-requeued-v1", new TrialRequeued(9, RequeueCause.Unknown, "lease expired") },
        // searches written before advantages were normalised keep learning from raw ones
        { "search-created-v1", new SearchCreated(new SearchSpec("s1", Trials: 3, PolicyBatch: 4,
            Policy: new PolicyOptions(Layers: 1, LearningRate: 5e-3, EntropyWeight: 1e-3, Advantage: PolicyOptions.Raw))) },
        { "search-snapshot-v1", new SearchSnapshot(new SearchSpec("s1", Trials: 12, PolicyBatch: 4, Policy: PolicyOptions.FirstRelease),
            [new TrialSnapshot(1, ConvSearchSpace.Default.Decode([1, 2, 3, 4, 5, 0, 1, 0, 6, 4, 4, 5, 5, 5, 0, 1]), 0, 5, TrialStatus.Completed, "t", null, 0.75,
                new TrialMetricsReport(0.75, 0.6, 900, 3, 80), null, 1, 1)],
            [2], [], Paused: false, Stopped: false, PolicyState: [1, 2, 3, 255]) },
        // before failure messages and pause reasons were kept: read with neither
        { "search-snapshot-v2", new SearchSnapshot(new SearchSpec("s1", Trials: 12, PolicyBatch: 4),
            [new TrialSnapshot(1, ConvSearchSpace.Default.Decode([1, 2, 3, 4, 5, 0, 1, 0, 6, 4, 4, 5, 5, 5, 0, 1]), 0, 5, TrialStatus.Completed, "t", null, 0.75,
                new TrialMetricsReport(0.75, 0.6, 900, 3, 80), null, 1, 1)],
            [2], [], Paused: false, Stopped: false, PolicyState: [1, 2, 3, 255]) },
        // an operator's pause, before searches paused themselves
        { "search-paused-v1", new SearchPaused() },
    };

    [Theory]
    [MemberData(nameof(LegacyForms))]
    public void Old_event_forms_are_upcast_to_todays(string manifest, object expected)
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(expected);
        var decoded = serializer.FromBinary(File.ReadAllBytes(Path.Combine(GoldenDirectory, manifest + ".json")), manifest);
        Assert.Equal(expected.GetType(), decoded.GetType());
        // compared as today's bytes: records holding lists are not equal by value
        Assert.Equal(serializer.ToBinary(expected), serializer.ToBinary(decoded));
    }

    [Fact]
    public void Metrics_written_before_train_accuracy_read_without_it_and_new_ones_keep_it_under_the_same_manifest()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(TrialCompleted));
        const string manifest = "trial-completed-v1";
        var old = Assert.IsType<TrialCompleted>(serializer.FromBinary(File.ReadAllBytes(Path.Combine(GoldenDirectory, manifest + ".json")), manifest));
        Assert.Equal(new TrialMetricsReport(0.8125, 0.5, 1000, 12.5, 80), old.Metrics);
        Assert.Null(old.Metrics.TrainAccuracy);

        var current = old with { Metrics = old.Metrics with { TrainAccuracy = 0.96875 } };
        Assert.Equal(manifest, serializer.Manifest(current));
        var bytes = serializer.ToBinary(current);
        Assert.Contains("\"train_accuracy\":0.96875", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(current, serializer.FromBinary(bytes, manifest));
    }

    [Fact]
    public void Every_readable_manifest_has_golden_bytes()
    {
        var missing = MessageCodec.ReadableManifests
            .Where(m => System.Text.RegularExpressions.Regex.IsMatch(m, @"-v[0-9]+$"))
            .Where(m => !File.Exists(Path.Combine(GoldenDirectory, m + ".json")));
        Assert.Empty(missing);
    }

    public void Dispose() => _system.Terminate().Wait();
}

using Akka.Actor;
using Akka.Serialization;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

public class SerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer", NodeConfig.Local());

    private static readonly ConvPattern Pattern = ConvSearchSpace.Default.Decode([1, 2, 3, 4, 5, 0, 1, 0, 6, 4, 4, 5, 5, 5, 0, 1]);

    public static TheoryData<object> Messages() => new()
    {
        // values spelled out, not left to defaults: GoldenEventTests compares them with bytes written long ago
        new SearchCreated(new SearchSpec("s1", Trials: 3, PolicyBatch: 4,
            Policy: new PolicyOptions(Layers: 1, LearningRate: 5e-3, EntropyWeight: 1e-3, Advantage: PolicyOptions.Normalized))),
        new TrialProposed(7, Pattern, 2, 123456789012345L),
        new TrialLeased(7, "akka.tcp://autodropout@127.0.0.1:1/user/trainer-0", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)),
        new TrialCompleted(7, "t", 0.8125, new TrialMetricsReport(0.8125, 0.5, 1000, 12.5, 80)),
        new TrialFailed(8, "t", FailureReason.Diverged, "loss became NaN at step 3", 0),
        new TrialRequeued(9, RequeueCause.LeaseExpired, "lease of t expired"),
        new PolicyUpdated(3, [1, 2, 3, 4]),
        new SearchPaused("the first 3 trials all failed (error): gave up after 3 attempts; last: error: /data: no such directory"), new SearchResumed(), new SearchStopped(), new SearchExtended(5),
        new SearchRegistered("s1"),
        new SearchDeleted("s1"),
        new JournalIdentified("0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        new RequestWork("t", "cpu"),
        new NoWorkAvailable(2000),
        new WorkAssignment("s1", 7, new TrialSpec("cnn", "fashion-mnist", null, new TrialBudget(80), 128, 1e-3, Pattern, 0.1, 42, 43),
            DateTimeOffset.UnixEpoch),
        new WorkAssignment("s1", 8, new TrialSpec("lm-1-32-4", "text", "corpus", new TrialBudget(80, 2.5), 16, 1e-3,
            new BaselinePattern(BaselineSpec.Parse("dropout:0.1")), 0.1, 42, 44, new OptimizerSettings("sgd", 5e-4, "cosine"),
            new TextOptions(16, 2)), DateTimeOffset.UnixEpoch),
        new TrialResult("s1", 7, "t", 0.5, null, FailureReason.Error, "boom"),
        new TrialResult("s1", 7, "t", 0.875, new TrialMetricsReport(0.875, 0.25, 1000, 12.5, 80, ValidationPerplexity: null, TrainAccuracy: 0.96875), null, null),
        new TrialResultAck("s1", 7),
        new TrialProgress("s1", 7, "t", 40, 80, 0.61),
        new CancelTrial("s1", 7, "the search was paused"),
        new GetTrainers(), new DrainTrainers(true),
        new RenderMasks(Pattern, "wrn-16-2", "cifar-10", 64), new MaskPicture([0x89, 0x50, 0x4E, 0x47]),
        new TrainerNodeStatus("akka.tcp://autodropout@127.0.0.1:1", [
            new TrainerStatus("akka.tcp://autodropout@127.0.0.1:1/user/trainer-0", WorkKind.Search, new DeviceFacts("cuda:0", "NVIDIA H200", 150_000_000_000), "training",
                false, "s1", 7, 40, 80, 1250.5, 3),
            new TrainerStatus("akka.tcp://autodropout@127.0.0.1:1/user/trainer-0/evaluator", WorkKind.Evaluation, new DeviceFacts("sim:0", "simulated", null), "drained",
                true, null, null, 0, 0, 0, 0)]),
        new StartSearch(new SearchSpec("s2")),
        new StartSearch(new SearchSpec("s3", Optimizer: new OptimizerSettings("sgd", 5e-4, "cosine"), TrainEpochs: 2.5, Baselines: ["dropout:0.1"])),
        new GetSearch("s1"), new PauseSearch("s1"), new ResumeSearch("s1"), new StopSearch("s1"), new ExtendSearch("s1", 5), new DeleteSearch("s1"), new ListSearches(),
        new CommandAccepted("ok"), new CommandRejected("no"),
        new SearchSnapshot(new SearchSpec("s1", Trials: 12, PolicyBatch: 4),
            [new TrialSnapshot(1, Pattern, 0, 5, TrialStatus.Completed, "t", null, 0.75, new TrialMetricsReport(0.75, 0.6, 900, 3, 80), null, 1, 1),
                new TrialSnapshot(2, Pattern, 0, 6, TrialStatus.Failed, "t", null, 0, null, FailureReason.Error, 3, null, "gave up after 3 attempts; last: error: disk gone")],
            [3], [], Paused: true, Stopped: false, PolicyState: [1, 2, 3, 255], PauseReason: "the first 3 trials all failed"),
        new EvaluationCreated(new EvaluationSpec("s1-eval", "s1", "wrn-16-2", "fashion-mnist", null, new TrialBudget(80, 30), 128, 1e-3,
            [new EvaluationCandidate("pattern #7", Pattern, 7, 0.8125), new EvaluationCandidate("dropblock:3:0.9@late", new BaselinePattern(BaselineSpec.Parse("dropblock:3:0.9@late")))],
            [11, 12, 13], new OptimizerSettings("sgd", 5e-4, "cosine"), null, 7200, "wrn-10-2")),
        new EvaluationRegistered("s1-eval"),
        new RequestWork("t/evaluator", "cpu", WorkKind.Evaluation),
        new StartEvaluation(new EvaluationRequest("s1", "s1-eval", 3, 5, ["none", "dropout:0.3"], "wrn-28-2", 30, null, 3600)),
        new GetEvaluation("s1-eval"), new ListEvaluations(),
        new GetControllerStatus(),
        new ControllerStatus("akka.tcp://autodropout@127.0.0.1:4054", "sqlite", "/var/lib/autodropout/autodropout.db", "0f1e2d3c", 2, 1,
            new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)),
    };

    [Fact]
    public void A_snapshot_keeps_the_policy_kind_and_the_update_history()
    {
        var snapshot = new SearchSnapshot(new SearchSpec("s1", Policy: new PolicyOptions(Kind: PolicyOptions.Random)),
            [], [], [], Paused: false, Stopped: false, PolicyState: [1], ExtraTrials: 2, Updates: [new PolicyUpdateStats(1, 0.75, 0.7, 2.5)]);
        var back = (SearchSnapshot)MessageCodec.FromBinary(MessageCodec.ToBinary(snapshot), MessageCodec.Manifest(snapshot));
        Assert.Equal(PolicyOptions.Random, back.Spec.PolicyOrDefault.Kind);
        Assert.Equal(snapshot.Updates, back.Updates);
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_goes_through_our_serializer_and_round_trips(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<AutoDropoutSerializer>(serializer);
        var manifest = Serialization.ManifestFor(serializer, message);
        var back = _system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
        Assert.Equal(serializer.ToBinary(message), serializer.ToBinary(back));
        Assert.Equal(message.GetType(), back.GetType());
    }

    [Fact]
    public void Every_bound_type_is_covered_by_the_round_trip_test()
    {
        var tested = ((IEnumerable<object[]>)Messages()).Select(row => row[0].GetType()).ToHashSet();
        var untested = MessageCodec.BoundTypes.Where(t => !tested.Contains(t) && t != typeof(SearchList) && t != typeof(SearchDetails)
            && t != typeof(EvaluationList) && t != typeof(EvaluationDetails));
        Assert.Empty(untested);
    }

    [Fact]
    public void The_marker_interface_and_the_bindings_name_the_same_types()
    {
        var marked = typeof(IAutoDropoutMessage).Assembly.GetTypes()
            .Where(t => !t.IsInterface && typeof(IAutoDropoutMessage).IsAssignableFrom(t)).ToHashSet();
        Assert.Equal(marked.OrderBy(t => t.Name), MessageCodec.BoundTypes.OrderBy(t => t.Name));
    }

    [Fact]
    public void Persisted_events_have_versioned_manifests()
    {
        var serializer = (AutoDropoutSerializer)_system.Serialization.FindSerializerForType(typeof(TrialProposed));
        foreach (var e in ((IEnumerable<object[]>)Messages()).Select(r => r[0]).Where(m => m is ISearchEvent or SearchRegistered or SearchDeleted or JournalIdentified))
            Assert.Matches(@"-v[0-9]+$", serializer.Manifest(e));
        Assert.Equal("search-snapshot-v3", serializer.Manifest(((IEnumerable<object[]>)Messages()).Select(r => r[0]).OfType<SearchSnapshot>().Single()));
    }

    [Fact]
    public void Transformer_patterns_travel_in_the_same_events_and_conv_patterns_are_written_as_before()
    {
        var transformer = TransformerPattern.ParseCompact("s2 t8 hidden on | s1 t4 head off");
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(new TrialProposed(1, transformer, 0, 1));
        var back = (TrialProposed)serializer.FromBinary(serializer.ToBinary(new TrialProposed(10, transformer, 2, 77)), "trial-proposed-v1");
        Assert.Equal(transformer, Assert.IsType<TransformerPattern>(back.Pattern));
        var reference = new BaselinePattern(BaselineSpec.Parse("dropblock:3:0.9"));
        back = (TrialProposed)serializer.FromBinary(serializer.ToBinary(new TrialProposed(11, reference, 0, 78)), "trial-proposed-v1");
        Assert.Equal(reference, back.Pattern);

        var conv = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(new TrialProposed(7, Pattern, 2, 1)));
        Assert.DoesNotContain("space", conv); // the ConvNet form has no "space" field, exactly as journals already hold it
        Assert.Equal(Pattern, ((TrialProposed)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(conv), "trial-proposed-v1")).Pattern);
    }

    public void Dispose() => _system.Terminate().Wait();
}

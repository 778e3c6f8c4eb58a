using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Trainer;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

/// <summary>Heartbeats while a trial runs, and draining: a trainer finishes the trial it holds and asks for no more.</summary>
public class TrainerDrainTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(
    "autodropout.trainer.heartbeat-interval = 200ms").WithFallback(NodeConfig.Local()))
{
    private static WorkAssignment Work(int trialId) =>
        new("s", trialId, new TrialSpec("cnn", null, "embedded", new TrialBudget(80), 32, 1e-3,
            new BaselinePattern(BaselineSpec.None), 0.1, 1, trialId), DateTimeOffset.UtcNow.AddMinutes(10));

    private static Func<ITrialRunner> Runner(string time) => () => new SimulatedRunner("sim:0", SimulatedTrialTime.Parse(time));

    /// <summary>A simulated trial that runs until the test lets it finish, so "still training" is no race with the clock.</summary>
    private sealed class GatedRunner(Task gate) : ITrialRunner
    {
        private readonly SimulatedRunner inner = new("sim:0", SimulatedTrialTime.Parse("0s"));
        public string DeviceName => inner.DeviceName;
        public DeviceFacts Facts => inner.Facts;
        public async Task<TrialResult> Run(WorkAssignment work, string trainerId, CancellationToken cancel,
            Action<TrialProgress>? progress = null, TimeSpan? progressInterval = null)
        {
            await gate.WaitAsync(cancel);
            return await inner.Run(work, trainerId, cancel, progress, progressInterval);
        }
        public void Dispose() => inner.Dispose();
    }

    /// <summary>The search trainer's request for work; the evaluator's are told there is none for a minute.</summary>
    private static RequestWork SearchRequest(Akka.TestKit.TestProbe controller, TimeSpan within)
    {
        while (true)
        {
            var request = (RequestWork)controller.FishForMessage(m => m is RequestWork, within);
            if (request.Kind == WorkKind.Search) return request;
            controller.LastSender.Tell(new NoWorkAvailable(60_000), controller);
        }
    }

    [Fact]
    public void A_trainer_holding_a_trial_beats_at_its_heartbeat_interval_however_rarely_its_steps_report()
    {
        var controller = CreateTestProbe();
        var trainer = Sys.ActorOf(TrainerActor.Props(controller, "t1", Runner("3s"), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3)));
        SearchRequest(controller, TimeSpan.FromSeconds(10));
        controller.LastSender.Tell(Work(1), controller);
        // the simulation reports a step every 2 s; heartbeats come every 200 ms
        var beats = controller.ReceiveWhile(TimeSpan.FromSeconds(1.5), m => m as TrialProgress, msgs: 100).Where(p => p is not null).ToList();
        Assert.True(beats.Count >= 4, $"{beats.Count} heartbeats in 1.5 s");
        Assert.All(beats, b => Assert.Equal((1, "t1"), (b!.TrialId, b.TrainerId)));
        Sys.Stop(trainer);
    }

    [Fact]
    public async Task A_drained_node_finishes_its_trial_then_asks_for_no_more_until_undrained()
    {
        var controller = CreateTestProbe();
        var finish = new TaskCompletionSource();
        var trainer = Sys.ActorOf(TrainerActor.Props(controller, "t1", () => new GatedRunner(finish.Task), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3)), "trainer-0");
        var status = Sys.ActorOf(TrainerStatusActor.Props([trainer]));
        SearchRequest(controller, TimeSpan.FromSeconds(10));
        controller.LastSender.Tell(Work(1), controller);
        controller.FishForMessage(m => m is TrialProgress, TimeSpan.FromSeconds(5));

        var drained = await status.Ask<TrainerNodeStatus>(new DrainTrainers(true), TimeSpan.FromSeconds(5));
        var search = Assert.Single(drained.Trainers, t => t.Kind == WorkKind.Search);
        Assert.Equal(("training", true, 1), (search.State, search.Draining, search.TrialId));
        Assert.All(drained.Trainers, t => Assert.True(t.Draining));

        finish.SetResult();
        var result = (TrialResult)controller.FishForMessage(m => m is TrialResult, TimeSpan.FromSeconds(10));
        Assert.Null(result.FailureReason); // finished, not cancelled
        controller.LastSender.Tell(new TrialResultAck("s", 1), controller);
        controller.ReceiveWhile(TimeSpan.FromSeconds(1.5), m => m is RequestWork ? throw new Xunit.Sdk.XunitException("a drained trainer asked for work") : m);
        var after = await status.Ask<TrainerNodeStatus>(new GetTrainers(), TimeSpan.FromSeconds(5));
        Assert.All(after.Trainers, t => Assert.Equal("drained", t.State));
        Assert.Equal(1, Assert.Single(after.Trainers, t => t.Kind == WorkKind.Search).TrialsDone);

        await status.Ask<TrainerNodeStatus>(new DrainTrainers(false), TimeSpan.FromSeconds(5));
        controller.FishForMessage(m => m is RequestWork, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void An_assignment_that_arrives_after_a_drain_goes_back_as_cancelled()
    {
        var controller = CreateTestProbe();
        var trainer = Sys.ActorOf(TrainerActor.Props(controller, "t1", Runner("1s"), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3)));
        SearchRequest(controller, TimeSpan.FromSeconds(10));
        var asker = controller.LastSender;
        trainer.Tell(new TrainerActor.SetDrain(true));
        asker.Tell(Work(2), controller); // the answer to the request sent before the drain
        var handedBack = (TrialResult)controller.FishForMessage(m => m is TrialResult, TimeSpan.FromSeconds(5));
        Assert.Equal((2, FailureReason.Cancelled), (handedBack.TrialId, handedBack.FailureReason));
    }

    [Fact]
    public void A_cpu_device_is_named_with_its_threads_and_memory()
    {
        var facts = DeviceProbe.Describe(AutoDropout.Torch.TorchRuntime.ParseDevice("cpu:2"));
        Assert.Equal("cpu:2", facts.Device);
        Assert.EndsWith(", 2 threads", facts.Name);
        Assert.True(facts.MemoryBytes > 0);
        Assert.Equal(("NVIDIA H200", 143771L * 1024 * 1024), DeviceProbe.ParseNvidiaSmi("NVIDIA H200, 143771"));
        Assert.Null(DeviceProbe.ParseNvidiaSmi(""));
    }
}

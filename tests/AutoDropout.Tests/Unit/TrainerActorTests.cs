using Akka.Actor;
using AutoDropout.Cluster.Trainer;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Torch;

namespace AutoDropout.Tests.Unit;

public class TrainerActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static WorkAssignment Work(int trialId, int steps) =>
        new("s", trialId, new TrialSpec("cnn", null, "embedded", new TrialBudget(steps), 32, 1e-3,
            new BaselinePattern(BaselineSpec.None), 0.1, 1, trialId), DateTimeOffset.UtcNow.AddMinutes(10));

    [Fact]
    public void An_assignment_that_reaches_a_busy_trainer_is_handed_back_at_once_as_cancelled()
    {
        var controller = CreateTestProbe();
        var trainer = Sys.ActorOf(TrainerActor.Props(controller, "t1", TorchRuntime.ParseDevice("cpu"), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3)));
        controller.FishForMessage(m => m is RequestWork { Kind: WorkKind.Search }, TimeSpan.FromSeconds(10));
        trainer.Tell(Work(1, steps: 2000), controller); // long enough to be busy for the rest of the test
        trainer.Tell(Work(2, steps: 10), controller);   // an earlier request's late answer

        var handedBack = (TrialResult)controller.FishForMessage(m => m is TrialResult, TimeSpan.FromSeconds(20));
        Assert.Equal(2, handedBack.TrialId);
        Assert.Equal(FailureReason.Cancelled, handedBack.FailureReason);
        Sys.Stop(trainer);
    }

    [Fact]
    public void When_one_of_a_devices_two_actors_hears_there_is_no_work_the_other_asks_at_once_not_at_its_next_poll()
    {
        var controller = CreateTestProbe();
        // idle polls a minute apart: a second request within seconds can only come from the hand-over
        Func<ITrialRunner> runner = () => new SimulatedRunner("sim:0", SimulatedTrialTime.Parse("0ms"));
        Sys.ActorOf(TrainerActor.Props(controller, "t1", runner, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3)));
        var first = controller.ExpectMsg<RequestWork>(TimeSpan.FromSeconds(10)); // whichever took the device first
        var firstAsker = controller.LastSender;
        controller.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the other waits for the device
        firstAsker.Tell(new NoWorkAvailable(60_000), controller);

        var second = controller.ExpectMsg<RequestWork>(TimeSpan.FromSeconds(3));
        Assert.NotEqual(first.Kind, second.Kind);
        Assert.NotEqual(firstAsker, controller.LastSender);
    }

    [Fact]
    public void A_trainer_has_one_request_for_work_out_at_a_time()
    {
        var controller = CreateTestProbe();
        // polls every 50 ms, but waits up to a minute for an answer before asking again
        var trainer = Sys.ActorOf(TrainerActor.Props(controller, "t1", TorchRuntime.ParseDevice("cpu"),
            TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(1)));
        controller.ExpectMsg<RequestWork>(TimeSpan.FromSeconds(10));
        var asker = controller.LastSender; // the trainer or its evaluator, whichever took the device first
        // no second request while the first is unanswered, from it or from the other (which waits for the device)
        controller.ExpectNoMsg(TimeSpan.FromSeconds(1));
        asker.Tell(new NoWorkAvailable(50), controller);
        controller.ExpectMsg<RequestWork>(TimeSpan.FromSeconds(10));
        Sys.Stop(trainer);
    }

    [Fact]
    public void A_late_assignment_for_a_device_the_evaluator_holds_is_handed_back_at_once()
    {
        var controller = CreateTestProbe();
        var device = TorchRuntime.ParseDevice("cpu");
        var turn = new DeviceTurn();
        Assert.True(turn.TryTake(WorkKind.Evaluation)); // the evaluator is training
        using var worker = new TrainingWorker(device);
        Func<ITrialRunner> runner = () => worker;
        var trainer = Sys.ActorOf(Props.Create(() => new TrainerActor(controller, "t1", runner, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3),
            TimeSpan.FromMinutes(1), WorkKind.Search, turn, worker)));
        trainer.Tell(Work(3, steps: 10), controller);

        var handedBack = (TrialResult)controller.FishForMessage(m => m is TrialResult, TimeSpan.FromSeconds(10));
        Assert.Equal(3, handedBack.TrialId);
        Assert.Equal(FailureReason.Cancelled, handedBack.FailureReason);
        Sys.Stop(trainer);
    }
}

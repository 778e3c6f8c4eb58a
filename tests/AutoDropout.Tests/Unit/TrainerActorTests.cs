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
}

using Akka.Actor;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Trainer;

namespace AutoDropout.Tests.Unit;

/// <summary>The controller's check that a result comes from the trainer it names.</summary>
public class TrainerIdsTests
{
    [Fact]
    public void A_result_is_checked_against_the_actor_that_sent_it()
    {
        var self = new Address("akka.tcp", "autodropout", "10.0.0.1", 4053);
        var remote = ActorPath.Parse("akka.tcp://autodropout@10.0.0.2:4053/user/trainer-0");
        Assert.True(TrainerIds.SentBy(remote.ToString(), remote, self));
        var evaluator = remote / TrainerActor.EvaluatorName;
        Assert.True(TrainerIds.SentBy(evaluator.ToString(), evaluator, self));
        Assert.False(TrainerIds.SentBy(remote.ToString(), evaluator, self));
        Assert.False(TrainerIds.SentBy("akka.tcp://autodropout@10.0.0.3:4053/user/trainer-0", remote, self));
        // a trainer on the controller's own node: its path leaves the address out, its id does not
        var local = ActorPath.Parse("akka://autodropout/user/trainer-1");
        Assert.True(TrainerIds.SentBy("akka.tcp://autodropout@10.0.0.1:4053/user/trainer-1", local, self));
        Assert.True(TrainerIds.SentBy(local.ToString(), local, self));
        Assert.False(TrainerIds.SentBy("akka.tcp://autodropout@10.0.0.1:4053/user/trainer-1", ActorPath.Parse("akka://autodropout/temp/$a"), self));
        Assert.False(TrainerIds.SentBy("t1", ActorPath.Parse("akka://autodropout/deadLetters"), self));
    }
}

using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Torch;

namespace AutoDropout.Cluster.Trainer;

/// <summary>Configuration and start-up of a trainer node: one trainer actor per device.</summary>
public static class TrainerNode
{
    public static readonly string[] RoleFiles = ["trainer.conf"];

    public static Config Config(NodeOptions node) => NodeConfig.Build(node, RoleFiles);

    /// <param name="devices">e.g. ["cpu:0"], ["cuda:0", "cuda:1"]; "cpu:N" trains with N torch threads.</param>
    public static IReadOnlyList<IActorRef> Start(ActorSystem system, IActorRef controllerProxy, IReadOnlyList<string> devices)
    {
        var choices = TorchRuntime.UseDevices(devices);

        var settings = system.Settings.Config.GetConfig("autodropout.trainer");
        var idlePoll = settings.GetTimeSpan("idle-poll", TimeSpan.FromSeconds(2));
        var resend = settings.GetTimeSpan("result-resend", TimeSpan.FromSeconds(3));
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        // a trainer's id is its full actor path, so a recovered controller can find (and watch) the trainers that
        // hold its leases
        return choices.Select((device, i) =>
        {
            var name = $"trainer-{i}";
            var id = new RootActorPath(self) / "user" / name;
            return system.ActorOf(TrainerActor.Props(controllerProxy, id.ToString(), device, idlePoll, resend), name);
        }).ToArray();
    }
}

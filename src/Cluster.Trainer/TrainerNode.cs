using System.CommandLine;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using AutoDropout.Torch;
using Microsoft.Extensions.Hosting;

namespace AutoDropout.Cluster.Trainer;

/// <summary>Configuration and start-up of a trainer node: one trainer actor per device.</summary>
public static class TrainerNode
{
    public static readonly string[] RoleFiles = ["trainer.conf"];

    public static readonly Option<string> Devices = new("--devices")
    {
        Description = $"cpu, cpu:N (N torch threads), cuda:N, comma-separated [{NodeEnvironment.Devices}; default cpu]",
    };

    /// <param name="devices">e.g. ["cpu:0"], ["cuda:0", "cuda:1"]; null: AUTODROPOUT_DEVICES, else ["cpu"].</param>
    public static IHost CreateHost(NodeOptions options, IReadOnlyList<string>? devices = null, Func<string, string?>? environment = null)
    {
        environment ??= NodeEnvironment.Process;
        devices ??= NodeOptions.SplitList(NodeEnvironment.Get(environment, NodeEnvironment.Devices) ?? "cpu");
        var choices = TorchRuntime.UseDevices(devices);
        return NodeHost.Create(NodeRole.Trainer, options, environment, RoleFiles, akka => akka
            .WithSingletonProxy<ControllerProxy>(ControllerProxy.SingletonName, ControllerProxy.SingletonOptions())
            .WithActors((system, registry) => Start(system, registry.Get<ControllerProxy>(), choices)));
    }

    public static Command Command() =>
        NodeCommandLine.Create(NodeRole.Trainer, "one trainer actor per device, each training on its own thread", [Devices],
            (parse, options) => NodeHost.Run(CreateHost(options, parse.GetValue(Devices) is { } d ? NodeOptions.SplitList(d) : null)));

    private static void Start(ActorSystem system, IActorRef controllerProxy, IReadOnlyList<DeviceChoice> devices)
    {
        var settings = system.Settings.Config.GetConfig("autodropout.trainer");
        var idlePoll = settings.GetTimeSpan("idle-poll", TimeSpan.FromSeconds(2));
        var resend = settings.GetTimeSpan("result-resend", TimeSpan.FromSeconds(3));
        var requestTimeout = settings.GetTimeSpan("request-timeout", TimeSpan.FromSeconds(30));
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        // a trainer's id is its full actor path, so a recovered controller can find (and watch) the trainers that
        // hold its leases
        for (int i = 0; i < devices.Count; i++)
        {
            var name = $"trainer-{i}";
            var id = new RootActorPath(self) / "user" / name;
            system.ActorOf(TrainerActor.Props(controllerProxy, id.ToString(), devices[i], idlePoll, resend, requestTimeout), name);
        }
    }
}

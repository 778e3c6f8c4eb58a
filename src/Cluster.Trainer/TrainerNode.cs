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

    public static readonly Option<int?> Simulate = new("--simulate")
    {
        HelpName = "N",
        Description = "run N simulated trainers instead of one per device: no torch; each trial waits --trial-time and is scored by a synthetic reward",
    };

    public static readonly Option<string> TrialTime = new("--trial-time")
    {
        HelpName = "TIME",
        Description = "simulated trainers: how long a trial takes, e.g. 200ms, 1.5s, or a range 100ms-300ms drawn per trial [default 200ms]",
    };

    public static readonly Option<double?> Noise = new("--noise")
    {
        HelpName = "SIGMA",
        Description = "simulated trainers: standard deviation of the noise on each reward [default 0.02]",
    };

    /// <param name="devices">e.g. ["cpu:0"], ["cuda:0", "cuda:1"]; null: AUTODROPOUT_DEVICES, else ["cpu"].</param>
    public static IHost CreateHost(NodeOptions options, IReadOnlyList<string>? devices = null, Func<string, string?>? environment = null)
    {
        environment ??= NodeEnvironment.Process;
        devices ??= NodeOptions.SplitList(NodeEnvironment.Get(environment, NodeEnvironment.Devices) ?? "cpu");
        var runners = TorchRuntime.UseDevices(devices).Select(device => (Func<ITrialRunner>)(() => new TrainingWorker(device))).ToArray();
        return CreateHost(options, runners, environment);
    }

    /// <summary>A node of <paramref name="count"/> simulated trainers (devices "sim:0", "sim:1", ...); torch is never loaded.</summary>
    public static IHost CreateSimulatedHost(NodeOptions options, int count, SimulatedTrialTime time, double noise, Func<string, string?>? environment = null)
    {
        var runners = Enumerable.Range(0, count).Select(i => (Func<ITrialRunner>)(() => new SimulatedRunner($"sim:{i}", time, noise))).ToArray();
        return CreateHost(options, runners, environment);
    }

    private static IHost CreateHost(NodeOptions options, IReadOnlyList<Func<ITrialRunner>> runners, Func<string, string?>? environment) =>
        NodeHost.Create(NodeRole.Trainer, options, environment, RoleFiles, akka => akka
            .WithSingletonProxy<ControllerProxy>(ControllerProxy.SingletonName, ControllerProxy.SingletonOptions())
            .WithActors((system, registry) => Start(system, registry.Get<ControllerProxy>(), runners)));

    public static Command Command() =>
        NodeCommandLine.Create(NodeRole.Trainer, "one trainer actor per device, each training on its own thread", [Devices, Simulate, TrialTime, Noise],
            (parse, options) => NodeHost.Run(parse.GetValue(Simulate) is { } count
                ? CreateSimulatedHost(options, CheckCount(count, parse), SimulatedTrialTime.Parse(parse.GetValue(TrialTime) ?? "200ms"), CheckNoise(parse.GetValue(Noise) ?? 0.02))
                : parse.GetValue(TrialTime) is not null || parse.GetValue(Noise) is not null
                    ? throw new ArgumentException("--trial-time and --noise are for simulated trainers (--simulate N)")
                    : CreateHost(options, parse.GetValue(Devices) is { } d ? NodeOptions.SplitList(d) : null)));

    private static int CheckCount(int count, ParseResult parse) =>
        parse.GetValue(Devices) is not null ? throw new ArgumentException("--simulate replaces the devices: give --simulate N or --devices, not both")
        : count is >= 1 and <= 4096 ? count
        : throw new ArgumentException($"--simulate: {count} trainers; from 1 to 4096 per process");

    private static double CheckNoise(double noise) =>
        noise is >= 0 and <= 1 ? noise : throw new ArgumentException($"--noise: {noise}; a standard deviation from 0 to 1");

    private static void Start(ActorSystem system, IActorRef controllerProxy, IReadOnlyList<Func<ITrialRunner>> runners)
    {
        var settings = system.Settings.Config.GetConfig("autodropout.trainer");
        var idlePoll = settings.GetTimeSpan("idle-poll", TimeSpan.FromSeconds(2));
        var resend = settings.GetTimeSpan("result-resend", TimeSpan.FromSeconds(3));
        var requestTimeout = settings.GetTimeSpan("request-timeout", TimeSpan.FromSeconds(30));
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        // a trainer's id is its full actor path, so a recovered controller can find (and watch) the trainers that
        // hold its leases
        var trainers = new List<IActorRef>();
        for (int i = 0; i < runners.Count; i++)
        {
            var name = $"trainer-{i}";
            var id = new RootActorPath(self) / "user" / name;
            trainers.Add(system.ActorOf(TrainerActor.Props(controllerProxy, id.ToString(), runners[i], idlePoll, resend, requestTimeout), name));
        }
        system.ActorOf(TrainerStatusActor.Props(trainers), TrainerStatusActor.Name);
        system.ActorOf(Props.Create<MaskRenderer>(), TrainerRoutes.MaskRendererName);
    }
}

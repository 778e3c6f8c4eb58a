using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AutoDropout.Cluster;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>`autodropout trainer list|drain|undrain`: what every trainer is doing, and taking a node out of service.</summary>
public static class TrainerCommands
{
    public static Command Create()
    {
        var endpoint = new EndpointOptions();
        var trainer = new Command("trainer", "the trainers: what each device is doing, and draining a node before it is stopped");
        endpoint.AddTo(trainer);

        var list = new Command("list", "every trainer and evaluator: node, device, state, current trial, progress, throughput of its last trial");
        list.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            var all = await client.Get("v1/trainers", TrainerJsonContext.Default.TrainerList);
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(JsonSerializer.Serialize(all, TrainerJsonContext.Default.TrainerList)); return ExitCodes.Ok; }
            Print(all.Nodes);
            foreach (var node in all.Unanswered) Console.WriteLine($"{node}: did not answer");
            int trainers = all.Nodes.Sum(n => n.Trainers.Count(t => t.Kind == WorkKind.Search));
            Console.WriteLine($"Count: {trainers} trainers on {all.Nodes.Count} nodes, {all.Nodes.Sum(n => n.Trainers.Count(t => t.State == "training"))} training");
            return ExitCodes.Ok;
        });
        trainer.Add(list);
        trainer.Add(Drain(endpoint, "drain", true, "the node's trainers finish the trials they hold and take no more (then the node can be stopped without losing work)"));
        trainer.Add(Drain(endpoint, "undrain", false, "a drained node's trainers take work again"));
        return trainer;
    }

    private static Command Drain(EndpointOptions endpoint, string verb, bool drain, string description)
    {
        var node = new Argument<string>("NODE") { Description = "the node's address as `trainer list` shows it, or HOST:PORT" };
        var command = new Command(verb, description) { node };
        command.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            var body = new System.Text.Json.Nodes.JsonObject { ["node"] = result.GetValue(node) }.ToJsonString();
            var status = await client.Post($"v1/trainers/{verb}", body, TrainerJsonContext.Default.TrainerNodeStatus);
            if (result.GetValue(endpoint.Json)) { Console.WriteLine(JsonSerializer.Serialize(status, TrainerJsonContext.Default.TrainerNodeStatus)); return ExitCodes.Ok; }
            int busy = status.Trainers.Count(t => t.State is "training" or "reporting");
            Console.WriteLine(drain
                ? $"{status.Node} draining: {busy} trial{(busy == 1 ? "" : "s")} still running; it takes no more work"
                : $"{status.Node} takes work again");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(IReadOnlyList<TrainerNodeStatus> nodes) =>
        Table.Print(["node", "trainer", "device", "state", "trial", "progress", "items/s", "done"],
            nodes.SelectMany(n => n.Trainers.Select(t => new[]
            {
                n.Node, ShortId(t.TrainerId, n.Node), Device(t.Device), t.Draining && t.State != "drained" ? $"{t.State} (draining)" : t.State,
                t.TrialId is { } id ? $"{t.Search} #{id}" : "", t.Steps > 0 ? $"{t.Step}/{t.Steps}" : "",
                t.ItemsPerSecond > 0 ? t.ItemsPerSecond.ToString("0", CultureInfo.InvariantCulture) : "", t.TrialsDone.ToString(CultureInfo.InvariantCulture),
            })));

    /// <summary>The trainer's path on its node: trainer-0, trainer-0/evaluator.</summary>
    private static string ShortId(string trainerId, string node) =>
        trainerId.StartsWith(node + "/user/", StringComparison.Ordinal) ? trainerId[(node.Length + "/user/".Length)..] : trainerId;

    private static string Device(DeviceFacts device) =>
        device.MemoryBytes is { } bytes ? $"{device.Device} {device.Name}, {bytes / (1024.0 * 1024 * 1024):0.#} GiB" : $"{device.Device} {device.Name}";
}

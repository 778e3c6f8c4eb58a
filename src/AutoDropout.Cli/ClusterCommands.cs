using System.CommandLine;
using System.Text.Json;
using AutoDropout.Cluster;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>`autodropout cluster show|tail|leave|down|down-unreachable`: pbm's cluster palette against a node's endpoint.</summary>
public static class ClusterCommands
{
    private static readonly TimeSpan DefaultLeaveTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var endpoint = new EndpointOptions();
        var cluster = new Command("cluster", "the cluster's members: show, follow, and make them leave or down");
        endpoint.AddTo(cluster);
        cluster.Add(Show(endpoint));
        cluster.Add(Tail(endpoint));
        cluster.Add(Leave(endpoint));
        cluster.Add(Down(endpoint));
        cluster.Add(DownUnreachable(endpoint));
        return cluster;
    }

    private static Command Show(EndpointOptions endpoint)
    {
        var show = new Command("show", "members as pbm shows them: address | roles | status | version, then the count");
        show.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
            if (result.GetValue(endpoint.Json)) Console.WriteLine(JsonSerializer.Serialize(view, SpecJsonContext.Default.ClusterView));
            else foreach (var line in Membership.ShowLines(view)) Console.WriteLine(line);
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Tail(EndpointOptions endpoint)
    {
        var tail = new Command("tail", "print membership changes as they happen (the current members first) until Ctrl+C; exits 3 when the endpoint goes away");
        var count = CliOptions.Int("--count", "stop after N changes (not counting the current members)");
        var duration = CliOptions.Text("--for", "stop after this long (500ms, 30s, 2m)", "DURATION");
        var interval = CliOptions.Text("--interval", "how often to ask the endpoint (default 1s)", "DURATION");
        tail.Add(count);
        tail.Add(duration);
        tail.Add(interval);
        tail.SetAction(async (result, cancel) =>
        {
            var every = result.GetValue(interval) is { } i ? Membership.ParseDuration(i) : TimeSpan.FromSeconds(1);
            var stopAt = result.GetValue(duration) is { } d ? DateTime.UtcNow + Membership.ParseDuration(d) : DateTime.MaxValue;
            int? limit = result.GetValue(count);
            bool json = result.GetValue(endpoint.Json);
            using var client = endpoint.Client(result);
            void Print(MemberChange change)
            {
                var now = DateTime.UtcNow;
                Console.WriteLine(json ? Membership.Json(now, change) : Membership.Line(now, change));
            }
            var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
            foreach (var change in Membership.Initial(view)) Print(change);
            int seen = 0;
            while (!cancel.IsCancellationRequested && DateTime.UtcNow < stopAt && (limit is null || seen < limit))
            {
                try { await Task.Delay(every, cancel); }
                catch (OperationCanceledException) { break; }
                ClusterView next;
                try { next = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView); }
                catch (ControlException e) when (e.ExitCode == ExitCodes.Unreachable)
                {
                    Console.Error.WriteLine($"autodropout: {e.Message}");
                    return ExitCodes.Unreachable;
                }
                foreach (var change in Membership.Changes(view, next))
                {
                    if (limit is { } l && seen >= l) break;
                    Print(change);
                    seen++;
                }
                view = next;
            }
            return ExitCodes.Ok;
        });
        return tail;
    }

    private static Command Leave(EndpointOptions endpoint)
    {
        var leave = new Command("leave", "make a member leave the cluster gracefully; without ADDRESS the node serving the endpoint leaves "
            + "(a preStop hook's `autodropout cluster leave`); waits until it has left");
        var address = new Argument<string?>("ADDRESS") { Description = "the member's address (akka.tcp://...@host:port, or host:port)", Arity = ArgumentArity.ZeroOrOne };
        var timeout = CliOptions.Text("--timeout", "how long to wait until it has left (default 60s; 0: do not wait); exits 1 when it has not", "DURATION");
        leave.Add(address);
        leave.Add(timeout);
        leave.SetAction(async (result, cancel) =>
        {
            var wait = result.GetValue(timeout) is { } t ? Membership.ParseDuration(t) : DefaultLeaveTimeout;
            var target = result.GetValue(address);
            bool json = result.GetValue(endpoint.Json);
            using var client = endpoint.Client(result);
            var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
            var reply = await client.Post("v1/cluster/leave", Body(target), MessageJsonContext.Default.CommandAccepted);
            // the member's full address, from the reply ("<address> asked to leave")
            var leaving = reply.Message.Split(' ')[0];
            bool self = leaving == view.Self;
            bool left = wait <= TimeSpan.Zero || await WaitUntilGone(client, leaving, self, wait, cancel);
            if (json)
                Console.WriteLine($$"""{"address":{{Quote(leaving)}},"message":{{Quote(reply.Message)}},"left":{{(left && wait > TimeSpan.Zero ? "true" : "false")}}}""");
            else
                Console.WriteLine(wait <= TimeSpan.Zero ? reply.Message : left ? $"{leaving} has left the cluster" : $"{leaving} is still a member after {wait.TotalSeconds:0} s");
            return left ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return leave;
    }

    /// <summary>
    /// Polls until the member is gone (removed, or no longer in the view). A node that leaves stops its endpoint as it
    /// exits, so for the serving node an endpoint that no longer answers means it has left.
    /// </summary>
    private static async Task<bool> WaitUntilGone(ControlClient client, string address, bool self, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !cancel.IsCancellationRequested)
        {
            try
            {
                var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
                var member = view.Members.FirstOrDefault(m => m.Address == address);
                if (member is null || member.Status == "Removed" || (self && member.Status is "Exiting" or "Down")) return true;
            }
            catch (ControlException e) when (e.ExitCode == ExitCodes.Unreachable) { return true; }
            try { await Task.Delay(250, cancel); }
            catch (OperationCanceledException) { break; }
        }
        return false;
    }

    private static Command Down(EndpointOptions endpoint)
    {
        var down = new Command("down", "mark a member down (it is removed without leaving; for a member that is gone for good)");
        var address = new Argument<string>("ADDRESS") { Description = "the member's address (akka.tcp://...@host:port, or host:port)" };
        down.Add(address);
        down.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            var reply = await client.Post("v1/cluster/down", Body(result.GetValue(address)), MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        return down;
    }

    private static Command DownUnreachable(EndpointOptions endpoint)
    {
        var down = new Command("down-unreachable", "mark every unreachable member down");
        down.SetAction(async (result, _) =>
        {
            using var client = endpoint.Client(result);
            var reply = await client.Post("v1/cluster/down-unreachable", null, MessageJsonContext.Default.CommandAccepted);
            Console.WriteLine(result.GetValue(endpoint.Json) ? JsonSerializer.Serialize(reply, MessageJsonContext.Default.CommandAccepted) : reply.Message);
            return ExitCodes.Ok;
        });
        return down;
    }

    /// <summary>A JSON string literal.</summary>
    public static string Quote(string text) => $"\"{JsonEncodedText.Encode(text)}\"";

    private static string Body(string? address) =>
        address is null ? "{}" : $$"""{"address":{{Quote(address)}}}""";
}

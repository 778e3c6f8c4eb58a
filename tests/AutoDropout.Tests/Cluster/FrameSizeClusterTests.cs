using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;
using ClusterExtension = Akka.Cluster.Cluster;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// Two cluster nodes in this process, with base.conf's remoting: a message whose encoded form is over the frame-size
/// limit is refused by the sender's remoting at once, with an error naming the destination, the type, its size and
/// the limit; the association stays up, later messages arrive and both nodes stay Up.
/// </summary>
public partial class FrameSizeClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Node _sender = new();
    private readonly Node _receiver = new();

    private sealed class Node
    {
        public ActorSystem System { get; } = ActorSystem.Create(NodeOptions.SystemName, ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.seed-nodes = []
            """).WithFallback(NodeConfig.EmbeddedConfig("base.conf")));

        public ClusterExtension Cluster => ClusterExtension.Get(System);

        /// <summary>Every warning and error this node logs (Akka publishes them on the event stream, whatever the logger).</summary>
        public Channel<LogEvent> Problems { get; } = Channel.CreateUnbounded<LogEvent>();

        public Node() => System.ActorOf(Props.Create(() => new Listen<LogEvent>(Problems.Writer, true)), "problems");
    }

    /// <summary>Writes what it receives to a channel; subscribed to the event stream, only warnings and errors.</summary>
    private sealed class Listen<T> : ReceiveActor
    {
        public Listen(ChannelWriter<T> writer, bool eventStream)
        {
            if (eventStream) Context.System.EventStream.Subscribe(Self, typeof(LogEvent));
            Receive<T>(m => m is not LogEvent e || e is Warning or Error, m => writer.TryWrite(m));
        }
    }

    /// <summary>The first event that matches; a loaded machine may log others first (a delayed heartbeat, say).</summary>
    private static async Task<LogEvent> First(Node node, Func<LogEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await foreach (var e in node.Problems.Reader.ReadAllAsync(timeout.Token))
                if (match(e)) return e;
        }
        catch (OperationCanceledException) { }
        throw new TimeoutException($"no such warning or error in {Patience.TotalSeconds:0} s");
    }

    /// <summary>What a node has logged so far, as its log would print it.</summary>
    private static List<string> Logged(Node node)
    {
        var lines = new List<string>();
        while (node.Problems.Reader.TryRead(out var e)) lines.Add($"{e.Message} {e.Cause}");
        return lines;
    }

    public async Task InitializeAsync()
    {
        var bothUp = new TaskCompletionSource();
        _sender.Cluster.RegisterOnMemberUp(() => _receiver.Cluster.RegisterOnMemberUp(() => bothUp.TrySetResult()));
        _sender.Cluster.Join(_sender.Cluster.SelfAddress);
        _receiver.Cluster.Join(_sender.Cluster.SelfAddress);
        await bothUp.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task An_oversized_message_is_refused_at_once_naming_the_node_and_the_reason_and_the_cluster_runs_on()
    {
        // the limit as configured, not a copy of it
        long limit = _sender.System.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size")
            ?? throw new InvalidOperationException("no maximum-frame-size configured");
        var received = Channel.CreateUnbounded<TrialResult>();
        _receiver.System.ActorOf(Props.Create(() => new Listen<TrialResult>(received.Writer, false)), "results");
        var results = await _sender.System.ActorSelection(new RootActorPath(_receiver.Cluster.SelfAddress) / "user" / "results")
            .ResolveOne(Patience);

        // a trainer's failure whose text (a runaway stack trace, a dumped tensor) is over the limit
        var oversized = new TrialResult("s1", 1, "t", 0, null, FailureReason.Error, new string('x', (int)limit + 1024));
        var clock = Stopwatch.StartNew();
        results.Tell(oversized);
        // Akka.Remote's OversizedPayloadException is internal: matched by name
        var error = await First(_sender, e => e.Cause?.GetType().Name == "OversizedPayloadException");
        var refusedAfter = clock.Elapsed;

        // plain logs print the cause on the line after the message; JSON logs carry it in the same object
        var line = $"{error.Message} {error.Cause}";
        Assert.IsType<Error>(error);
        Assert.Contains("association remains live", line, StringComparison.Ordinal);
        Assert.Contains($"sent to [{_receiver.Cluster.SelfAddress}/user/results", line, StringComparison.Ordinal);
        Assert.Contains($"max allowed size {limit} bytes", line, StringComparison.Ordinal);
        var size = SizeOf().Match(line);
        Assert.True(size.Success, line);
        Assert.Equal(typeof(TrialResult).FullName, size.Groups["type"].Value);
        Assert.True(long.Parse(size.Groups["size"].Value, CultureInfo.InvariantCulture) > limit, line);
        Assert.True(refusedAfter < TimeSpan.FromSeconds(10), $"refused after {refusedAfter.TotalSeconds:0.0} s");

        // the same association carries the next message; the oversized one never arrived
        results.Tell(new TrialResult("s1", 2, "t", 0.5, null, null, null));
        var next = await received.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(2, next.TrialId);

        foreach (var node in new[] { _sender, _receiver })
        {
            var state = node.Cluster.State;
            Assert.Equal(2, state.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up));
            Assert.Empty(state.Unreachable);
        }
        // nothing else about it: no second refusal, no dropped association, no quarantine, and the receiver saw nothing
        string[] trouble = ["oversized", "disassociat", "quarantin", "frame"];
        foreach (var node in new[] { _sender, _receiver })
            Assert.DoesNotContain(Logged(node), l => trouble.Any(t => l.Contains(t, StringComparison.OrdinalIgnoreCase)));
    }

    [GeneratedRegex(@"actual size of encoded (?<type>\S+) was (?<size>\d+) bytes")]
    private static partial Regex SizeOf();

    public async Task DisposeAsync() => await Task.WhenAll(_sender.System.Terminate(), _receiver.System.Terminate());
}

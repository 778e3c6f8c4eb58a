namespace AutoDropout.Cluster;

/// <summary>Where a node listens, whom it joins, and how its command endpoint is guarded.</summary>
/// <param name="Host">Address to bind and advertise (default 127.0.0.1).</param>
/// <param name="Port">Akka remoting port; 0 picks a free one.</param>
/// <param name="SeedNodes">host:port of the seed nodes to join; empty joins itself (a seed).</param>
/// <param name="CommandPort">HTTP command endpoint port on 127.0.0.1-bound host; 0 picks a free one; -1 disables it.</param>
/// <param name="CommandHost">Interface of the command endpoint (loopback by default).</param>
/// <param name="Token">Bearer token that state-changing commands must present.</param>
/// <param name="ParentProcessId">When set, the node exits when that process is gone (used by the demo launcher).</param>
/// <param name="ExtraConfigFile">A HOCON file layered over everything else.</param>
public sealed record NodeOptions(
    string Host,
    int Port,
    IReadOnlyList<string> SeedNodes,
    int CommandPort,
    string CommandHost,
    string Token,
    int? ParentProcessId = null,
    string? ExtraConfigFile = null)
{
    public const string SystemName = "autodropout";
    public const int DefaultSeedPort = 4053;
}

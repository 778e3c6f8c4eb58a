using Akka.Actor;
using Akka.Cluster.Hosting;

namespace AutoDropout.Cluster;

/// <summary>
/// The controller singleton's name and role, and the actor-registry key of the proxy every node reaches it through
/// (/user/search-manager-proxy).
/// </summary>
public sealed class ControllerProxy
{
    public const string SingletonName = "search-manager";
    public const string Role = "controller";

    private ControllerProxy() { }

    /// <summary>Where the singleton may live; the proxy and the manager must agree on it.</summary>
    public static ClusterSingletonOptions SingletonOptions() => new() { Role = Role, TerminationMessage = PoisonPill.Instance };
}

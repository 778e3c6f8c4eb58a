using Akka.Actor;
using Akka.Cluster.Tools.Singleton;

namespace AutoDropout.Cluster;

/// <summary>Where every node reaches the controller singleton from.</summary>
public static class ControllerProxy
{
    public const string SingletonName = "search-manager";
    public const string Role = "controller";

    public static IActorRef Create(ActorSystem system) =>
        system.ActorOf(
            ClusterSingletonProxy.Props($"/user/{SingletonName}", ClusterSingletonProxySettings.Create(system).WithRole(Role)),
            "controller-proxy");
}

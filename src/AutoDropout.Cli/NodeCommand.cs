using System.CommandLine;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Seed;
using AutoDropout.Cluster.Trainer;

namespace AutoDropout.Cli;

/// <summary>`autodropout node seed|controller|trainer`: runs one node until it is stopped (SIGTERM, Ctrl+C).</summary>
public static class NodeCommand
{
    /// <summary>The `node` verb; each role's project defines its options and start-up.</summary>
    public static Command Create() => new("node", "run one node of the cluster until SIGTERM or Ctrl+C")
    {
        SeedNode.Command(),
        ControllerNode.Command(),
        TrainerNode.Command(),
    };
}

using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using AutoDropout.Torch;

namespace AutoDropout.Cluster.Controller;

/// <summary>Persistence back-ends a controller node can use.</summary>
public enum PersistenceBackend { Sqlite, Postgres }

/// <summary>Configuration and start-up of a controller node: the singleton manager for the search registry.</summary>
public static class ControllerNode
{
    public static readonly string[] RoleFiles = ["controller.conf"];

    /// <param name="connection">For SQLite a file path or a full connection string; for PostgreSQL a connection string.</param>
    public static Config Config(NodeOptions node, PersistenceBackend backend, string connection) =>
        NodeConfig.Build(node, RoleFiles).WithFallback(PersistenceConfig(backend, connection));

    /// <summary>The journal and snapshot store settings alone (WAL switched on for SQLite).</summary>
    public static Config PersistenceConfig(PersistenceBackend backend, string connection)
    {
        var connectionString = backend == PersistenceBackend.Sqlite && !connection.Contains('=')
            ? $"Data Source={connection}"
            : connection;
        if (backend == PersistenceBackend.Sqlite) SqliteJournalSetup.EnableWriteAheadLog(connectionString);
        var file = backend == PersistenceBackend.Sqlite ? "persistence-sqlite.conf" : "persistence-postgres.conf";
        var quoted = NodeConfig.Quote(connectionString);
        return ConfigurationFactory.ParseString($"""
            akka.persistence.journal.sql.connection-string = {quoted}
            akka.persistence.snapshot-store.sql.connection-string = {quoted}
            """).WithFallback(ConfigurationFactory.ParseString(NodeConfig.Embedded(file)));
    }

    public static void Start(ActorSystem system)
    {
        TorchRuntime.UseThreads(1); // the policy is tiny; one thread keeps updates bit-reproducible
        system.ActorOf(
            ClusterSingletonManager.Props(SearchManager.Props(), PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(ControllerProxy.Role)),
            ControllerProxy.SingletonName);
    }
}

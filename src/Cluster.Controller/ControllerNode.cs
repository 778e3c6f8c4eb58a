using System.CommandLine;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.Hosting;

namespace AutoDropout.Cluster.Controller;

/// <summary>Persistence back-ends a controller node can use.</summary>
public enum PersistenceBackend { Sqlite, Postgres }

/// <summary>Configuration and start-up of a controller node: the singleton manager for the search registry.</summary>
public static class ControllerNode
{
    public static readonly string[] RoleFiles = ["controller.conf"];

    public static readonly Option<PersistenceBackend?> Persistence = new("--persistence")
    {
        HelpName = "sqlite|postgres",
        Description = $"journal back-end: sqlite or postgres [{NodeEnvironment.Persistence}; default sqlite]",
        CustomParser = result =>
        {
            try { return ParseBackend(result.Tokens.Single().Value); }
            catch (ArgumentException e) { result.AddError(e.Message); return null; }
        },
    };

    public static readonly Option<string> Database = new("--db")
    {
        Description = $"SQLite file or connection string [{NodeEnvironment.Database}; default autodropout.db in {NodeEnvironment.Home}]",
    };

    /// <param name="backend">null: AUTODROPOUT_PERSISTENCE, else SQLite.</param>
    /// <param name="database">null: AUTODROPOUT_DB, else the state directory's autodropout.db (SQLite only).</param>
    public static IHost CreateHost(NodeOptions options, PersistenceBackend? backend = null, string? database = null,
        Func<string, string?>? environment = null)
    {
        environment ??= NodeEnvironment.Process;
        var chosen = backend ?? (NodeEnvironment.Get(environment, NodeEnvironment.Persistence) is { } name ? ParseBackend(name) : PersistenceBackend.Sqlite);
        var connection = database ?? NodeEnvironment.Get(environment, NodeEnvironment.Database)
            ?? (chosen == PersistenceBackend.Sqlite
                ? Path.Combine(NodeState.Directory, "autodropout.db")
                : throw new ArgumentException("--db: PostgreSQL needs a connection string"));
        TorchSharp.torch.set_num_threads(1); // the policy is tiny; one thread keeps updates bit-reproducible
        return NodeHost.Create(NodeRole.Controller, options, environment, RoleFiles, akka => akka
            .AddHocon(PersistenceConfig(chosen, connection), HoconAddMode.Append)
            .WithSingleton<ControllerProxy>(ControllerProxy.SingletonName, SearchManager.Props(), ControllerProxy.SingletonOptions()));
    }

    public static Command Command() =>
        NodeCommandLine.Create(NodeRole.Controller, "hosts the controller singleton and one persistent actor per search",
            [Persistence, Database],
            (parse, options) => NodeHost.Run(CreateHost(options, parse.GetValue(Persistence), parse.GetValue(Database))));

    public static PersistenceBackend ParseBackend(string name) => name switch
    {
        "sqlite" => PersistenceBackend.Sqlite,
        "postgres" => PersistenceBackend.Postgres,
        _ => throw new ArgumentException($"--persistence: '{name}' is not sqlite or postgres"),
    };

    /// <summary>The journal and snapshot store settings alone (WAL switched on for SQLite).</summary>
    /// <param name="connection">For SQLite a file path or a full connection string; for PostgreSQL a connection string.</param>
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
            """).WithFallback(NodeConfig.EmbeddedConfig(file));
    }
}

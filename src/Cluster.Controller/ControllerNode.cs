using System.CommandLine;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using AutoDropout.Torch;
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

    public static readonly Option<bool> AdoptJournal = new("--adopt-journal")
    {
        Description = "serve from this journal even though the cluster has been using another (after moving it to a new database on purpose)",
    };

    /// <param name="backend">null: AUTODROPOUT_PERSISTENCE, else SQLite.</param>
    /// <param name="database">null: AUTODROPOUT_DB, else the state directory's autodropout.db (SQLite only).</param>
    public static IHost CreateHost(NodeOptions options, PersistenceBackend? backend = null, string? database = null,
        Func<string, string?>? environment = null, bool adoptJournal = false)
    {
        environment ??= NodeEnvironment.Process;
        var chosen = backend ?? (NodeEnvironment.Get(environment, NodeEnvironment.Persistence) is { } name ? ParseBackend(name) : PersistenceBackend.Sqlite);
        var connection = database ?? NodeEnvironment.Get(environment, NodeEnvironment.Database)
            ?? (chosen == PersistenceBackend.Sqlite
                ? Path.Combine(NodeState.Directory, "autodropout.db")
                : throw new ArgumentException("--db: PostgreSQL needs a connection string"));
        TorchRuntime.UseThreads(1); // the policy is tiny; one thread keeps updates bit-reproducible
        var (journal, snapshots) = PersistenceOptions(chosen, connection);
        return NodeHost.Create(NodeRole.Controller, options, environment, RoleFiles, akka => akka
            .AddHocon($"autodropout.controller.adopt-journal = {(adoptJournal ? "on" : "off")}", HoconAddMode.Prepend)
            .WithSqlPersistence(journal, snapshots)
            .WithSingleton<ControllerProxy>(ControllerProxy.SingletonName, SearchManager.Supervised(), ControllerProxy.SingletonOptions()));
    }

    public static Command Command() =>
        NodeCommandLine.Create(NodeRole.Controller, "hosts the controller singleton and one persistent actor per search",
            [Persistence, Database, AdoptJournal],
            (parse, options) => NodeHost.Run(CreateHost(options, parse.GetValue(Persistence), parse.GetValue(Database), adoptJournal: parse.GetValue(AdoptJournal))));

    public static PersistenceBackend ParseBackend(string name) => name switch
    {
        "sqlite" => PersistenceBackend.Sqlite,
        "postgres" => PersistenceBackend.Postgres,
        _ => throw new ArgumentException($"--persistence: '{name}' is not sqlite or postgres"),
    };

    /// <summary>
    /// The journal and the snapshot store: Akka.Persistence.Sql on a SQLite file (switched to WAL here, so readers
    /// never lock the writer out) or on PostgreSQL; tables are created on first start.
    /// </summary>
    /// <param name="connection">For SQLite a file path or a full connection string; for PostgreSQL a connection string.</param>
    public static (SqlJournalOptions Journal, SqlSnapshotOptions Snapshots) PersistenceOptions(PersistenceBackend backend, string connection)
    {
        var connectionString = backend == PersistenceBackend.Sqlite && !connection.Contains('=')
            ? $"Data Source={connection}"
            : connection;
        if (backend == PersistenceBackend.Sqlite) SqliteJournalSetup.EnableWriteAheadLog(connectionString);
        var provider = backend == PersistenceBackend.Sqlite ? "SQLite.MS" : "PostgreSQL.15";
        return (new SqlJournalOptions(isDefaultPlugin: true) { ConnectionString = connectionString, ProviderName = provider, AutoInitialize = true },
            new SqlSnapshotOptions(isDefaultPlugin: true) { ConnectionString = connectionString, ProviderName = provider, AutoInitialize = true });
    }

    /// <summary>The same settings as configuration, for ActorSystems that are not hosted nodes (tools, tests).</summary>
    public static Config PersistenceConfig(PersistenceBackend backend, string connection)
    {
        var (journal, snapshots) = PersistenceOptions(backend, connection);
        return journal.ToConfig().WithFallback(snapshots.ToConfig()).WithFallback(journal.DefaultConfig).WithFallback(snapshots.DefaultConfig);
    }

    /// <summary>
    /// The journal's back-end and where it is, for people: the SQLite file, or PostgreSQL's host, port, database and
    /// user; never a password or any other part of the connection string.
    /// </summary>
    public static (string Kind, string Location) DescribeJournal(string provider, string connectionString)
    {
        var builder = new System.Data.Common.DbConnectionStringBuilder();
        try { builder.ConnectionString = connectionString; }
        catch (ArgumentException) { return (KindOf(provider), "?"); }
        string? Value(params string[] keys) => keys.Select(k => builder.TryGetValue(k, out var v) ? v?.ToString() : null).FirstOrDefault(v => v is { Length: > 0 });
        if (KindOf(provider) == "sqlite") return ("sqlite", Value("Data Source", "DataSource", "Filename") ?? "?");
        var host = Value("Host", "Server") ?? "?";
        var port = Value("Port");
        return ("postgres", $"{host}{(port is null ? "" : $":{port}")}/{Value("Database") ?? "?"} as {Value("Username", "User ID", "User Id", "UserName") ?? "?"}");
    }

    private static string KindOf(string provider) => provider.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase) ? "sqlite" : "postgres";

    /// <summary>When the newest snapshot in the store was saved (its `created` ticks); null when there is none.</summary>
    public static DateTimeOffset? NewestSnapshot(string provider, string connectionString)
    {
        using var db = JournalDoctor.Open(KindOf(provider) == "sqlite" ? PersistenceBackend.Sqlite : PersistenceBackend.Postgres, connectionString);
        using var command = db.CreateCommand();
        command.CommandText = "SELECT MAX(created) FROM snapshot";
        return command.ExecuteScalar() is { } value and not DBNull && Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) is var ticks
            && ticks > 0 && ticks <= DateTime.MaxValue.Ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }
}

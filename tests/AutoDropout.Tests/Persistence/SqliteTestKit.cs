using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;

namespace AutoDropout.Tests.Persistence;

/// <summary>
/// A TestKit whose ActorSystem journals to a SQLite file of its own, deleted afterwards. One file per test, never
/// reused: pooled SQLite connections outlive an ActorSystem and would still point at a deleted file.
/// </summary>
public abstract class SqliteTestKit : Akka.TestKit.Xunit2.TestKit
{
    protected SqliteTestKit(string systemName) : this(Path.Combine(Path.GetTempPath(), $"autodropout-test-{Guid.NewGuid():N}.db"), systemName) { }

    private SqliteTestKit(string database, string systemName)
        : base(NodeConfig.Local(ControllerNode.PersistenceConfig(PersistenceBackend.Sqlite, database)), systemName) => Database = database;

    protected string Database { get; }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            try { File.Delete(Database + suffix); } catch (IOException) { }
    }
}

using Microsoft.Data.Sqlite;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// Switches a SQLite journal file to write-ahead logging before the journal opens it: readers stop blocking the
/// writer ("database is locked") and each commit costs a fraction of a rollback-journal commit. WAL mode is a
/// property of the file, so doing it once is enough; repeating it is harmless.
/// </summary>
public static class SqliteJournalSetup
{
    public static void EnableWriteAheadLog(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}

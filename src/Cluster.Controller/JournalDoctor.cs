using System.Data.Common;
using AutoDropout.Messages;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AutoDropout.Cluster.Controller;

/// <summary>One row of a journal or snapshot table that the codec cannot read.</summary>
public sealed record UnreadableRow(string Table, long SequenceNr, string Manifest, string Error);

/// <summary>What could be read of one persistence id.</summary>
public sealed record PersistenceIdHealth(string PersistenceId, int Events, int Snapshots, IReadOnlyList<UnreadableRow> Unreadable)
{
    public bool Healthy => Unreadable.Count == 0;
}

/// <summary>
/// Reads every event and snapshot of a journal's tables directly (no actor system, nothing written) and decodes each
/// with <see cref="MessageCodec"/>, as recovery would: used by <c>autodropout controller doctor</c>.
/// </summary>
public static class JournalDoctor
{
    public static IReadOnlyList<PersistenceIdHealth> Examine(PersistenceBackend backend, string connection)
    {
        using var db = Open(backend, connection);
        var rows = Read(db, "journal", "message").Concat(Read(db, "snapshot", "snapshot"));
        return rows.GroupBy(r => r.PersistenceId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new PersistenceIdHealth(g.Key, g.Count(r => r.Table == "journal"), g.Count(r => r.Table == "snapshot"),
                g.Where(r => r.Error is not null).Select(r => new UnreadableRow(r.Table, r.SequenceNr, r.Manifest, r.Error!)).ToArray()))
            .ToArray();
    }

    /// <summary>An open connection to a journal's tables, for reading (a SQLite file is opened read-only).</summary>
    public static DbConnection Open(PersistenceBackend backend, string connection)
    {
        DbConnection db = backend == PersistenceBackend.Sqlite
            ? new SqliteConnection(connection.Contains('=') ? connection : $"Data Source={connection};Mode=ReadOnly")
            : new NpgsqlConnection(connection);
        db.Open();
        return db;
    }

    /// <summary>Decodes one stored payload; null when it reads, else why not.</summary>
    public static string? Check(byte[] payload, string manifest)
    {
        try
        {
            MessageCodec.FromBinary(payload, manifest);
            return null;
        }
        catch (Exception e) when (e is System.Runtime.Serialization.SerializationException or System.Text.Json.JsonException or NotSupportedException or ArgumentException)
        {
            return e.Message;
        }
    }

    private sealed record Row(string Table, string PersistenceId, long SequenceNr, string Manifest, string? Error);

    private static List<Row> Read(DbConnection db, string table, string payloadColumn)
    {
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT persistence_id, sequence_number, manifest, {payloadColumn} FROM {table} ORDER BY persistence_id, sequence_number";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
        {
            var manifest = reader.IsDBNull(2) ? "" : reader.GetString(2);
            var payload = reader.IsDBNull(3) ? [] : (byte[])reader.GetValue(3);
            rows.Add(new Row(table, reader.GetString(0), reader.GetInt64(1), manifest, Check(payload, manifest)));
        }
        return rows;
    }
}

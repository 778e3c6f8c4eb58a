using System.Text.Json;
using Akka.Event;

namespace AutoDropout.Cluster;

/// <param name="Access">What the request's token allowed: none, read or operator.</param>
public sealed record AuditEntry(DateTime Time, string Remote, string Method, string Path, string? Name, int Status, string Access);

/// <summary>
/// One line per state-changing request, to the node's log and appended as JSON to an audit file (owner-only).
/// Nodes on one host share the state directory, so each line is written under an exclusive lock on the file.
/// </summary>
public sealed class CommandAudit(ILoggingAdapter log, string? file)
{
    private readonly Lock _gate = new();

    public void Record(AuditEntry entry)
    {
        var line = JsonSerializer.Serialize(entry, SpecJsonContext.Default.AuditEntry);
        log.Info("audit {0}", line);
        if (file is null) return;
        try
        {
            lock (_gate) Append(file, line + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error(e, "could not append to the audit file {0}", file);
        }
    }

    private static void Append(string path, string line)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = ClusterTls.OwnerOnly;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                // FileShare.None takes an exclusive lock: another node's append waits its turn instead of interleaving
                using var stream = new FileStream(path, options);
                stream.Write(System.Text.Encoding.UTF8.GetBytes(line));
                return;
            }
            catch (IOException) when (attempt < 50 && File.Exists(path))
            {
                Thread.Sleep(10);
            }
        }
    }
}

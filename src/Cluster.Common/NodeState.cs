using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AutoDropout.Cluster;

/// <summary>
/// The state directory (AUTODROPOUT_HOME, else ~/.autodropout): the default tokens, the audit file and the SQLite
/// journal live there. A node without a token given uses the token files (created on first use, readable by their
/// owner only, from their creation), and so does the CLI on the same host.
/// </summary>
public static partial class NodeState
{
    public static string Directory => DirectoryIn(NodeEnvironment.Process);

    public static string DirectoryIn(Func<string, string?> environment) =>
        NodeEnvironment.Get(environment, NodeEnvironment.Home)
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".autodropout");

    /// <summary>The operator token: it may change state.</summary>
    public static string TokenFile => Path.Combine(Directory, OperatorTokenName);

    /// <summary>The read token: it may only look.</summary>
    public static string ReadTokenFile => Path.Combine(Directory, ReadTokenName);

    private const string OperatorTokenName = "token", ReadTokenName = "read-token";

    /// <summary>The command endpoint's audit lines (JSON, one per state-changing request).</summary>
    public static string AuditFile => Path.Combine(Directory, "audit.jsonl");

    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>
    /// The token in <paramref name="path"/>; when there is none, a new one. It is written whole into a private
    /// temporary file (owner-only from its creation) that is then linked into place, which fails when the name
    /// exists: the file is never seen empty or half written, and when several nodes start at once the first link
    /// wins and the others read the winner's token.
    /// </summary>
    public static string LoadOrCreateToken(string path)
    {
        if (File.Exists(path)) return ReadToken(path);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var token = NewToken();
        var temporary = $"{path}.{NewToken()}.tmp";
        try
        {
            using (var file = OwnerOnlyFile.CreateNew(temporary))
                file.Write(System.Text.Encoding.ASCII.GetBytes(token + "\n"));
            return PlaceNew(temporary, path) ? token : ReadToken(path);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Gives <paramref name="source"/>'s file the name <paramref name="path"/> unless that exists, atomically.</summary>
    private static bool PlaceNew(string source, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            // MoveFileEx without replacing is atomic there
            try { File.Move(source, path, overwrite: false); return true; }
            catch (IOException) when (File.Exists(path)) { return false; }
        }
        // File.Move checks for the target, then renames over it: two nodes could both "win". link(2) cannot.
        if (Link(source, path) == 0) return true;
        if (File.Exists(path)) return false;
        throw new IOException($"cannot create {path}: error {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string created);

    /// <summary>The token a file holds (its first line); an empty file is an error, not an empty token.</summary>
    public static string ReadToken(string path) =>
        (File.ReadLines(path).FirstOrDefault() ?? "").Trim() is { Length: > 0 } token ? token
        : throw new ArgumentException($"token file {path} is empty: put a token in it, or remove it to have a node make one");

    /// <summary>
    /// The token a client on this host sends: the operator token when it has one (AUTODROPOUT_TOKEN, the file in
    /// AUTODROPOUT_TOKEN_FILE, the state directory's token file), else the read token found the same way; none when
    /// neither is there. Clients never create tokens.
    /// </summary>
    public static string? ClientToken(Func<string, string?> environment) =>
        Existing(environment, NodeEnvironment.Token, NodeEnvironment.TokenFile, Path.Combine(DirectoryIn(environment), OperatorTokenName))
        ?? Existing(environment, NodeEnvironment.ReadToken, NodeEnvironment.ReadTokenFile, Path.Combine(DirectoryIn(environment), ReadTokenName));

    private static string? Existing(Func<string, string?> environment, string variable, string fileVariable, string defaultFile) =>
        NodeEnvironment.GetToken(environment, variable)
        ?? (NodeEnvironment.Get(environment, fileVariable) is { } file ? ReadToken(file)
            : File.Exists(defaultFile) ? ReadToken(defaultFile) : null);
}

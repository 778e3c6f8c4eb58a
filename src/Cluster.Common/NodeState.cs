using System.Security.Cryptography;

namespace AutoDropout.Cluster;

/// <summary>
/// The state directory (AUTODROPOUT_HOME, else ~/.autodropout): the default token and SQLite journal live there.
/// A node without --token-file / AUTODROPOUT_TOKEN uses the token file (created on first use, readable by its owner
/// only, from its creation), and so does the CLI on the same host.
/// </summary>
public static class NodeState
{
    public static string Directory =>
        NodeEnvironment.Get(NodeEnvironment.Process, NodeEnvironment.Home)
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".autodropout");

    public static string TokenFile => Path.Combine(Directory, "token");

    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static string LoadOrCreateToken() => LoadOrCreateToken(TokenFile);

    /// <summary>The token in <paramref name="path"/>; a new one, in a file created owner-only, when there is none.</summary>
    public static string LoadOrCreateToken(string path)
    {
        if (File.Exists(path)) return ReadToken(path);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var token = NewToken();
        try
        {
            using var file = OwnerOnlyFile.CreateNew(path);
            file.Write(System.Text.Encoding.ASCII.GetBytes(token));
            return token;
        }
        catch (IOException) when (File.Exists(path))
        {
            // another node on this host created it first: use theirs
            Thread.Sleep(100);
            return ReadToken(path);
        }
    }

    /// <summary>The token a file holds (its first line); an empty file is an error, not an empty token.</summary>
    public static string ReadToken(string path) =>
        (File.ReadLines(path).FirstOrDefault() ?? "").Trim() is { Length: > 0 } token ? token
        : throw new ArgumentException($"token file {path} is empty");
}

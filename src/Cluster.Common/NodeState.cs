using System.Security.Cryptography;

namespace AutoDropout.Cluster;

/// <summary>
/// The state directory (AUTODROPOUT_HOME, else ~/.autodropout): the default token and SQLite journal live there.
/// A node without --token / AUTODROPOUT_TOKEN uses the token file (created on first use, readable by its owner
/// only), and so does the CLI on the same host.
/// </summary>
public static class NodeState
{
    public static string Directory =>
        NodeEnvironment.Get(NodeEnvironment.Process, NodeEnvironment.Home)
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".autodropout");

    public static string TokenFile => Path.Combine(Directory, "token");

    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static string LoadOrCreateToken()
    {
        var path = TokenFile;
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        System.IO.Directory.CreateDirectory(Directory);
        var token = NewToken();
        File.WriteAllText(path, token);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return token;
    }
}

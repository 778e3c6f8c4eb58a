using System.Security.Cryptography;

namespace AutoDropout.Cli;

/// <summary>
/// The command token. A node without --token / AUTODROPOUT_TOKEN uses the one in the state directory
/// (~/.autodropout/token, created on first use, readable by its owner only), and so does the CLI on the same host.
/// </summary>
public static class Tokens
{
    public static string StateDirectory =>
        Environment.GetEnvironmentVariable("AUTODROPOUT_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".autodropout");

    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static string LoadOrCreate()
    {
        var path = Path.Combine(StateDirectory, "token");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(StateDirectory);
        var token = NewToken();
        File.WriteAllText(path, token);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return token;
    }

    public static string? Load() =>
        Environment.GetEnvironmentVariable("AUTODROPOUT_TOKEN") is { Length: > 0 } env ? env
        : File.Exists(Path.Combine(StateDirectory, "token")) ? File.ReadAllText(Path.Combine(StateDirectory, "token")).Trim()
        : null;
}

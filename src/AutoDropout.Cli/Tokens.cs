namespace AutoDropout.Cli;

/// <summary>
/// The command token. A node without --token-file / AUTODROPOUT_TOKEN uses the one in the state directory
/// (~/.autodropout/token, created on first use, readable by its owner only), and so does the CLI on the same host.
/// </summary>
public static class Tokens
{
    public static string StateDirectory => AutoDropout.Cluster.NodeState.Directory;

    public static string NewToken() => AutoDropout.Cluster.NodeState.NewToken();

    public static string? Load() =>
        Environment.GetEnvironmentVariable("AUTODROPOUT_TOKEN") is { Length: > 0 } env ? env
        : File.Exists(Path.Combine(StateDirectory, "token")) ? File.ReadAllText(Path.Combine(StateDirectory, "token")).Trim()
        : null;
}

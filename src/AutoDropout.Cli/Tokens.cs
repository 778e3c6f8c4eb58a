namespace AutoDropout.Cli;

/// <summary>
/// The command tokens. A node without tokens given uses the files in the state directory (~/.autodropout/token and
/// read-token, created on first use, readable by their owner only), and so does the CLI on the same host: the
/// operator token when it can read it, else the read token.
/// </summary>
public static class Tokens
{
    public static string StateDirectory => AutoDropout.Cluster.NodeState.Directory;

    public static string NewToken() => AutoDropout.Cluster.NodeState.NewToken();

    public static string? Load() => AutoDropout.Cluster.NodeState.ClientToken(AutoDropout.Cluster.NodeEnvironment.Process);
}

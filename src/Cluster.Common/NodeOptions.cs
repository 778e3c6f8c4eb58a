namespace AutoDropout.Cluster;

/// <summary>
/// What a node is told by its command line or its environment. A value left null falls through to the next layer:
/// options over environment variables over the HOCON files (hocon/, then --config on top of them).
/// </summary>
public sealed record NodeOptions
{
    public const string SystemName = "autodropout";
    public const int DefaultSeedPort = 4053;

    /// <summary>Address to bind and advertise (HOCON default 127.0.0.1).</summary>
    public string? Host { get; init; }

    /// <summary>Akka remoting port; 0 picks a free one (HOCON default: 4053 for the seed, 0 for the others).</summary>
    public int? Port { get; init; }

    /// <summary>host:port of the seeds to join; none makes the node join itself (a seed).</summary>
    public IReadOnlyList<string>? SeedNodes { get; init; }

    /// <summary>Command endpoint port; 0 (default) picks a free one; -1 disables it.</summary>
    public int? CommandPort { get; init; }

    /// <summary>Interface of the command endpoint (loopback by default).</summary>
    public string? CommandHost { get; init; }

    /// <summary>The operator token, which state-changing commands must present; only from the environment, never argv.</summary>
    public string? Token { get; init; }

    /// <summary>A file holding the operator token (default: the state directory's token file).</summary>
    public string? TokenFile { get; init; }

    /// <summary>The read token, enough for commands that only look; only from the environment, never argv.</summary>
    public string? ReadToken { get; init; }

    /// <summary>A file holding the read token (default: the state directory's read-token file).</summary>
    public string? ReadTokenFile { get; init; }

    /// <summary>The command endpoint's certificate (PKCS#12); none means plain HTTP. Its password never comes from argv.</summary>
    public string? CommandTlsCertificate { get; init; }

    /// <summary>The cluster certificate (PKCS#12); none means plain TCP remoting. Its password never comes from argv.</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>A HOCON file layered over the role's files.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>When set, the node stops when that process is gone (nodes started by a launcher).</summary>
    public int? ParentProcessId { get; init; }

    /// <summary>When set, the node writes its ports there as JSON once it is up (for launchers).</summary>
    public string? ReadyFile { get; init; }

    /// <summary>How log lines are written: "plain" (default) or "json" (one JSON object a line).</summary>
    public string? LogFormat { get; init; }

    /// <summary>These values where they are set, <paramref name="lower"/>'s elsewhere.</summary>
    public NodeOptions Over(NodeOptions lower) => new()
    {
        Host = Host ?? lower.Host,
        Port = Port ?? lower.Port,
        SeedNodes = SeedNodes ?? lower.SeedNodes,
        CommandPort = CommandPort ?? lower.CommandPort,
        CommandHost = CommandHost ?? lower.CommandHost,
        Token = Token ?? lower.Token,
        TokenFile = TokenFile ?? lower.TokenFile,
        ReadToken = ReadToken ?? lower.ReadToken,
        ReadTokenFile = ReadTokenFile ?? lower.ReadTokenFile,
        CommandTlsCertificate = CommandTlsCertificate ?? lower.CommandTlsCertificate,
        TlsCertificate = TlsCertificate ?? lower.TlsCertificate,
        ConfigFile = ConfigFile ?? lower.ConfigFile,
        ParentProcessId = ParentProcessId ?? lower.ParentProcessId,
        ReadyFile = ReadyFile ?? lower.ReadyFile,
        LogFormat = LogFormat ?? lower.LogFormat,
    };

    /// <summary>The layer that the AUTODROPOUT_* variables make.</summary>
    public static NodeOptions FromEnvironment(Func<string, string?> environment) => new()
    {
        Host = NodeEnvironment.Get(environment, NodeEnvironment.Host),
        Port = NodeEnvironment.GetInt(environment, NodeEnvironment.Port),
        SeedNodes = NodeEnvironment.Get(environment, NodeEnvironment.Seeds) is { } seeds ? SplitList(seeds) : null,
        CommandPort = NodeEnvironment.GetInt(environment, NodeEnvironment.CommandPort),
        CommandHost = NodeEnvironment.Get(environment, NodeEnvironment.CommandHost),
        Token = NodeEnvironment.GetToken(environment, NodeEnvironment.Token),
        TokenFile = NodeEnvironment.Get(environment, NodeEnvironment.TokenFile),
        ReadToken = NodeEnvironment.GetToken(environment, NodeEnvironment.ReadToken),
        ReadTokenFile = NodeEnvironment.Get(environment, NodeEnvironment.ReadTokenFile),
        CommandTlsCertificate = NodeEnvironment.Get(environment, NodeEnvironment.CommandTlsCertificate),
        TlsCertificate = NodeEnvironment.Get(environment, NodeEnvironment.TlsCertificate),
        ConfigFile = NodeEnvironment.Get(environment, NodeEnvironment.Config),
        LogFormat = NodeEnvironment.Get(environment, NodeEnvironment.LogFormat),
    };

    public static string[] SplitList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The environment variables nodes read; each stands under its command-line option.</summary>
public static class NodeEnvironment
{
    public const string Host = "AUTODROPOUT_HOST";
    public const string Port = "AUTODROPOUT_PORT";
    public const string Seeds = "AUTODROPOUT_SEEDS";
    public const string CommandPort = "AUTODROPOUT_CMD_PORT";
    public const string CommandHost = "AUTODROPOUT_CMD_HOST";
    public const string Token = "AUTODROPOUT_TOKEN";
    public const string TokenFile = "AUTODROPOUT_TOKEN_FILE";
    public const string ReadToken = "AUTODROPOUT_READ_TOKEN";
    public const string ReadTokenFile = "AUTODROPOUT_READ_TOKEN_FILE";
    public const string CommandTlsCertificate = "AUTODROPOUT_CMD_TLS_CERT";
    public const string CommandTlsPasswordFile = "AUTODROPOUT_CMD_TLS_PASSWORD_FILE";
    public const string CommandTlsPassword = "AUTODROPOUT_CMD_TLS_PASSWORD";
    public const string TlsCertificate = "AUTODROPOUT_TLS_CERT";
    public const string TlsPasswordFile = "AUTODROPOUT_TLS_PASSWORD_FILE";
    public const string TlsPassword = "AUTODROPOUT_TLS_PASSWORD";
    public const string Config = "AUTODROPOUT_CONFIG";
    public const string Home = "AUTODROPOUT_HOME";
    public const string Database = "AUTODROPOUT_DB";
    public const string Persistence = "AUTODROPOUT_PERSISTENCE";
    public const string Devices = "AUTODROPOUT_DEVICES";
    public const string LogFormat = "AUTODROPOUT_LOG_FORMAT";

    public static Func<string, string?> Process { get; } = Environment.GetEnvironmentVariable;

    /// <summary>The variable's value; an empty one counts as unset.</summary>
    public static string? Get(Func<string, string?> environment, string name) =>
        environment(name) is { Length: > 0 } value ? value : null;

    /// <summary>
    /// A token variable: unset is null, but set and blank is refused rather than read as unset, as it is most
    /// likely a secret that failed to arrive.
    /// </summary>
    public static string? GetToken(Func<string, string?> environment, string name) =>
        environment(name) is not { } value ? null
        : value.Trim() is { Length: > 0 } token ? token
        : throw new ArgumentException($"{name} is set but empty: give it the token, or unset it");

    public static int? GetInt(Func<string, string?> environment, string name) =>
        Get(environment, name) is not { } text ? null
        : int.TryParse(text, out var value) ? value
        : throw new ArgumentException($"{name}: '{text}' is not a whole number");
}

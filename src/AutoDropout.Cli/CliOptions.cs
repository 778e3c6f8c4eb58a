using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace AutoDropout.Cli;

/// <summary>
/// Typed options with the CLI's own messages: numbers are read with the invariant culture, so "0.1" means the same
/// on every machine, and a bad one is named as "--lr: 'x' is not a number".
/// </summary>
public static class CliOptions
{
    public static Option<string?> Text(string name, string description, string? helpName = null) =>
        new(name) { Description = description, HelpName = helpName };

    public static Option<int?> Int(string name, string description, string helpName = "N") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseInt(r, name) };

    public static Option<long?> Long(string name, string description, string helpName = "N") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseLong(r, name) };

    public static Option<double?> Double(string name, string description, string helpName = "X") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseDouble(r, name) };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    public static Argument<string?> OptionalName(string description) =>
        new("NAME") { Description = description, Arity = ArgumentArity.ZeroOrOne };

    /// <summary>An environment variable's value, or null when it is unset or empty.</summary>
    public static string? Environment(string variable) =>
        System.Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;

    private static int? ParseInt(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        result.AddError(long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? $"{name}: {text} is too large" : $"{name}: '{text}' is not a whole number");
        return null;
    }

    private static long? ParseLong(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[^1].Value;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        result.AddError(System.Numerics.BigInteger.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? $"{name}: {text} is too large" : $"{name}: '{text}' is not a whole number");
        return null;
    }

    private static double? ParseDouble(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[^1].Value;
        if (double.TryParse(text, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value)) return value;
        result.AddError($"{name}: '{text}' is not a number");
        return null;
    }
}

/// <summary>
/// --endpoint, --token, --endpoint-cert and --json of the palettes that talk to a node's command endpoint. They apply
/// to every verb of the palette, and may also come before the palette (<see cref="CliApp.Hoist"/> moves them behind it).
/// </summary>
public sealed class EndpointOptions
{
    public const string DefaultEndpoint = "127.0.0.1:9110";

    public Option<string?> Endpoint { get; } = new("--endpoint")
    {
        Description = $"a node's command endpoint (default {DefaultEndpoint}, or AUTODROPOUT_ENDPOINT)",
        HelpName = "host:port",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "the command token: the operator token, or the read token for commands that only look (default AUTODROPOUT_TOKEN, "
            + "AUTODROPOUT_TOKEN_FILE, the state directory's token file, then the same for the read token)",
        HelpName = "T",
        Recursive = true,
    };

    public Option<string?> Certificate { get; } = new("--endpoint-cert")
    {
        Description = "talk HTTPS to an endpoint with this certificate: its own (PEM, DER or its PKCS#12 file) or its CA's (default AUTODROPOUT_ENDPOINT_CERT)",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "print JSON for scripts", Arity = ArgumentArity.Zero, Recursive = true };

    public void AddTo(Command palette)
    {
        palette.Add(Endpoint);
        palette.Add(Token);
        palette.Add(Certificate);
        palette.Add(Json);
    }

    /// <summary>A client for the endpoint, token and certificate that the options, else the environment, name.</summary>
    public ControlClient Client(ParseResult result)
    {
        var certificate = result.GetValue(Certificate) ?? CliOptions.Environment("AUTODROPOUT_ENDPOINT_CERT");
        return new ControlClient(
            result.GetValue(Endpoint) ?? CliOptions.Environment("AUTODROPOUT_ENDPOINT") ?? DefaultEndpoint,
            result.GetValue(Token) ?? Tokens.Load(),
            certificate is null ? null : AutoDropout.Cluster.ClusterTls.LoadTrusted(certificate, AutoDropout.Cluster.NodeEnvironment.Process));
    }
}

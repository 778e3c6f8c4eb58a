using System.CommandLine;
using System.CommandLine.Parsing;

namespace AutoDropout.Cluster;

/// <summary>
/// The options every node takes, and how a role's command turns them into a running host. An option that is not
/// given is left null, so the environment variable, then the HOCON files, decide.
/// </summary>
public static class NodeCommandLine
{
    public static readonly Option<string> Host = new("--host") { Description = $"address to bind and advertise [{NodeEnvironment.Host}; default 127.0.0.1]" };
    public static readonly Option<int?> Port = new("--port") { Description = $"Akka remoting port, 0 for a free one [{NodeEnvironment.Port}; default 4053 for the seed, 0 for others]" };
    public static readonly Option<string> SeedNodes = new("--seed-nodes") { Description = $"seeds to join, host:port,... [{NodeEnvironment.Seeds}; default 127.0.0.1:4053]" };
    public static readonly Option<int?> CommandPort = new("--cmd-port") { Description = $"command endpoint port, 0 for a free one, -1 for none [{NodeEnvironment.CommandPort}; default 0]" };
    public static readonly Option<string> CommandHost = new("--cmd-host") { Description = $"command endpoint interface [{NodeEnvironment.CommandHost}; default 127.0.0.1]" };
    public static readonly Option<string> TokenFile = new("--token-file") { Description = $"file holding the operator token, for state-changing commands [{NodeEnvironment.Token} (the token itself), {NodeEnvironment.TokenFile}; default the token file in {NodeEnvironment.Home}]" };
    public static readonly Option<string> ReadTokenFile = new("--read-token-file") { Description = $"file holding the read token, for commands that only look [{NodeEnvironment.ReadToken} (the token itself), {NodeEnvironment.ReadTokenFile}; default the read-token file in {NodeEnvironment.Home}]" };
    // a token in argv is readable by every user through ps: refused with a pointer to the alternatives
    public static readonly Option<string> Token = new("--token") { Hidden = true };
    public static readonly Option<string> ReadToken = new("--read-token") { Hidden = true };
    public static readonly Option<string> CommandTlsCertificate = new("--cmd-tls-cert") { Description = $"the command endpoint's certificate, PKCS#12, for HTTPS (password: {NodeEnvironment.CommandTlsPasswordFile} or {NodeEnvironment.CommandTlsPassword}) [{NodeEnvironment.CommandTlsCertificate}; default none: plain HTTP]" };
    public static readonly Option<string> TlsCertificate = new("--tls-cert") { Description = $"the cluster certificate, PKCS#12 (password: {NodeEnvironment.TlsPasswordFile} or {NodeEnvironment.TlsPassword}) [{NodeEnvironment.TlsCertificate}; default none: plain TCP]" };
    public static readonly Option<string> Config = new("--config") { Description = $"a HOCON file over the built-in ones [{NodeEnvironment.Config}]" };
    public static readonly Option<string> LogFormat = new("--log-format") { Description = $"log lines as plain text or JSON, one object a line: plain|json [{NodeEnvironment.LogFormat}; default plain]" };
    public static readonly Option<int?> ParentPid = new("--parent-pid") { Description = "stop when this process is gone (for launchers)", Hidden = true };
    public static readonly Option<string> ReadyFile = new("--ready-file") { Description = "write the node's ports here once it is up (for launchers)", Hidden = true };

    private static readonly Option[] Common = [Host, Port, SeedNodes, CommandPort, CommandHost, TokenFile, ReadTokenFile, Token, ReadToken, CommandTlsCertificate, TlsCertificate, Config, LogFormat, ParentPid, ReadyFile];

    /// <summary>A role's command: the common options, the role's own, and an action that builds and runs its host.</summary>
    public static Command Create(NodeRole role, string description, IEnumerable<Option> roleOptions, Func<ParseResult, NodeOptions, int> run)
    {
        var command = new Command(NodeHost.RoleName(role), description);
        foreach (var option in Common.Concat(roleOptions)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            try
            {
                return run(parse, Options(parse));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"autodropout: {e.Message}");
                return UsageExitCode;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // a missing --config file, a device this machine lacks: say what, without a stack trace
                Console.Error.WriteLine($"autodropout: {e.Message}");
                return FailedExitCode;
            }
        });
        return command;
    }

    public const int FailedExitCode = 1;
    public const int UsageExitCode = 2;

    /// <summary>What the common options say, nulls where they were not given.</summary>
    public static NodeOptions Options(ParseResult parse)
    {
        if (parse.GetValue(Token) is not null)
            throw new ArgumentException($"nodes do not take --token (other users can read it in ps): use --token-file FILE or {NodeEnvironment.Token}");
        if (parse.GetValue(ReadToken) is not null)
            throw new ArgumentException($"nodes do not take --read-token (other users can read it in ps): use --read-token-file FILE or {NodeEnvironment.ReadToken}");
        return new()
        {
            Host = parse.GetValue(Host),
            Port = parse.GetValue(Port),
            SeedNodes = parse.GetValue(SeedNodes) is { } seeds ? NodeOptions.SplitList(seeds) : null,
            CommandPort = parse.GetValue(CommandPort),
            CommandHost = parse.GetValue(CommandHost),
            TokenFile = parse.GetValue(TokenFile),
            ReadTokenFile = parse.GetValue(ReadTokenFile),
            CommandTlsCertificate = parse.GetValue(CommandTlsCertificate),
            TlsCertificate = parse.GetValue(TlsCertificate),
            ConfigFile = parse.GetValue(Config),
            ParentProcessId = parse.GetValue(ParentPid),
            ReadyFile = parse.GetValue(ReadyFile),
            LogFormat = parse.GetValue(LogFormat),
        };
    }

    /// <summary>A role's command as a program's root (for a role's own executable), with --help and --version.</summary>
    public static RootCommand AsRoot(Command command)
    {
        var root = new RootCommand(command.Description ?? "");
        foreach (var option in command.Options) root.Options.Add(option);
        root.Action = command.Action;
        return root;
    }

    /// <summary>Parses and runs; a usage error prints what is wrong and exits 2.</summary>
    public static int Invoke(Command root, IReadOnlyList<string> args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count == 0) return parse.Invoke();
        foreach (var error in parse.Errors) Console.Error.WriteLine($"autodropout: {error.Message}");
        Console.Error.WriteLine("add --help for usage");
        return UsageExitCode;
    }
}

using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace AutoDropout.Cli;

/// <summary>
/// The `autodropout` command line: the operator's verbs and the demo, plus the node and bench verbs that the role
/// projects and the benchmarks library define. Parse errors and bad input end in one line on stderr and an exit code from <see cref="ExitCodes"/>.
/// </summary>
public static partial class CliApp
{
    private const string Description = """
        autodropout: learn dropout patterns with a distributed search on an Akka.NET cluster

        The palettes search, cluster, trainer and controller talk to a node's command endpoint: --endpoint host:port (default
        127.0.0.1:9110, or AUTODROPOUT_ENDPOINT), before or after the palette, like `pbm host:port <palette> <verb>`.
        They send the token from --token, AUTODROPOUT_TOKEN or ~/.autodropout/token (the operator token), else
        AUTODROPOUT_READ_TOKEN or ~/.autodropout/read-token (enough for commands that only look); --endpoint-cert FILE
        talks HTTPS to an endpoint with that certificate.
        Exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 rejected, 5 not found, 6 unauthorised.
        """;

    /// <summary>The palettes that talk to a command endpoint, whose --endpoint, --token and --json may come first.</summary>
    private static readonly HashSet<string> EndpointPalettes = ["search", "cluster", "trainer", "controller", "evaluate", "evaluation", "report", "repl"];

    /// <summary>Whether a palette talks to a command endpoint (and so takes --endpoint and --token).</summary>
    public static bool TalksToEndpoint(string palette) => EndpointPalettes.Contains(palette);

    public static RootCommand Create()
    {
        var root = new RootCommand(Description)
        {
            DemoCommand.Create(),
            SearchCommands.Create(),
            ClusterCommands.Create(),
            TrainerCommands.Create(),
            ControllerCommands.Create(),
            EvaluationCommands.CreateEvaluate(),
            EvaluationCommands.CreateEvaluation(),
            TrainOptions.CreateCommand(),
            ReportCommand.Create(),
            PatternCommand.Create(),
            DataCommands.Create(),
            TlsCommands.Create(),
            NodeCommand.Create(),
            Bench(),
            Repl.Create(),
        };
        // the same name in help whatever hosts the parser (the executable, a test run)
        root.HelpName = "autodropout";
        // the solution's version and the commit, whatever assembly hosts the parser
        foreach (var version in root.Options.OfType<VersionOption>()) version.Action = new PrintVersion();
        return root;
    }

    /// <summary>The benchmarks library's verbs, plus `bench cluster` and `bench soak-cluster`, which start nodes as this executable does.</summary>
    private static Command Bench()
    {
        var bench = AutoDropout.Bench.BenchCommands.Create();
        bench.Subcommands.Add(ClusterBench.Create());
        bench.Subcommands.Add(SoakBench.Create());
        return bench;
    }

    public static ParseResult Parse(IReadOnlyList<string> args) =>
        Create().Parse(Hoist(args), new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>
    /// Moves --endpoint, --token, --endpoint-cert and --json, or a bare host:port, from before a palette to just after it, where the
    /// palette's options are: `autodropout --endpoint h:p search list` and `autodropout h:p search list` both work.
    /// </summary>
    public static IReadOnlyList<string> Hoist(IReadOnlyList<string> args)
    {
        var leading = new List<string>();
        int i = 0;
        while (i < args.Count)
        {
            var a = args[i];
            if (a is "--endpoint" or "--token" or "--endpoint-cert" && i + 1 < args.Count) { leading.AddRange([a, args[i + 1]]); i += 2; }
            else if (a.StartsWith("--endpoint=", StringComparison.Ordinal) || a.StartsWith("--token=", StringComparison.Ordinal)
                     || a.StartsWith("--endpoint-cert=", StringComparison.Ordinal) || a == "--json") { leading.Add(a); i++; }
            else if (HostAndPort().IsMatch(a) && i + 1 < args.Count && EndpointPalettes.Contains(args[i + 1])) { leading.AddRange(["--endpoint", a]); i++; }
            else break;
        }
        if (leading.Count == 0 || i >= args.Count) return args;
        return [args[i], .. leading, .. args.Skip(i + 1)];
    }

    /// <summary>
    /// Parses and runs a command line; parse errors and usage mistakes throw <see cref="UsageException"/>, and
    /// whatever a command throws comes out unchanged.
    /// </summary>
    public static Task<int> Invoke(IReadOnlyList<string> args, TextWriter output, TextWriter? error = null) =>
        Invoke(Parse(args), output, error ?? TextWriter.Null, CancellationToken.None);

    private static async Task<int> Invoke(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction) throw new UsageException(ErrorMessage(parsed));
        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // commands report their own failures (see Run) and the demo and nodes handle their own signals
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await parsed.InvokeAsync(configuration, cancel);
    }

    /// <summary>The executable's entry point: usage with no arguments (exit 2), the REPL for a bare host:port, else the command's exit code.</summary>
    /// <param name="cancel">Stops a command that follows something (a tail), as the REPL's Ctrl+C does.</param>
    public static async Task<int> Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancel = default)
    {
        if (args.Count == 0)
        {
            await Invoke(["--help"], output, error);
            return ExitCodes.Usage;
        }
        if (args.Count == 1 && HostAndPort().IsMatch(args[0])) args = ["repl", args[0]];
        var parsed = Parse(args);
        try
        {
            return await Invoke(parsed, output, error, cancel);
        }
        catch (UsageException e)
        {
            error.WriteLine(e.ShowHelp ? $"autodropout: {e.Message} (see '{CommandPath(parsed.CommandResult)} --help')" : $"autodropout: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (ControlException e)
        {
            error.WriteLine($"autodropout: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is AutoDropout.Core.PatternException or ArgumentException or IOException or System.Text.Json.JsonException)
        {
            // bad input (a pattern, a spec, a data file): say what is wrong, without a stack trace
            error.WriteLine($"autodropout: {e.Message}");
            return e is IOException ? ExitCodes.Failed : ExitCodes.Usage;
        }
    }

    /// <summary>One line: unknown words by name (an unknown option's value would only confuse), else the parser's messages.</summary>
    private static string ErrorMessage(ParseResult parsed)
    {
        var unknown = parsed.UnmatchedTokens;
        if (unknown.Count == 0) return string.Join(" ", parsed.Errors.Select(e => e.Message));
        var options = unknown.Where(t => t.StartsWith('-')).ToList();
        var command = parsed.CommandResult.Command;
        var words = unknown.Where(t => !t.StartsWith('-')).ToList();
        // an unknown palette first: the options hoisted after it are only unknown because it is
        if (command.Parents.Any() is false && words.Count > 0 && unknown[0] == words[0])
            return $"unknown command or argument(s): '{words[0]}'" + Suggest(words[0], command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        if (options.Count > 0)
            return $"unknown option(s): {string.Join(", ", options)}"
                + Suggest(options[0], command.Options.Concat(command.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive))).SelectMany(o => o.Aliases.Prepend(o.Name)));
        return $"unknown command or argument(s): {string.Join(", ", unknown.Select(t => $"'{t}'"))}"
            + Suggest(unknown[0], command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
    }

    /// <summary>" (did you mean 'show'?)": the names nearest to a mistyped word, if any is near.</summary>
    public static string Suggest(string typed, IEnumerable<string> names)
    {
        var near = Nearest(typed, names);
        return near.Count == 0 ? "" : $" (did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}?)";
    }

    /// <summary>The names within a few edits of <paramref name="typed"/> (or that it begins), nearest first.</summary>
    public static IReadOnlyList<string> Nearest(string typed, IEnumerable<string> names)
    {
        var scored = names.Distinct().Select(n => (Name: n, Distance: n.StartsWith(typed, StringComparison.OrdinalIgnoreCase) && typed.Length >= 2 ? 0 : Edits(typed, n)))
            .Where(x => x.Distance <= Math.Max(1, Math.Min(3, x.Name.Length / 3)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).ToList();
        return scored.Count == 0 ? [] : scored.Where(x => x.Distance == scored[0].Distance).Select(x => x.Name).Take(3).ToList();
    }

    /// <summary>Levenshtein distance, with a swap of neighbours counted as one edit.</summary>
    private static int Edits(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? at = command; at is CommandResult c; at = c.Parent)
            names.Add(c.Parent is null ? "autodropout" : c.Command.Name);
        names.Reverse();
        return string.Join(" ", names);
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"autodropout {AutoDropout.Cluster.ProductVersion.Full}");
            return ExitCodes.Ok;
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._\-\[\]]+:[0-9]{1,5}$")]
    private static partial Regex HostAndPort();
}

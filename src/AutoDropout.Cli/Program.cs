using AutoDropout.Cli;

const string Usage = """
    autodropout: learn dropout patterns with a distributed search on an Akka.NET cluster

    usage:
      autodropout demo [--trials N] [--json] [--steps N] [--trainers N] [--data DIR] [--work-dir DIR]
      autodropout node seed|controller|trainer [--host H] [--port P] [--seed-nodes h:p,...] [--cmd-port P]
                       [--token T] [--db FILE|CONNSTR] [--persistence sqlite|postgres] [--devices cpu,cuda:0,...]
      autodropout [--endpoint host:port] search start NAME [--trials N] [--steps N | --epochs E] [--target cnn|wrn-D-K] [--seed N]
                                         [--optimizer adam|sgd] [--weight-decay X] [--schedule constant|cosine]
                                         [--baselines dropout:0.1,dropblock:3:0.9] ...
      autodropout [--endpoint host:port] search start NAME --target lm-L-W-H --data CORPUS_DIR [--context 32] [--reward-scale 1] ...
      autodropout [--endpoint host:port] search list|show NAME|pause NAME|resume NAME|stop NAME [--json]
      autodropout [--endpoint host:port] search extend NAME --trials N
      autodropout [--endpoint host:port] cluster show [--json]
      autodropout [--endpoint host:port] controller verify NAME [--db FILE|CONNSTR] [--persistence sqlite|postgres]
      autodropout evaluate [--baseline dropout:P|spatial:P|dropblock:SIZE:KEEP | --pattern FILE|COMPACT] [--target T]
                           [--steps N | --epochs E] [--seed N] [--data DIR] [--on-test]
                           [--optimizer adam|sgd] [--weight-decay X] [--schedule constant|cosine]
      autodropout evaluate --target lm-L-W-H --data CORPUS_DIR [--baseline dropout:P | --pattern FILE|COMPACT]
                           [--context 32] [--steps N | --epochs E] [--reward-scale C] [--on-test] ...
      autodropout pattern sample [--space conv|transformer] [--target cnn|wrn-D-K|lm-L-W-H] [--seed N] [--json]
      autodropout pattern render PATTERN --out FILE.png [--target T] [--seed N] [--input 1x28x28] [--length 64]
      autodropout data subset --from DIR --out DIR [--train 6000] [--test 1000]
      autodropout data info [--data DIR]
      autodropout bench step|trial [--target cnn|wrn-D-K|lm-L-W-H] [--batch-size N] [--steps N] [--threads N]
      autodropout bench soak [--trials 100] [--steps 5] [--target cnn|wrn-D-K]
      autodropout bench controller [--trials 10000] [--persistence sqlite|postgres --db CONNSTR]

    The endpoint defaults to 127.0.0.1:9110 (AUTODROPOUT_ENDPOINT); commands that change state send the token from
    --token, AUTODROPOUT_TOKEN or ~/.autodropout/token. Exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable,
    4 rejected, 5 not found, 6 unauthorised.

    pattern sample draws every token uniformly from the space's default grids with System.Random(seed) (default 1)
    and prints one site per line, or the canonical JSON with --json. pattern render draws every site's mask for one
    example (black = dropped) with its tokens underneath; PATTERN is a JSON file (a pattern, or an object with a
    "pattern" or "best_pattern" property, as demo --json writes) or a compact pattern in quotes. Patterns off the
    default grids are drawn too; only their structure and site count are checked. --input is for ConvNets,
    --length for Transformers.
    """;

if (args is ["bench", ..]) return await new System.CommandLine.RootCommand("autodropout") { AutoDropout.Bench.BenchCommands.Create() }.Parse(args).InvokeAsync();

var switches = new HashSet<string> { "json", "help", "on-test" };
try
{
    var parsed = new Args(args, switches);
    if (parsed.Positional.Count == 0 || parsed.Flag("help"))
    {
        Console.WriteLine(Usage);
        return parsed.Positional.Count == 0 && !parsed.Flag("help") ? ExitCodes.Usage : ExitCodes.Ok;
    }
    return parsed.Positional[0] switch
    {
        "demo" => await DemoCommand.Run(parsed),
        "node" => NodeCommand.Run(parsed),
        "search" or "cluster" => await SearchCommands.Run(parsed),
        "data" => DataCommands.Run(parsed),
        "controller" => await ControllerCommands.Run(parsed),
        "evaluate" => EvaluateCommand.Run(parsed),
        "pattern" => PatternCommand.Run(parsed, Console.Out),
        var other => throw new UsageException($"unknown command '{other}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"autodropout: {e.Message}");
    Console.Error.WriteLine("run 'autodropout --help' for usage");
    return ExitCodes.Usage;
}
catch (ControlException e)
{
    Console.Error.WriteLine($"autodropout: {e.Message}");
    return e.ExitCode;
}
catch (Exception e) when (e is AutoDropout.Core.PatternException or ArgumentException or IOException or System.Text.Json.JsonException)
{
    // bad input (a pattern, a spec, a data file): say what is wrong, without a stack trace
    Console.Error.WriteLine($"autodropout: {e.Message}");
    return e is IOException ? ExitCodes.Failed : ExitCodes.Usage;
}

using System.CommandLine;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout repl [host:port]` (or `autodropout host:port` alone): reads command lines and runs each against one
/// endpoint, as pbm's interactive mode does. At a terminal it edits lines, keeps history (the state directory's
/// history file) and completes palettes, verbs, options and search names with Tab; with stdin redirected it reads
/// plain lines, so scripts and tests can drive it.
/// </summary>
public static class Repl
{
    private const int HistoryKept = 1000;

    public static Command Create()
    {
        var endpoint = new EndpointOptions();
        var repl = new Command("repl", "read commands and run each against one endpoint (help, exit; Tab completes at a terminal)");
        var address = new Argument<string?>("host:port") { Description = "the endpoint (default --endpoint, AUTODROPOUT_ENDPOINT or 127.0.0.1:9110)", Arity = ArgumentArity.ZeroOrOne };
        repl.Add(address);
        endpoint.AddTo(repl);
        repl.SetAction(async (result, cancel) =>
        {
            var target = result.GetValue(address) ?? result.GetValue(endpoint.Endpoint) ?? CliOptions.Environment("AUTODROPOUT_ENDPOINT") ?? EndpointOptions.DefaultEndpoint;
            var leading = new List<string> { "--endpoint", target };
            if (result.GetValue(endpoint.Token) is { } token) leading.AddRange(["--token", token]);
            if (result.GetValue(endpoint.Certificate) is { } cert) leading.AddRange(["--endpoint-cert", cert]);
            using var client = endpoint.Client(result);
            var prompt = new Prompt(target, leading, client);
            return await prompt.Run(cancel);
        });
        return repl;
    }

    private sealed class Prompt(string endpoint, IReadOnlyList<string> leading, ControlClient client)
    {
        private readonly Command _root = CliApp.Create();
        private readonly List<string> _history = LoadHistory();
        private (DateTime At, string[] Names) _searches = (DateTime.MinValue, []);

        private static string HistoryFile => Path.Combine(Tokens.StateDirectory, "history");

        public async Task<int> Run(CancellationToken cancel)
        {
            bool terminal = !Console.IsInputRedirected && !Console.IsOutputRedirected;
            if (terminal) Console.WriteLine($"autodropout {AutoDropout.Cluster.ProductVersion.Full} at {endpoint}: help for commands, exit to leave, Tab completes");
            int last = ExitCodes.Ok;
            while (!cancel.IsCancellationRequested)
            {
                var line = terminal ? ReadLineEdited($"{endpoint}> ") : await Console.In.ReadLineAsync(cancel);
                if (line is null) break; // end of input, Ctrl+D
                var text = line.Trim();
                if (text.Length == 0 || text.StartsWith('#')) continue;
                Remember(text);
                if (text is "exit" or "quit") break;
                if (text == "help" || text.StartsWith("help ", StringComparison.Ordinal))
                {
                    var topic = text.Length > 4 ? ReplCompletion.Split(text[5..]) : [];
                    last = await CliApp.Run([.. topic, "--help"], Console.Out, Console.Error, cancel);
                    if (topic.Count == 0) Console.WriteLine("In this REPL: `help PALETTE`, `exit`; commands run against " + endpoint + " without --endpoint.");
                    continue;
                }
                IReadOnlyList<string> words;
                try { words = ReplCompletion.Split(text); }
                catch (UsageException e) { Console.Error.WriteLine($"autodropout: {e.Message}"); last = ExitCodes.Usage; continue; }
                if (words[0] == "repl") { Console.Error.WriteLine("autodropout: already in the REPL"); continue; }
                // Ctrl+C stops the running command (a tail), not the REPL
                using var running = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; running.Cancel(); };
                Console.CancelKeyPress += stop;
                try
                {
                    last = await CliApp.Run(CliApp.TalksToEndpoint(words[0]) ? [.. leading, .. words] : words, Console.Out, Console.Error, running.Token);
                }
                finally { Console.CancelKeyPress -= stop; }
            }
            return last; // the last command's, for a script that pipes commands in
        }

        private void Remember(string line)
        {
            if (_history.Count > 0 && _history[^1] == line) return;
            _history.Add(line);
            try
            {
                Directory.CreateDirectory(Tokens.StateDirectory);
                File.AppendAllText(HistoryFile, line + "\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* history is a convenience */ }
        }

        private static List<string> LoadHistory()
        {
            try { return File.Exists(HistoryFile) ? [.. File.ReadLines(HistoryFile).TakeLast(HistoryKept)] : []; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
        }

        /// <summary>The endpoint's search names for `search VERB NAME`, asked at most every few seconds.</summary>
        private IEnumerable<string> Names(string path)
        {
            if (!path.StartsWith("search ", StringComparison.Ordinal)) return [];
            if (DateTime.UtcNow - _searches.At > TimeSpan.FromSeconds(5))
            {
                try
                {
                    var list = client.Get("v1/searches", MessageJsonContext.Default.SearchList).GetAwaiter().GetResult();
                    _searches = (DateTime.UtcNow, [.. list.Searches.Select(s => s.Name)]);
                }
                catch (ControlException) { _searches = (DateTime.UtcNow, []); }
            }
            return _searches.Names;
        }

        /// <summary>A line from the keyboard: left/right, backspace/delete, home/end, up/down through history, Tab completion.</summary>
        private string? ReadLineEdited(string prompt)
        {
            var buffer = new System.Text.StringBuilder();
            int cursor = 0, recalled = _history.Count;
            void Redraw()
            {
                Console.Write($"\r{prompt}{buffer}\u001b[K");
                if (buffer.Length > cursor) Console.Write($"\u001b[{buffer.Length - cursor}D");
            }
            Console.Write(prompt);
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        Console.WriteLine();
                        return buffer.ToString();
                    case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && buffer.Length == 0:
                        Console.WriteLine();
                        return null;
                    case ConsoleKey.Backspace when cursor > 0:
                        buffer.Remove(--cursor, 1);
                        break;
                    case ConsoleKey.Delete when cursor < buffer.Length:
                        buffer.Remove(cursor, 1);
                        break;
                    case ConsoleKey.LeftArrow when cursor > 0: cursor--; break;
                    case ConsoleKey.RightArrow when cursor < buffer.Length: cursor++; break;
                    case ConsoleKey.Home: cursor = 0; break;
                    case ConsoleKey.End: cursor = buffer.Length; break;
                    case ConsoleKey.UpArrow when recalled > 0:
                        buffer.Clear().Append(_history[--recalled]);
                        cursor = buffer.Length;
                        break;
                    case ConsoleKey.DownArrow when recalled < _history.Count:
                        buffer.Clear().Append(++recalled < _history.Count ? _history[recalled] : "");
                        cursor = buffer.Length;
                        break;
                    case ConsoleKey.Tab:
                        var head = buffer.ToString(0, cursor);
                        IReadOnlyList<string> candidates;
                        try { candidates = ReplCompletion.Candidates(_root, head, Names); }
                        catch (UsageException) { break; }
                        var completed = ReplCompletion.Complete(head, candidates);
                        if (completed != head)
                        {
                            buffer.Remove(0, cursor).Insert(0, completed);
                            cursor = completed.Length;
                        }
                        else if (candidates.Count > 1)
                        {
                            Console.WriteLine();
                            Console.WriteLine(string.Join("  ", candidates));
                        }
                        break;
                    default:
                        if (key.KeyChar >= ' ' && !char.IsControl(key.KeyChar)) buffer.Insert(cursor++, key.KeyChar);
                        break;
                }
                Redraw();
            }
        }
    }
}

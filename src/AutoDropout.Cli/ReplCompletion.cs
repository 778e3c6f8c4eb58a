using System.CommandLine;
using System.Text;

namespace AutoDropout.Cli;

/// <summary>The pure side of the REPL: splitting a line into words and completing the last one from the command tree.</summary>
public static class ReplCompletion
{
    /// <summary>Words as a shell splits them: blanks separate, single or double quotes keep blanks in a word.</summary>
    public static IReadOnlyList<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (var c in line)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else { word.Append(c); inWord = true; }
        }
        if (quote != '\0') throw new UsageException("a quote is not closed");
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>
    /// What may follow the words before the cursor: the subcommands and options of the command they name, and, where
    /// that command takes a NAME, the names <paramref name="names"/> gives for it (e.g. the endpoint's searches).
    /// Only those that begin with the partial last word, in order.
    /// </summary>
    /// <param name="names">The dynamic names for a command path ("search show"), or none.</param>
    public static IReadOnlyList<string> Candidates(Command root, string line, Func<string, IEnumerable<string>>? names = null)
    {
        var words = Split(line).ToList();
        string partial = line.Length > 0 && !char.IsWhiteSpace(line[^1]) && words.Count > 0 ? words[^1] : "";
        if (partial.Length > 0) words.RemoveAt(words.Count - 1);
        var command = root;
        var path = new List<string>();
        bool argumentGiven = false;
        foreach (var w in words)
        {
            var sub = command.Subcommands.FirstOrDefault(c => c.Name == w || c.Aliases.Contains(w));
            if (sub is not null && !argumentGiven) { command = sub; path.Add(sub.Name); }
            else if (!w.StartsWith('-')) argumentGiven = true;
        }
        IEnumerable<string> all = partial.StartsWith('-')
            ? command.Options.Concat(Recursive(command)).Where(o => !o.Hidden).Select(o => o.Name)
            : argumentGiven ? [] : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
        if (!partial.StartsWith('-') && !argumentGiven && command.Arguments.Count > 0 && names is not null)
            all = all.Concat(names(string.Join(" ", path)));
        if (command == root && !partial.StartsWith('-')) all = all.Concat(Builtins);
        return all.Where(n => n.StartsWith(partial, StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The REPL's own words.</summary>
    public static readonly string[] Builtins = ["exit", "help", "quit"];

    /// <summary>The line completed as far as all candidates agree; a single candidate gets a blank after it.</summary>
    public static string Complete(string line, IReadOnlyList<string> candidates)
    {
        if (candidates.Count == 0) return line;
        int start = line.Length;
        while (start > 0 && !char.IsWhiteSpace(line[start - 1])) start--;
        var common = candidates[0];
        foreach (var c in candidates.Skip(1))
        {
            int n = 0;
            while (n < common.Length && n < c.Length && common[n] == c[n]) n++;
            common = common[..n];
        }
        if (common.Length < line.Length - start) return line;
        return line[..start] + common + (candidates.Count == 1 ? " " : "");
    }

    private static IEnumerable<Option> Recursive(Command command) =>
        command.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive).Concat(Recursive(p)));
}

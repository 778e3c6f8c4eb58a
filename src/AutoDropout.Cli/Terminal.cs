using Spectre.Console;

namespace AutoDropout.Cli;

/// <summary>Output for people: Spectre.Console when standard output is an interactive terminal, else nothing changes.</summary>
public static class Terminal
{
    /// <summary>Standard output is a terminal someone reads, not a pipe or file a script reads.</summary>
    public static bool ForPeople => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static void WriteTable(string[] headers, IEnumerable<string[]> rows)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded);
        foreach (var h in headers) table.AddColumn(Markup.Escape(h));
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }
}

namespace AutoDropout.Cli;

/// <summary>The command line was wrong: the CLI prints the message and exits with <see cref="ExitCodes.Usage"/>.</summary>
/// <param name="showHelp">Point at the verb's help after the message: yes for a wrong option, no when the command line
/// was right and what it names was not (a data directory that cannot be trained on).</param>
public sealed class UsageException(string message, bool showHelp = true) : Exception(message)
{
    public bool ShowHelp { get; } = showHelp;
}

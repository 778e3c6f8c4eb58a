namespace AutoDropout.Cli;

/// <summary>The command line was wrong: the CLI prints the message and exits with <see cref="ExitCodes.Usage"/>.</summary>
public sealed class UsageException(string message) : Exception(message);

using Serilog;
using Serilog.Formatting.Compact;

namespace AutoDropout.Cluster;

/// <summary>
/// The node's one log pipeline: Akka's logger (base.conf) hands events to Serilog's global logger, set here, which
/// writes them to standard output as plain lines or as JSON objects, one a line. Properties attached to a line (a
/// search's name, a trial's id) are fields of its JSON object.
/// </summary>
public static class NodeLogging
{
    public const string PlainTemplate = "[{Timestamp:yyyy-MM-dd HH:mm:ss.fff}][{Level:u3}][{LogSource}] {Message:lj}{NewLine}{Exception}";

    /// <param name="format">"plain" (or null) or "json".</param>
    public static void Configure(string? format)
    {
        var json = format?.ToLowerInvariant() switch
        {
            null or "" or "plain" => false,
            "json" => true,
            _ => throw new ArgumentException($"--log-format: '{format}'; plain or json"),
        };
        // Akka's loglevel filters first; Serilog passes whatever it is given
        var configuration = new LoggerConfiguration().MinimumLevel.Verbose();
        Log.Logger = (json
                ? configuration.WriteTo.Console(new RenderedCompactJsonFormatter())
                : configuration.WriteTo.Console(outputTemplate: PlainTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture))
            .CreateLogger();
    }
}

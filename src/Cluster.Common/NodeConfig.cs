using Akka.Configuration;

namespace AutoDropout.Cluster;

/// <summary>The HOCON files under hocon/ (embedded), and the configuration of process-local ActorSystems.</summary>
public static class NodeConfig
{
    /// <summary>The text of one of the HOCON files under hocon/, embedded in this assembly.</summary>
    public static string Embedded(string fileName)
    {
        using var stream = typeof(NodeConfig).Assembly.GetManifestResourceStream($"AutoDropout.Hocon.{fileName}")
            ?? throw new FileNotFoundException($"hocon/{fileName} is not embedded in this build");
        return new StreamReader(stream).ReadToEnd();
    }

    public static Config EmbeddedConfig(string fileName) => ConfigurationFactory.ParseString(Embedded(fileName));

    /// <summary>
    /// A process-local (not clustered) ActorSystem's configuration: our serializer and settings from base.conf,
    /// quiet logging, and the given layers on top (e.g. persistence). For tools, benchmarks and tests.
    /// </summary>
    public static Config Local(params Config[] layers)
    {
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        foreach (var layer in layers) config = config.WithFallback(layer);
        return config.WithFallback(EmbeddedConfig("base.conf"));
    }

    /// <summary>A HOCON string literal.</summary>
    public static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

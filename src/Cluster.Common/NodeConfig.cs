using Akka.Configuration;

namespace AutoDropout.Cluster;

/// <summary>Composes a node's configuration: command-line overrides, an optional user file, the role's HOCON, base.conf.</summary>
public static class NodeConfig
{
    /// <summary>The text of one of the HOCON files under hocon/, embedded in this assembly.</summary>
    public static string Embedded(string fileName)
    {
        using var stream = typeof(NodeConfig).Assembly.GetManifestResourceStream($"AutoDropout.Hocon.{fileName}")
            ?? throw new FileNotFoundException($"hocon/{fileName} is not embedded in this build");
        return new StreamReader(stream).ReadToEnd();
    }

    public static Config Build(NodeOptions node, IEnumerable<string> roleFiles, string extraOverrides = "")
    {
        var seeds = node.SeedNodes.Count == 0
            ? [$"akka.tcp://{NodeOptions.SystemName}@{node.Host}:{node.Port}"]
            : node.SeedNodes.Select(s => $"akka.tcp://{NodeOptions.SystemName}@{s}").ToArray();
        var overrides = $$"""
            akka.remote.dot-netty.tcp.hostname = {{Quote(node.Host)}}
            akka.remote.dot-netty.tcp.port = {{node.Port}}
            akka.cluster.seed-nodes = [{{string.Join(", ", seeds.Select(Quote))}}]
            {{extraOverrides}}
            """;
        var config = ConfigurationFactory.ParseString(overrides);
        if (node.ExtraConfigFile is not null)
            config = config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(node.ExtraConfigFile)));
        foreach (var file in roleFiles) config = config.WithFallback(ConfigurationFactory.ParseString(Embedded(file)));
        return config.WithFallback(ConfigurationFactory.ParseString(Embedded("base.conf")));
    }

    /// <summary>
    /// A process-local (not clustered) ActorSystem's configuration: our serializer and settings from base.conf,
    /// quiet logging, and the given layers on top (e.g. persistence). For tools, benchmarks and tests.
    /// </summary>
    public static Config Local(params Config[] layers)
    {
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        foreach (var layer in layers) config = config.WithFallback(layer);
        return config.WithFallback(ConfigurationFactory.ParseString(Embedded("base.conf")));
    }

    /// <summary>A HOCON string literal.</summary>
    public static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

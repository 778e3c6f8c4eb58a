using Akka.Configuration;
using AutoDropout.Cluster;
using Npgsql;
using YamlDotNet.RepresentationModel;

namespace AutoDropout.Tests.Support;

internal static partial class DeployChecks
{
    private static readonly HashSet<string> DependsOnConditions = ["service_started", "service_healthy", "service_completed_successfully"];

    /// <summary>Problems of a compose file; paths in it are relative to <paramref name="directory"/>.</summary>
    public static List<string> CheckCompose(string text, string directory)
    {
        var problems = new List<string>();
        var root = LoadYaml(text)[0].RootNode;
        var services = root.Get("services").Entries().ToDictionary(e => e.Key, e => e.Value);
        var secrets = root.Get("secrets").Entries().Select(e => e.Key).ToHashSet();
        var volumes = root.Get("volumes").Entries().Select(e => e.Key).ToHashSet();
        var configs = root.Get("configs").Entries().ToDictionary(e => e.Key, e => e.Value.Get("file").Text());
        if (services.Count == 0) problems.Add("no services");

        foreach (var (name, config) in configs)
            if (config is null || !File.Exists(Path.Combine(directory, config))) problems.Add($"config {name}: no file {config}");
            else if (config.EndsWith(".conf", StringComparison.Ordinal))
                try { ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(directory, config))); }
                catch (Exception e) { problems.Add($"config {name}: {config} is not HOCON: {e.Message}"); }

        // images a service builds, so that a service running the same image knows its entrypoint
        var dockerfiles = new Dictionary<string, Dockerfile>();
        foreach (var (name, service) in services)
        {
            if (service.Get("build") is not { } build) continue;
            var context = Path.GetFullPath(Path.Combine(directory, build.Text() ?? build.Get("context").Text() ?? "."));
            var dockerfile = Path.Combine(context, build.Get("dockerfile").Text() ?? "Dockerfile");
            if (!Directory.Exists(context)) problems.Add($"{name}: build context {context} does not exist");
            else if (!File.Exists(dockerfile)) problems.Add($"{name}: no Dockerfile {dockerfile}");
            else if (service.Get("image").Text() is { } image) dockerfiles[image] = Dockerfile.Parse(File.ReadAllText(dockerfile));
            else dockerfiles["service:" + name] = Dockerfile.Parse(File.ReadAllText(dockerfile));
        }

        foreach (var (name, service) in services)
        {
            var own = service.Get("secrets").Items().Select(s => s.Text() ?? s.Get("source").Text() ?? "").ToHashSet();
            foreach (var secret in own.Where(s => !secrets.Contains(s))) problems.Add($"{name}: secret {secret} is not declared");
            foreach (var config in service.Get("configs").Items().Select(c => c.Text() ?? c.Get("source").Text() ?? "").Where(c => !configs.ContainsKey(c)))
                problems.Add($"{name}: config {config} is not declared");
            foreach (var volume in service.Get("volumes").Items().Select(v => v.Text()?.Split(':')[0] ?? v.Get("source").Text() ?? ""))
                if (!volume.StartsWith('.') && !volume.StartsWith('/') && !volumes.Contains(volume))
                    problems.Add($"{name}: volume {volume} is not declared");

            foreach (var (dependency, spec) in service.Get("depends_on").Entries())
            {
                if (!services.TryGetValue(dependency, out var target)) { problems.Add($"{name}: depends on {dependency}, which is no service"); continue; }
                var condition = spec.Get("condition").Text() ?? "service_started";
                if (!DependsOnConditions.Contains(condition)) problems.Add($"{name}: depends on {dependency} with an unknown condition {condition}");
                if (condition == "service_healthy" && target.Get("healthcheck") is null && !dockerfiles.TryGetValue(target.Get("image").Text() ?? "", out _))
                    problems.Add($"{name}: waits for {dependency} to be healthy, which has no health check");
            }
            foreach (var dependency in service.Get("depends_on").Items().Select(d => d.Text() ?? ""))
                if (!services.ContainsKey(dependency)) problems.Add($"{name}: depends on {dependency}, which is no service");

            var env = Environment(service.Get("environment"));
            problems.AddRange(UnknownVariables(env.Keys, name));
            // files the node is pointed at: secrets mount at /run/secrets/NAME, configs at their target
            var mounted = own.Select(s => "/run/secrets/" + s)
                .Concat(service.Get("configs").Items().Select(c => c.Get("target").Text() ?? "/" + c.Text())).ToHashSet();
            foreach (var (key, value) in env.Where(e => e.Key.StartsWith("AUTODROPOUT_", StringComparison.Ordinal)))
                if (value.StartsWith("/run/secrets/", StringComparison.Ordinal) || value.StartsWith("/etc/autodropout/", StringComparison.Ordinal))
                    if (!mounted.Contains(value)) problems.Add($"{name}: {key}={value}, which is not mounted in the service");
            if (env.TryGetValue(NodeEnvironment.Database, out var db) && db.Contains("Host=", StringComparison.Ordinal))
            {
                try
                {
                    var connection = new NpgsqlConnectionStringBuilder(db);
                    if (connection.Host is { } host && !services.ContainsKey(host)) problems.Add($"{name}: the journal's host {host} is no service");
                    if (connection.Passfile is { } passfile && !mounted.Contains(passfile)) problems.Add($"{name}: Passfile {passfile} is not mounted");
                }
                catch (ArgumentException e) { problems.Add($"{name}: {NodeEnvironment.Database} is no PostgreSQL connection string: {e.Message}"); }
            }

            var image = service.Get("image").Text();
            var file = image is not null && dockerfiles.TryGetValue(image, out var f) ? f
                : dockerfiles.TryGetValue("service:" + name, out var g) ? g : null;
            if (file is not null)
            {
                var entry = file.Runtime.All("ENTRYPOINT").Last().Words;
                var command = service.Get("command") is { } c ? c.Strings() : file.Runtime.All("CMD").LastOrDefault()?.Words.ToList() ?? [];
                problems.AddRange(CommandProblems([.. entry, .. command], $"{name} command"));
                var ports = DeclaredPorts(file.Runtime.Environment().Concat(env).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value), [.. entry, .. command]);
                foreach (var published in service.Get("ports").Items().Select(p => p.Text() ?? ""))
                    if (!int.TryParse(published.Split(':')[^1].Split('/')[0], out var port) || !ports.Contains(port))
                        problems.Add($"{name}: publishes {published}, no port the node uses");
                var test = service.Get("healthcheck").Get("test").Strings();
                if (test.Count > 0 && HealthUrl().Match(string.Join(' ', test)) is { Success: true } url && !ports.Contains(int.Parse(url.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture)))
                    problems.Add($"{name}: the health check asks port {url.Groups["port"].Value}, no port the node uses");
            }
            else if (image?.StartsWith("autodropout", StringComparison.Ordinal) == true)
                problems.Add($"{name}: image {image} is built by no service");
        }
        return problems;
    }

    /// <summary>A service's environment, in the mapping or the list form.</summary>
    private static Dictionary<string, string> Environment(YamlNode? node) =>
        node is YamlSequenceNode
            ? node.Strings().Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "")
            : node.Entries().ToDictionary(e => e.Key, e => e.Value.Text() ?? "");
}

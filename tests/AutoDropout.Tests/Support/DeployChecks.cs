using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Seed;
using YamlDotNet.RepresentationModel;

namespace AutoDropout.Tests.Support;

/// <summary>
/// Checks the deployment manifests under deploy/ against the code: paths they copy or build exist, variables they
/// set are ones the nodes read, ports they expose are the nodes' ports, and commands parse with the executables' own
/// parsers. Each check returns the problems it found (empty: fine), so a test can also feed it a bad manifest.
/// </summary>
internal static partial class DeployChecks
{
    /// <summary>The repository's root: the first folder above the test's output that holds the solution.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AutoDropout.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (AutoDropout.sln) is not above " + AppContext.BaseDirectory);
    }

    /// <summary>The AUTODROPOUT_* variables the nodes read: the constants of <see cref="NodeEnvironment"/>.</summary>
    public static HashSet<string> NodeVariables { get; } = typeof(NodeEnvironment)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet();

    public static IEnumerable<string> UnknownVariables(IEnumerable<string> names, string where) =>
        names.Where(n => n.StartsWith("AUTODROPOUT_", StringComparison.Ordinal) && !NodeVariables.Contains(n))
            .Select(n => $"{where}: {n} is not a variable the nodes read");

    /// <summary>
    /// A command as an image runs it: `dotnet /app/X.dll args...`; the args must parse with X's own parser (the
    /// CLI's, or the seed executable's).
    /// </summary>
    public static IEnumerable<string> CommandProblems(IReadOnlyList<string> command, string where)
    {
        if (command.Count < 2 || command[0] != "dotnet" || !command[1].EndsWith(".dll", StringComparison.Ordinal))
            return [$"{where}: '{string.Join(' ', command)}' is not `dotnet X.dll ...`"];
        var args = command.Skip(2).ToArray();
        var errors = Path.GetFileName(command[1]) switch
        {
            "autodropout.dll" => CliApp.Parse(args).Errors.Select(e => e.Message),
            "autodropout-seed.dll" => NodeCommandLine.AsRoot(SeedNode.Command()).Parse(args).Errors.Select(e => e.Message),
            var other => [$"{other} is not one of the executables (autodropout.dll, autodropout-seed.dll)"],
        };
        return errors.Select(e => $"{where}: `{string.Join(' ', args)}`: {e}");
    }

    // ---- Dockerfiles ----

    /// <summary>Problems of one Dockerfile, relative to the repository root (its build context).</summary>
    public static List<string> CheckDockerfile(string text, string name, string root)
    {
        var problems = new List<string>();
        var file = Dockerfile.Parse(text);
        var ignored = DockerIgnore(root);
        if (file.Stages.Count < 2) problems.Add($"{name}: not multi-stage");
        var build = file.Stages[0];
        if (!build.Image.StartsWith("mcr.microsoft.com/dotnet/sdk:", StringComparison.Ordinal))
            problems.Add($"{name}: the first stage builds from {build.Image}, not the .NET SDK");
        var runtime = file.Runtime;
        if (runtime.Image.Contains("/dotnet/sdk", StringComparison.Ordinal)) problems.Add($"{name}: the runtime stage is the SDK");

        foreach (var stage in file.Stages)
        {
            var copied = new List<string>();
            foreach (var i in stage.Instructions)
            {
                if (i.Keyword == "COPY" && !i.Flags.ContainsKey("from"))
                {
                    var words = i.Words;
                    foreach (var source in words.Take(words.Count - 1))
                    {
                        if (!File.Exists(Path.Combine(root, source)) && !Directory.Exists(Path.Combine(root, source)))
                            problems.Add($"{name}:{i.Line}: COPY {source}: no such file or folder in the repository");
                        else if (ignored.FirstOrDefault(p => IgnoreMatches(p, source)) is { } pattern)
                            problems.Add($"{name}:{i.Line}: COPY {source}: .dockerignore leaves it out ({pattern})");
                        copied.Add(source);
                    }
                }
                if (i.Keyword == "RUN")
                    foreach (Match m in DotnetProject().Matches(i.Arguments))
                    {
                        var project = m.Groups["project"].Value;
                        if (!File.Exists(Path.Combine(root, project)))
                            problems.Add($"{name}:{i.Line}: dotnet {m.Groups["verb"].Value} {project}: no such project");
                        else if (m.Groups["verb"].Value == "restore")
                            // a restore from the project files alone needs every project it references copied first
                            foreach (var needed in ProjectClosure(root, project).Where(p => !copied.Any(c => Covers(c, p))))
                                problems.Add($"{name}:{i.Line}: restore of {project} needs {needed}, not copied before it");
                    }
            }
            problems.AddRange(UnknownVariables(stage.Environment().Keys, name));
        }

        var users = runtime.All("USER").ToList();
        if (users.Count == 0 || users[^1].Arguments.Split(':')[0] is "root" or "0")
            problems.Add($"{name}: the runtime stage runs as root");

        var env = runtime.Environment();
        var entry = runtime.All("ENTRYPOINT").LastOrDefault();
        var cmd = runtime.All("CMD").LastOrDefault();
        if (entry is null || !entry.IsExecForm) problems.Add($"{name}: no ENTRYPOINT in exec form");
        else
        {
            var command = entry.Words.Concat(cmd?.Words ?? []).ToList();
            problems.AddRange(CommandProblems(command, $"{name} ENTRYPOINT+CMD"));
            // the executable is the one the build stage publishes, copied to where the entrypoint runs it
            var dll = Path.GetFileName(command[1]);
            var published = PublishedAssemblies(root, file);
            if (!published.Contains(dll)) problems.Add($"{name}: runs {dll}, but the build publishes {string.Join(", ", published)}");
            if (!runtime.All("COPY").Any(c => c.Flags.ContainsKey("from") && command[1].StartsWith(c.Words[^1].TrimEnd('/') + "/", StringComparison.Ordinal)))
                problems.Add($"{name}: {command[1]} is not under a folder copied from the build stage");
        }

        var ports = DeclaredPorts(env, entry is null ? [] : entry.Words.Concat(cmd?.Words ?? []).ToList());
        var exposed = runtime.All("EXPOSE").SelectMany(i => i.Words).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        foreach (var port in exposed.Where(p => !ports.Contains(p)))
            problems.Add($"{name}: EXPOSE {port} is no port the node uses ({string.Join(", ", ports)})");
        if (env.TryGetValue(NodeEnvironment.CommandPort, out var commandPort) && !exposed.Contains(int.Parse(commandPort, System.Globalization.CultureInfo.InvariantCulture)))
            problems.Add($"{name}: the command port {commandPort} is not exposed");

        var health = runtime.All("HEALTHCHECK").LastOrDefault();
        if (health is null) problems.Add($"{name}: no HEALTHCHECK");
        else
        {
            var words = health.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words is not ["CMD", var tool, ..]) problems.Add($"{name}: HEALTHCHECK without CMD");
            else
            {
                if (!runtime.All("RUN").Any(r => r.Arguments.Contains("install", StringComparison.Ordinal) && r.Words.Contains(tool)))
                    problems.Add($"{name}: the health check runs {tool}, which the runtime stage does not install");
                var url = HealthUrl().Match(health.Arguments);
                if (!url.Success) problems.Add($"{name}: the health check asks no /v1/health route");
                else if (url.Groups["port"].Value is var port && port != "${" + NodeEnvironment.CommandPort + "}" && port != commandPort)
                    problems.Add($"{name}: the health check asks port {port}, not the command port");
            }
        }
        return problems;
    }

    /// <summary>Remoting and command ports a node runs with: the seed's default, the image's variables, its flags.</summary>
    private static HashSet<int> DeclaredPorts(Dictionary<string, string> env, IReadOnlyList<string> command)
    {
        var ports = new HashSet<int> { NodeOptions.DefaultSeedPort };
        foreach (var key in new[] { NodeEnvironment.Port, NodeEnvironment.CommandPort })
            if (env.TryGetValue(key, out var value) && int.TryParse(value, out var port)) ports.Add(port);
        for (int i = 0; i + 1 < command.Count; i++)
            if (command[i] is "--port" or "--cmd-port" && int.TryParse(command[i + 1], out var port)) ports.Add(port);
        return ports;
    }

    /// <summary>Assembly names (X.dll) of the projects the Dockerfile publishes.</summary>
    private static HashSet<string> PublishedAssemblies(string root, Dockerfile file) => file.Stages
        .SelectMany(s => s.All("RUN"))
        .SelectMany(r => DotnetProject().Matches(r.Arguments))
        .Where(m => m.Groups["verb"].Value == "publish" && File.Exists(Path.Combine(root, m.Groups["project"].Value)))
        .Select(m =>
        {
            var project = Path.Combine(root, m.Groups["project"].Value);
            var assembly = XDocument.Load(project).Descendants("AssemblyName").FirstOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(project);
            return assembly + ".dll";
        })
        .ToHashSet();

    /// <summary>A project and every project it references, transitively, as paths from the root.</summary>
    private static SortedSet<string> ProjectClosure(string root, string project)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([project]);
        while (queue.TryDequeue(out var next))
        {
            if (!found.Add(next)) continue;
            var full = Path.Combine(root, next);
            if (!File.Exists(full)) continue;
            foreach (var reference in XDocument.Load(full).Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(full)!, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                queue.Enqueue(Path.GetRelativePath(root, path).Replace('\\', '/'));
            }
        }
        return found;
    }

    private static bool Covers(string copied, string path) =>
        copied.TrimEnd('/') == path || path.StartsWith(copied.TrimEnd('/') + "/", StringComparison.Ordinal) || copied is "." or "./";

    /// <summary>The .dockerignore's patterns; only the forms it uses (folder/, **/folder/, *.ext, name).</summary>
    private static List<string> DockerIgnore(string root)
    {
        var path = Path.Combine(root, ".dockerignore");
        return !File.Exists(path) ? [] : File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
    }

    private static bool IgnoreMatches(string pattern, string source)
    {
        var segments = source.TrimEnd('/').Split('/');
        var p = pattern.TrimEnd('/');
        if (p.StartsWith("**/", StringComparison.Ordinal)) return segments.Contains(p[3..]);
        if (p.StartsWith("*.", StringComparison.Ordinal)) return segments[^1].EndsWith(p[1..], StringComparison.Ordinal);
        return segments[0] == p || source.TrimEnd('/') == p;
    }

    [GeneratedRegex(@"dotnet\s+(?<verb>restore|publish|build)\s+(?<project>\S+\.csproj)")]
    private static partial Regex DotnetProject();

    [GeneratedRegex(@"https?://[^/:\s""]+:(?<port>\$\{\w+\}|\d+)/v1/health")]
    private static partial Regex HealthUrl();

    // ---- YAML helpers ----

    public static List<YamlDocument> LoadYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return [.. stream.Documents];
    }

    public static YamlNode? Get(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string? Text(this YamlNode? node) => (node as YamlScalarNode)?.Value;

    public static IEnumerable<KeyValuePair<string, YamlNode>> Entries(this YamlNode? node) =>
        node is YamlMappingNode map ? map.Children.Select(c => new KeyValuePair<string, YamlNode>(((YamlScalarNode)c.Key).Value!, c.Value)) : [];

    public static IEnumerable<YamlNode> Items(this YamlNode? node) => node is YamlSequenceNode list ? list.Children : [];

    public static List<string> Strings(this YamlNode? node) =>
        node is YamlSequenceNode list ? list.Children.Select(c => c.Text() ?? "").ToList()
        : node.Text() is { } single ? [single] : [];
}

using Akka.Configuration;
using YamlDotNet.RepresentationModel;

namespace AutoDropout.Tests.Support;

internal static partial class DeployChecks
{
    /// <summary>What a kustomization (with its bases) holds: objects by kind/name, and generated keys by name.</summary>
    internal sealed class Kustomized
    {
        public List<(string File, YamlNode Node)> Objects { get; } = [];
        public Dictionary<string, HashSet<string>> ConfigMapKeys { get; } = [];
        public Dictionary<string, HashSet<string>> SecretKeys { get; } = [];
        /// <summary>Files behind each config map key, to read the HOCON in them.</summary>
        public Dictionary<(string Map, string Key), string> ConfigMapFiles { get; } = [];
        public List<(string File, YamlNode Patch)> Patches { get; } = [];
    }

    /// <summary>Images the pods run, by repository name, and the Dockerfile that builds each.</summary>
    public static readonly Dictionary<string, string> ImageDockerfiles = new()
    {
        ["autodropout-seed"] = "deploy/docker/seed.Dockerfile",
        ["autodropout-node:cpu"] = "deploy/docker/node.Dockerfile",
        ["autodropout-node:cuda"] = "deploy/docker/node-cuda.Dockerfile",
    };

    /// <summary>Loads a kustomization folder (and its bases), noting every reference that does not resolve.</summary>
    public static Kustomized LoadKustomization(string directory, List<string> problems, Kustomized? into = null)
    {
        into ??= new Kustomized();
        var path = Path.Combine(directory, "kustomization.yaml");
        if (!File.Exists(path)) { problems.Add($"{directory}: no kustomization.yaml"); return into; }
        var k = LoadYaml(File.ReadAllText(path))[0].RootNode;
        foreach (var resource in k.Get("resources").Strings())
        {
            var full = Path.GetFullPath(Path.Combine(directory, resource));
            if (Directory.Exists(full)) LoadKustomization(full, problems, into);
            else if (File.Exists(full)) into.Objects.AddRange(LoadYaml(File.ReadAllText(full)).Select(d => (full, d.RootNode)));
            else problems.Add($"{path}: resource {resource} does not exist");
        }
        foreach (var generator in k.Get("configMapGenerator").Items())
            into.ConfigMapKeys[generator.Get("name").Text()!] = GeneratedKeys(generator, directory, path, problems, into.ConfigMapFiles);
        foreach (var generator in k.Get("secretGenerator").Items())
            into.SecretKeys[generator.Get("name").Text()!] = GeneratedKeys(generator, directory, path, problems, null);
        foreach (var patch in k.Get("patches").Items())
        {
            var file = patch.Get("path").Text();
            if (file is null) continue;
            var full = Path.Combine(directory, file);
            if (!File.Exists(full)) { problems.Add($"{path}: patch {file} does not exist"); continue; }
            into.Patches.AddRange(LoadYaml(File.ReadAllText(full)).Select(d => (full, d.RootNode)));
        }
        foreach (var (file, node) in into.Objects)
        {
            var name = node.Get("metadata").Get("name").Text() ?? "";
            var kind = node.Get("kind").Text();
            if (kind == "ConfigMap") into.ConfigMapKeys[name] = node.Get("data").Entries().Select(e => e.Key).ToHashSet();
            if (kind == "Secret") into.SecretKeys[name] = node.Get("data").Entries().Concat(node.Get("stringData").Entries()).Select(e => e.Key).ToHashSet();
        }
        return into;
    }

    private static HashSet<string> GeneratedKeys(YamlNode generator, string directory, string path, List<string> problems, Dictionary<(string, string), string>? files)
    {
        var name = generator.Get("name").Text()!;
        var keys = new HashSet<string>();
        foreach (var literal in generator.Get("literals").Strings()) keys.Add(literal.Split('=', 2)[0]);
        foreach (var entry in generator.Get("files").Strings())
        {
            var parts = entry.Split('=', 2);
            var (key, file) = parts.Length == 2 ? (parts[0], parts[1]) : (Path.GetFileName(entry), entry);
            var full = Path.Combine(directory, file);
            if (!File.Exists(full)) problems.Add($"{path}: {name} takes {file}, which does not exist");
            else if (files is not null) files[(name, key)] = full;
            keys.Add(key);
        }
        return keys;
    }

    /// <summary>Problems of a kustomization: references, keys, probes, variables and commands of every pod.</summary>
    public static List<string> CheckKustomization(string directory, string root)
    {
        var problems = new List<string>();
        var k = LoadKustomization(directory, problems);
        var objects = k.Objects.Select(o => (o.File, Kind: o.Node.Get("kind").Text() ?? "", Name: o.Node.Get("metadata").Get("name").Text() ?? "", o.Node)).ToList();

        foreach (var (file, patch) in k.Patches)
        {
            var kind = patch.Get("kind").Text();
            var name = patch.Get("metadata").Get("name").Text();
            var target = objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);
            if (target.Node is null) { problems.Add($"{file}: patches {kind}/{name}, which is not in the base"); continue; }
            var containers = target.Node.Get("spec").Get("template").Get("spec").Get("containers").Items().Select(c => c.Get("name").Text()).ToHashSet();
            foreach (var container in patch.Get("spec").Get("template").Get("spec").Get("containers").Items().Select(c => c.Get("name").Text()))
                if (!containers.Contains(container)) problems.Add($"{file}: patches container {container}, which {kind}/{name} does not have");
        }

        foreach (var (file, kind, name, node) in objects.Where(o => o.Kind is "Deployment" or "StatefulSet" or "DaemonSet"))
        {
            var where = $"{Path.GetFileName(file)} {kind}/{name}";
            var pod = node.Get("spec").Get("template").Get("spec");
            var volumes = pod.Get("volumes").Items().ToDictionary(v => v.Get("name").Text()!, v => v);
            foreach (var (volumeName, volume) in volumes)
            {
                if (volume.Get("configMap") is { } map) problems.AddRange(KeyProblems(where, "config map", map.Get("name").Text(), map.Get("items").Items().Select(i => i.Get("key").Text()), k.ConfigMapKeys));
                if (volume.Get("secret") is { } secret) problems.AddRange(KeyProblems(where, "secret", secret.Get("secretName").Text(), secret.Get("items").Items().Select(i => i.Get("key").Text()), k.SecretKeys));
            }
            bool ours = false;
            foreach (var container in pod.Get("containers").Items())
            {
                var containerName = container.Get("name").Text();
                var at = $"{where} container {containerName}";
                var ports = container.Get("ports").Items().ToDictionary(p => p.Get("name").Text() ?? p.Get("containerPort").Text()!, p => p.Get("containerPort").Text()!);
                var env = new Dictionary<string, string>();
                foreach (var variable in container.Get("env").Items())
                {
                    var key = variable.Get("name").Text()!;
                    env[key] = variable.Get("value").Text() ?? "";
                    if (variable.Get("valueFrom").Get("secretKeyRef") is { } secretRef)
                        problems.AddRange(KeyProblems(at, "secret", secretRef.Get("name").Text(), [secretRef.Get("key").Text()], k.SecretKeys));
                    if (variable.Get("valueFrom").Get("configMapKeyRef") is { } mapRef)
                        problems.AddRange(KeyProblems(at, "config map", mapRef.Get("name").Text(), [mapRef.Get("key").Text()], k.ConfigMapKeys));
                    // $(VAR) takes only variables defined above it
                    foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(env[key], @"\$\((\w+)\)"))
                        if (!env.ContainsKey(m.Groups[1].Value) || m.Groups[1].Value == key) problems.Add($"{at}: {key} uses $({m.Groups[1].Value}), not defined above it");
                }
                problems.AddRange(UnknownVariables(env.Keys, at));

                foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
                    if (container.Get(probe).Get("httpGet") is { } get)
                    {
                        var port = get.Get("port").Text()!;
                        if (!ports.ContainsKey(port) && !ports.ContainsValue(port)) problems.Add($"{at}: {probe} asks port {port}, which the container does not have");
                    }

                var image = container.Get("image").Text() ?? "";
                var dockerfile = ImageDockerfiles.FirstOrDefault(i => image == i.Key || image.StartsWith(i.Key + ":", StringComparison.Ordinal)).Value;
                if (!image.StartsWith("autodropout", StringComparison.Ordinal)) continue;
                ours = true;
                if (dockerfile is null) { problems.Add($"{at}: no Dockerfile builds {image}"); continue; }
                var runtime = Dockerfile.Parse(File.ReadAllText(Path.Combine(root, dockerfile))).Runtime;
                var entry = container.Get("command") is { } c ? c.Strings() : runtime.All("ENTRYPOINT").Last().Words.ToList();
                var args = container.Get("args") is { } a ? a.Strings() : runtime.All("CMD").LastOrDefault()?.Words.ToList() ?? [];
                problems.AddRange(CommandProblems([.. entry, .. args], at));
                var nodePorts = DeclaredPorts(runtime.Environment().Concat(env).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value), [.. entry, .. args]);
                foreach (var (portName, port) in ports.Where(p => !nodePorts.Contains(int.Parse(p.Value, System.Globalization.CultureInfo.InvariantCulture))))
                    problems.Add($"{at}: container port {portName} ({port}) is no port the node uses");
                if (container.Get("readinessProbe").Get("httpGet").Get("path").Text() != "/v1/health/ready") problems.Add($"{at}: readiness is not /v1/health/ready");
                if (container.Get("livenessProbe").Get("httpGet").Get("path").Text() != "/v1/health") problems.Add($"{at}: liveness is not /v1/health");

                // files the node is pointed at are mounted: a config map's key, a secret's item
                var mounts = container.Get("volumeMounts").Items().ToDictionary(m => m.Get("mountPath").Text()!.TrimEnd('/'), m => m.Get("name").Text()!);
                foreach (var (key, value) in env.Where(e => e.Value.StartsWith('/') && (e.Key.EndsWith("_FILE", StringComparison.Ordinal) || e.Key is "AUTODROPOUT_TLS_CERT" or "AUTODROPOUT_CONFIG")))
                {
                    var folder = Path.GetDirectoryName(value)!;
                    if (!mounts.TryGetValue(folder, out var volumeName) || !volumes.TryGetValue(volumeName, out var volume)) { problems.Add($"{at}: {key}={value} is in no mounted volume"); continue; }
                    var source = volume.Get("configMap") ?? volume.Get("secret");
                    var items = source.Get("items").Items().ToDictionary(i => i.Get("path").Text()!, i => i.Get("key").Text()!);
                    if (!items.TryGetValue(Path.GetFileName(value), out var itemKey)) { problems.Add($"{at}: {key}={value}: the volume {volumeName} has no item {Path.GetFileName(value)}"); continue; }
                    if (key == "AUTODROPOUT_CONFIG" && volume.Get("configMap").Get("name").Text() is { } mapName && k.ConfigMapFiles.TryGetValue((mapName, itemKey), out var hocon))
                        try { ConfigurationFactory.ParseString(File.ReadAllText(hocon)); }
                        catch (Exception e) { problems.Add($"{at}: {hocon} is not HOCON: {e.Message}"); }
                }
            }
            if (ours && pod.Get("securityContext").Get("runAsNonRoot").Text() != "true") problems.Add($"{where}: runAsNonRoot is not set");
        }
        return problems;
    }

    private static IEnumerable<string> KeyProblems(string where, string what, string? name, IEnumerable<string?> keys, Dictionary<string, HashSet<string>> known)
    {
        if (name is null || !known.TryGetValue(name, out var have)) return [$"{where}: {what} {name} is not in the kustomization"];
        return keys.Where(key => key is null || !have.Contains(key)).Select(key => $"{where}: {what} {name} has no key {key}");
    }

    /// <summary>The preStop commands of every pod, with where they are.</summary>
    public static IEnumerable<(string Where, List<string> Command)> PreStopCommands(Kustomized k) =>
        k.Objects.Where(o => o.Node.Get("kind").Text() is "Deployment" or "StatefulSet")
            .SelectMany(o => o.Node.Get("spec").Get("template").Get("spec").Get("containers").Items()
                .Where(c => c.Get("lifecycle").Get("preStop").Get("exec") is not null)
                .Select(c => ($"{Path.GetFileName(o.File)} {o.Node.Get("metadata").Get("name").Text()} preStop",
                    c.Get("lifecycle").Get("preStop").Get("exec").Get("command").Strings())));
}

using System.Diagnostics;
using System.Globalization;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Tests.Support;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// deploy/systemd's units and deploy/local's scripts start a real cluster on 127.0.0.1 and stop it cleanly. The
/// units run as systemd would run them, less the user switch: their environment and environment files, their
/// ExecStart (with /opt/autodropout being the built executables), their KillSignal and TimeoutStopSec.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class DeployProcessTests : IDisposable
{
    private static readonly string[] Roles = ["seed", "controller", "trainer"];
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-deploy-").FullName;

    private static string Deploy(params string[] parts) => Path.Combine([DeployChecks.RepositoryRoot, "deploy", .. parts]);

    private static SystemdUnit Unit(string role) => SystemdUnit.Parse(File.ReadAllText(Deploy("systemd", $"autodropout-{role}.service")));

    [Fact]
    public void The_units_restart_on_failure_stop_in_time_and_name_example_environment_files()
    {
        foreach (var role in Roles)
        {
            var unit = Unit(role);
            Assert.Equal("on-failure", unit.Service("Restart"));
            Assert.Equal("SIGTERM", unit.Service("KillSignal"));
            Assert.InRange(int.Parse(unit.Service("TimeoutStopSec")!, CultureInfo.InvariantCulture), 15, 120);
            Assert.Contains("network-online.target", unit.Values("Unit", "Wants"));
            foreach (var file in unit.Values("Service", "EnvironmentFile"))
                Assert.True(File.Exists(Deploy("systemd", Path.GetFileName(file.TrimStart('-')) + ".example")), $"{file} has no example");
            var command = unit.Service("ExecStart")!.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            Assert.Equal("/usr/bin/dotnet", command[0]);
            Assert.Empty(DeployChecks.CommandProblems(["dotnet", .. command.Skip(1)], role));
        }
        foreach (var example in Directory.GetFiles(Deploy("systemd"), "*.env.example"))
            Assert.Empty(DeployChecks.UnknownVariables(SystemdUnit.ReadEnvironmentFile(File.ReadAllText(example)).Keys, example));
    }

    [Fact]
    public async Task The_systemd_units_start_a_cluster_and_stop_cleanly()
    {
        int seedPort = NodeProcess.FreePort(), cmdPort = NodeProcess.FreePort();
        var home = Directory.CreateDirectory(Path.Combine(_work, "home")).FullName;
        // the files the units name, as an operator would write them (examples beside the units)
        var files = new Dictionary<string, string>
        {
            ["/etc/autodropout/node.env"] = $"AUTODROPOUT_HOST=127.0.0.1\nAUTODROPOUT_SEEDS=127.0.0.1:{seedPort}\n",
            ["/etc/autodropout/seed.env"] = $"# the seed's port\nAUTODROPOUT_PORT={seedPort}\n",
            ["/etc/autodropout/controller.env"] = $"AUTODROPOUT_CMD_PORT={cmdPort}\nAUTODROPOUT_PERSISTENCE=sqlite\nAUTODROPOUT_DB=\"{Path.Combine(home, "autodropout.db")}\"\n",
            ["/etc/autodropout/trainer.env"] = "AUTODROPOUT_DEVICES=cpu\n",
        };
        var nodes = new List<(string Role, SystemdUnit Unit, Process Process, Task<string> Log)>();
        try
        {
            foreach (var role in Roles)
            {
                var unit = Unit(role);
                var environment = new Dictionary<string, string>();
                foreach (var setting in unit.Values("Service", "Environment"))
                    foreach (var (key, value) in SystemdUnit.ReadEnvironmentFile(setting)) environment[key] = value == "/var/lib/autodropout" ? home : value;
                foreach (var name in unit.Values("Service", "EnvironmentFile"))
                {
                    var path = name.TrimStart('-');
                    Assert.True(files.ContainsKey(path) || name.StartsWith('-'), $"{role} needs {path}, which the test does not write");
                    if (files.TryGetValue(path, out var text))
                        foreach (var (key, value) in SystemdUnit.ReadEnvironmentFile(text)) environment[key] = value;
                }
                var command = unit.Service("ExecStart")!.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(w => w.Replace("/opt/autodropout-seed/", AppContext.BaseDirectory, StringComparison.Ordinal)
                        .Replace("/opt/autodropout/", AppContext.BaseDirectory, StringComparison.Ordinal))
                    .ToList();
                var info = new ProcessStartInfo(File.Exists(command[0]) ? command[0] : "dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    WorkingDirectory = home,
                };
                foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
                // systemd starts a unit with only what the unit sets (plus PATH and the like)
                foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("AUTODROPOUT_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
                foreach (var (key, value) in environment) info.Environment[key] = value;
                var process = Process.Start(info)!;
                var output = process.StandardOutput.ReadToEndAsync();
                var log = process.StandardError.ReadToEndAsync().ContinueWith(async e => await output + await e, TaskScheduler.Default).Unwrap();
                nodes.Add((role, unit, process, log));
            }

            await WaitForMembers($"127.0.0.1:{cmdPort}", Path.Combine(home, "token"), 3, nodes.Select(n => n.Process));

            foreach (var (role, unit, process, log) in Enumerable.Reverse(nodes))
            {
                var signal = unit.Service("KillSignal")!;
                using (var kill = Process.Start("kill", ["-s", signal["SIG".Length..], process.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(int.Parse(unit.Service("TimeoutStopSec")!, CultureInfo.InvariantCulture)));
                await process.WaitForExitAsync(timeout.Token);
                Assert.True(process.ExitCode == 0, $"{role} exited {process.ExitCode}: {await log}");
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                if (!node.Process.HasExited) node.Process.Kill(entireProcessTree: true);
                node.Process.Dispose();
            }
        }
    }

    [Fact]
    public async Task The_local_scripts_start_a_cluster_and_stop_it_cleanly()
    {
        var dir = Path.Combine(_work, "local");
        int seedPort = NodeProcess.FreePort(), cmdPort = NodeProcess.FreePort();
        try
        {
            var (started, startOutput) = await Script("start-cluster.sh", [dir, "1"], seedPort, cmdPort, TimeSpan.FromSeconds(60));
            Assert.True(started == 0, startOutput);
            var pids = Directory.GetFiles(dir, "*.pid").ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture));
            Assert.Equal(["controller", "seed", "trainer-1"], pids.Keys.Order());

            await WaitForMembers($"127.0.0.1:{cmdPort}", Path.Combine(dir, "token"), 3, []);

            var (stopped, stopOutput) = await Script("stop-cluster.sh", [dir], seedPort, cmdPort, TimeSpan.FromSeconds(60));
            Assert.True(stopped == 0, "stop-cluster.sh had to kill a node: " + stopOutput);
            Assert.Empty(Directory.GetFiles(dir, "*.pid"));
            Assert.All(pids, p => Assert.False(Running(p.Value), $"{p.Key} still runs"));
        }
        finally
        {
            if (Directory.Exists(dir))
                foreach (var file in Directory.GetFiles(dir, "*.pid"))
                    if (int.TryParse(File.ReadAllText(file).Trim(), out var pid) && Running(pid))
                        using (var process = Process.GetProcessById(pid)) process.Kill();
        }
    }

    /// <summary>Runs a deploy/local script on the built executables (AUTODROPOUT_BIN), not on a Release build.</summary>
    private static async Task<(int ExitCode, string Output)> Script(string name, string[] args, int seedPort, int cmdPort, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Deploy("local", name));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("AUTODROPOUT_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["AUTODROPOUT_BIN"] = AppContext.BaseDirectory;
        info.Environment["AUTODROPOUT_SEED_PORT"] = seedPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["AUTODROPOUT_CMD_PORT"] = cmdPort.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output + await errors);
    }

    /// <summary>Running, and not a zombie (an orphan nothing reaped).</summary>
    private static bool Running(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try { return File.Exists(stat) && File.ReadAllText(stat).Split(')')[^1].Trim()[0] != 'Z'; }
        catch (IOException) { return false; }
    }

    /// <summary>Waits until the endpoint answers ready and sees this many Up members.</summary>
    private static async Task WaitForMembers(string endpoint, string tokenFile, int members, IEnumerable<Process> nodes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (nodes.FirstOrDefault(p => p.HasExited) is { } exited) Assert.Fail($"a node exited with {exited.ExitCode} before the cluster formed");
            try
            {
                if (File.Exists(tokenFile))
                {
                    using var client = new ControlClient(endpoint, File.ReadAllText(tokenFile).Trim());
                    var view = await client.Get("v1/cluster", SpecJsonContext.Default.ClusterView);
                    last = string.Join(", ", view.Members.Select(m => $"{string.Join('+', m.Roles)} {m.Status}"));
                    if (view.Members.Count(m => m.Status == "Up") == members) return;
                }
            }
            catch (Exception e) when (e is ControlException or HttpRequestException or IOException or TaskCanceledException) { last = e.Message; }
            await Task.Delay(500);
        }
        Assert.Fail($"the cluster did not form: {last}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A systemd unit file: sections of key=value settings (a key may repeat), comments dropped.</summary>
internal sealed class SystemdUnit
{
    private readonly List<(string Section, string Key, string Value)> _settings = [];

    public static SystemdUnit Parse(string text)
    {
        var unit = new SystemdUnit();
        string section = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line.StartsWith('[')) { section = line.Trim('[', ']'); continue; }
            var parts = line.Split('=', 2);
            if (parts.Length != 2) throw new FormatException($"not a setting: {line}");
            unit._settings.Add((section, parts[0].Trim(), parts[1].Trim()));
        }
        return unit;
    }

    public IEnumerable<string> Values(string section, string key) =>
        _settings.Where(s => s.Section == section && s.Key == key).Select(s => s.Value);

    public string? Service(string key) => Values("Service", key).LastOrDefault();

    /// <summary>KEY=VALUE lines (an Environment= value, or an EnvironmentFile's lines); quotes around a value dropped.</summary>
    public static Dictionary<string, string> ReadEnvironmentFile(string text) => text.Split('\n')
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && l[0] is not '#' and not ';')
        .Select(l => l.Split('=', 2))
        .ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1].Trim().Trim('"') : "");
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using AutoDropout.Cluster;

namespace AutoDropout.Cli;

/// <summary>A node started as a separate OS process by a launcher (the demo, tests), with its output in a log file.</summary>
public sealed partial class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private NodeProcess(string name, Process process, StreamWriter log, string readyFile)
    {
        Name = name;
        _process = process;
        _log = log;
        ReadyFile = readyFile;
    }

    public string Name { get; }
    public string ReadyFile { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has ended within the timeout; null while it runs.</summary>
    public async Task<int?> WaitForExit(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException) { return null; }
        return _process.ExitCode;
    }

    /// <summary>
    /// Starts a node: the seed from its own executable (autodropout-seed.dll, built next to this one), the other
    /// roles as `autodropout node ROLE ...` with this same executable.
    /// </summary>
    public static NodeProcess Start(string name, NodeRole role, IEnumerable<string> nodeArgs, string workDirectory, IDictionary<string, string> environment)
    {
        var readyFile = Path.Combine(workDirectory, $"{name}.ready");
        File.Delete(readyFile);
        var (fileName, prefix) = role == NodeRole.Seed ? SeedCommand() : SelfCommand(role);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        foreach (var a in prefix.Concat(nodeArgs).Concat(["--ready-file", readyFile, "--parent-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var log = new StreamWriter(Path.Combine(workDirectory, $"{name}.log"), append: true) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new NodeProcess(name, process, log, readyFile);
    }

    /// <summary>Waits until the node has joined the cluster; returns its command port (-1 when it has none).</summary>
    public async Task<int> WaitReady(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready (see {Name}.log)");
            if (File.Exists(ReadyFile))
            {
                using var ready = JsonDocument.Parse(await File.ReadAllTextAsync(ReadyFile));
                return ready.RootElement.GetProperty("cmd_port").GetInt32();
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{Name} did not join the cluster within {timeout.TotalSeconds:0} s (see {Name}.log)");
    }

    /// <summary>SIGTERM, so the node leaves the cluster cleanly; SIGKILL if it has not exited in time.</summary>
    public void Stop(TimeSpan grace)
    {
        if (_process.HasExited) return;
        _ = Kill(_process.Id, SigTerm);
        if (!_process.WaitForExit(grace)) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGKILL: a crash, as far as the cluster and the journal can tell.</summary>
    public void Crash()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>How to run this program again as a node: its apphost, or `dotnet autodropout.dll`.</summary>
    private static (string FileName, string[] Prefix) SelfCommand(NodeRole role)
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        var dll = typeof(NodeProcess).Assembly.Location;
        string[] node = ["node", NodeHost.RoleName(role)];
        return IsDotnet(processPath) ? (processPath, [dll, .. node]) : (processPath, node);
    }

    /// <summary>`dotnet autodropout-seed.dll`: the seed's executable is copied next to this one.</summary>
    private static (string FileName, string[] Prefix) SeedCommand()
    {
        var dll = Path.Combine(Path.GetDirectoryName(typeof(NodeProcess).Assembly.Location)!, "autodropout-seed.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the seed's executable is not next to this one: {dll}");
        var processPath = Environment.ProcessPath;
        return (processPath is not null && IsDotnet(processPath) ? processPath : "dotnet", [dll]);
    }

    private static bool IsDotnet(string path) => Path.GetFileNameWithoutExtension(path) == "dotnet";

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public void Dispose()
    {
        Crash();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}

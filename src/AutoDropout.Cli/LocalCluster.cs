using AutoDropout.Cluster;

namespace AutoDropout.Cli;

/// <summary>
/// A seed, a controller and N trainers as separate processes on loopback, with random ports, for the demo and for
/// tests. Trainers run one torch thread each with OMP_WAIT_POLICY=PASSIVE in their launch environment: busy-waiting
/// OpenMP threads of several trainers would otherwise starve each other on a small machine. The nodes share a
/// throw-away cluster certificate made in the work directory, so their remoting runs TLS as a deployment's would.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    private readonly List<NodeProcess> _trainers = new();
    private readonly Dictionary<string, string> _environment;
    private readonly string _seedAddress;

    private readonly IReadOnlyList<string> _controllerArgs;
    private readonly IReadOnlyList<string> _trainerArgs;

    private LocalCluster(string workDirectory, string token, int seedPort, IReadOnlyList<string> controllerArgs, IReadOnlyList<string> trainerArgs)
    {
        _controllerArgs = controllerArgs;
        _trainerArgs = trainerArgs;
        WorkDirectory = workDirectory;
        Token = token;
        _seedAddress = $"127.0.0.1:{seedPort}";
        var password = Tokens.NewToken();
        var certificate = Path.Combine(workDirectory, "cluster.pfx");
        File.Delete(certificate); // a reused work directory: its old certificate's password is gone
        using (var made = ClusterTls.Create("autodropout-local", TimeSpan.FromDays(30))) ClusterTls.Write(made, certificate, password);
        _environment = new()
        {
            // secrets through the environment (readable by this user only), never argv
            ["AUTODROPOUT_TOKEN"] = token,
            [NodeEnvironment.ReadToken] = Tokens.NewToken(),
            [NodeEnvironment.TlsCertificate] = certificate,
            [NodeEnvironment.TlsPassword] = password,
            [NodeEnvironment.TlsPasswordFile] = "", // empty counts as unset: the caller's own must not win
            [NodeEnvironment.TokenFile] = "",
            [NodeEnvironment.ReadTokenFile] = "",
            ["OMP_WAIT_POLICY"] = "PASSIVE",
            ["OMP_NUM_THREADS"] = "1",
            ["AUTODROPOUT_HOME"] = workDirectory,
        };
    }

    public string WorkDirectory { get; }
    public string Token { get; }
    public string ReadToken => _environment[NodeEnvironment.ReadToken];
    public string DatabasePath => Path.Combine(WorkDirectory, "autodropout.db");
    public NodeProcess? Seed { get; private set; }
    public NodeProcess? Controller { get; private set; }
    public int ControllerCommandPort { get; private set; }
    public string Endpoint => $"127.0.0.1:{ControllerCommandPort}";
    public IReadOnlyList<NodeProcess> Trainers => _trainers;

    /// <param name="controllerArgs">Extra options for the controller node, e.g. ["--config", "file.conf"], or a journal
    /// of its own (["--persistence", "postgres", "--db", "..."]) instead of the work directory's SQLite file.</param>
    /// <param name="trainerArgs">The trainers' options (default: no command endpoint, one cpu device), e.g. simulated trainers.</param>
    /// <param name="environment">Variables for every node over the launcher's own, e.g. AUTODROPOUT_LOG_FORMAT.</param>
    public static async Task<LocalCluster> Start(string workDirectory, int trainers, TimeSpan readyTimeout, IReadOnlyList<string>? controllerArgs = null,
        IReadOnlyList<string>? trainerArgs = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(workDirectory);
        var cluster = new LocalCluster(workDirectory, Tokens.NewToken(), NodeProcess.FreePort(), controllerArgs ?? [], trainerArgs ?? ["--cmd-port", "-1", "--devices", "cpu"]);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) cluster._environment[key] = value;
        try
        {
            cluster.Seed = NodeProcess.Start("seed", NodeRole.Seed, ["--port", cluster._seedAddress.Split(':')[1], "--cmd-port", "-1"], workDirectory, cluster._environment);
            await cluster.Seed.WaitReady(readyTimeout);
            await cluster.StartController(readyTimeout);
            for (int i = 0; i < trainers; i++) cluster._trainers.Add(cluster.StartTrainer(i));
            foreach (var t in cluster._trainers) await t.WaitReady(readyTimeout);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>(Re)starts the controller on the same journal, e.g. after <see cref="NodeProcess.Crash"/>.</summary>
    public async Task StartController(TimeSpan readyTimeout)
    {
        Controller?.Dispose();
        Controller = NodeProcess.Start("controller", NodeRole.Controller,
            ["--port", "0", "--seed-nodes", _seedAddress, "--cmd-port", "0", .. _controllerArgs.Contains("--db") ? [] : new[] { "--db", DatabasePath }, .. _controllerArgs],
            WorkDirectory, _environment);
        ControllerCommandPort = await Controller.WaitReady(readyTimeout);
    }

    /// <summary>Another controller node; the caller owns (and stops) it.</summary>
    /// <param name="journalArgs">Its journal, e.g. ["--db", "other.db"]; none: the first controller's.</param>
    public NodeProcess StartOtherController(string name, IReadOnlyList<string>? journalArgs = null) =>
        NodeProcess.Start(name, NodeRole.Controller,
            ["--port", "0", "--seed-nodes", _seedAddress, "--cmd-port", "0",
             .. journalArgs ?? (_controllerArgs.Contains("--db") ? _controllerArgs : ["--db", DatabasePath])],
            WorkDirectory, _environment);

    /// <summary>Starts the seed again on its address (e.g. after <see cref="NodeProcess.Crash"/>), with a command
    /// port this time; returns that port.</summary>
    public async Task<int> RestartSeed(TimeSpan readyTimeout)
    {
        Seed?.Dispose();
        Seed = NodeProcess.Start("seed", NodeRole.Seed, ["--port", _seedAddress.Split(':')[1], "--cmd-port", "0"], WorkDirectory, _environment);
        return await Seed.WaitReady(readyTimeout);
    }

    /// <summary>Starts trainer <paramref name="index"/> again with its options (e.g. after <see cref="NodeProcess.Crash"/>);
    /// it joins as a new node.</summary>
    public async Task RestartTrainer(int index, TimeSpan readyTimeout)
    {
        _trainers[index].Dispose();
        _trainers[index] = StartTrainer(index);
        await _trainers[index].WaitReady(readyTimeout);
    }

    private NodeProcess StartTrainer(int index) =>
        NodeProcess.Start($"trainer-{index + 1}", NodeRole.Trainer,
            ["--port", "0", "--seed-nodes", _seedAddress, .. _trainerArgs],
            WorkDirectory, _environment);

    /// <summary>Stops trainers, then the controller, then the seed, each leaving the cluster cleanly.</summary>
    public void Stop()
    {
        var grace = TimeSpan.FromSeconds(15);
        Parallel.ForEach(_trainers, t => t.Stop(grace));
        Controller?.Stop(grace);
        Seed?.Stop(grace);
    }

    public void Dispose()
    {
        foreach (var t in _trainers) t.Dispose();
        Controller?.Dispose();
        Seed?.Dispose();
    }
}

using System.Diagnostics;
using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Seed;
using AutoDropout.Cluster.Trainer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// How a node's configuration is layered (options over environment over HOCON files), what every node binds, and
/// that the seed is a small executable of its own without torch.
/// </summary>
public class NodeHostingTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-hosting-").FullName;

    /// <summary>The configuration the node's ActorSystem would start with, without starting it.</summary>
    private static Config ComposedConfig(IHost host) =>
        host.Services.GetRequiredService<AkkaConfigurationBuilder>().Configuration.Value;

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static readonly NodeOptions Quiet = new() { CommandPort = -1 };

    private string ConfigFile(string hocon)
    {
        var path = Path.Combine(_work, $"{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, hocon);
        return path;
    }

    [Fact]
    public void An_option_beats_its_environment_variable_which_beats_the_hocon_files()
    {
        var file = ConfigFile("""
            akka.remote.dot-netty.tcp.port = 5001
            akka.remote.dot-netty.tcp.hostname = "10.0.0.1"
            akka.cluster.seed-nodes = ["akka.tcp://autodropout@10.0.0.1:5001"]
            """);
        var env = Environment((NodeEnvironment.Port, "5002"), (NodeEnvironment.Host, "10.0.0.2"), (NodeEnvironment.Seeds, "10.0.0.2:5002"));

        using var fileOnly = SeedNode.CreateHost(Quiet with { ConfigFile = file }, Environment());
        var config = ComposedConfig(fileOnly);
        Assert.Equal(5001, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("10.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(["akka.tcp://autodropout@10.0.0.1:5001"], config.GetStringList("akka.cluster.seed-nodes"));

        using var withEnvironment = SeedNode.CreateHost(Quiet with { ConfigFile = file }, env);
        config = ComposedConfig(withEnvironment);
        Assert.Equal(5002, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("10.0.0.2", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(["akka.tcp://autodropout@10.0.0.2:5002"], config.GetStringList("akka.cluster.seed-nodes"));

        using var withOptions = SeedNode.CreateHost(
            Quiet with { ConfigFile = file, Port = 5003, Host = "10.0.0.3", SeedNodes = ["10.0.0.3:5003"] }, env);
        config = ComposedConfig(withOptions);
        Assert.Equal(5003, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("10.0.0.3", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(["akka.tcp://autodropout@10.0.0.3:5003"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void The_config_file_beats_the_role_file_which_beats_base_conf()
    {
        using var seed = SeedNode.CreateHost(Quiet, Environment());
        var config = ComposedConfig(seed);
        Assert.Equal(NodeOptions.DefaultSeedPort, config.GetInt("akka.remote.dot-netty.tcp.port")); // seed.conf over base.conf
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes")); // the seed joins itself
        Assert.Equal(["seed"], config.GetStringList("akka.cluster.roles"));

        using var trainer = TrainerNode.CreateHost(Quiet, ["cpu"], Environment());
        config = ComposedConfig(trainer);
        Assert.Equal(0, config.GetInt("akka.remote.dot-netty.tcp.port")); // base.conf
        Assert.Equal(["akka.tcp://autodropout@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["trainer"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("autodropout.trainer.idle-poll"));

        var file = ConfigFile("autodropout.trainer.idle-poll = 7s\nakka.cluster.split-brain-resolver.stable-after = 20s");
        using var overridden = TrainerNode.CreateHost(Quiet with { ConfigFile = file }, ["cpu"], Environment());
        config = ComposedConfig(overridden);
        Assert.Equal(TimeSpan.FromSeconds(7), config.GetTimeSpan("autodropout.trainer.idle-poll"));
        Assert.Equal(TimeSpan.FromSeconds(20), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
    }

    [Fact]
    public void A_controller_takes_its_journal_from_option_then_environment_and_keeps_the_split_brain_resolver()
    {
        string fromOption = Path.Combine(_work, "option.db"), fromEnvironment = Path.Combine(_work, "env.db");
        var env = Environment((NodeEnvironment.Database, fromEnvironment), (NodeEnvironment.Persistence, "sqlite"));

        using var byEnvironment = ControllerNode.CreateHost(Quiet, environment: env);
        var config = ComposedConfig(byEnvironment);
        Assert.Equal($"Data Source={fromEnvironment}", config.GetString("akka.persistence.journal.sql.connection-string"));
        Assert.Equal("SQLite.MS", config.GetString("akka.persistence.journal.sql.provider-name"));

        using var byOption = ControllerNode.CreateHost(Quiet, PersistenceBackend.Sqlite, fromOption, env);
        config = ComposedConfig(byOption);
        Assert.Equal($"Data Source={fromOption}", config.GetString("akka.persistence.snapshot-store.sql.connection-string"));
        Assert.Equal(["controller"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("keep-oldest", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        // by every member's age, not the controller role: a lone controller's crash must not down the survivors
        Assert.Equal("", config.GetString("akka.cluster.split-brain-resolver.keep-oldest.role", ""));
        Assert.True(config.GetBoolean("akka.cluster.split-brain-resolver.keep-oldest.down-if-alone"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));

        Assert.Throws<ArgumentException>(() => ControllerNode.CreateHost(Quiet, environment: Environment((NodeEnvironment.Persistence, "mysql"))));
        Assert.Throws<ArgumentException>(() => SeedNode.CreateHost(Quiet, Environment((NodeEnvironment.Port, "many"))));
    }

    [Fact]
    public void Options_left_off_the_command_line_stay_null_so_that_the_environment_decides()
    {
        var parse = AutoDropout.Cli.NodeCommand.Create().Parse(
            ["controller", "--port", "5000", "--seed-nodes", "a:1, b:2", "--persistence", "postgres", "--db", "Host=db"]);
        Assert.Empty(parse.Errors);
        var options = NodeCommandLine.Options(parse);
        Assert.Equal(5000, options.Port);
        Assert.Equal(["a:1", "b:2"], options.SeedNodes);
        Assert.Null(options.Host);
        Assert.Null(options.CommandPort);
        Assert.Null(options.Token);
        Assert.Equal(PersistenceBackend.Postgres, parse.GetValue(ControllerNode.Persistence));
        Assert.Equal("Host=db", parse.GetValue(ControllerNode.Database));

        var layered = options.Over(NodeOptions.FromEnvironment(Environment((NodeEnvironment.Host, "10.0.0.9"), (NodeEnvironment.Port, "6000"))));
        Assert.Equal(("10.0.0.9", 5000), (layered.Host, layered.Port));

        Assert.NotEmpty(AutoDropout.Cli.NodeCommand.Create().Parse(["controller", "--persistence", "mysql"]).Errors);
        Assert.NotEmpty(AutoDropout.Cli.NodeCommand.Create().Parse(["trainer", "--db", "x"]).Errors); // each role its own options
        Assert.NotEmpty(AutoDropout.Cli.NodeCommand.Create().Parse(["seed", "--port", "many"]).Errors);
    }

    [Fact]
    public void Every_node_binds_the_serializer_once_through_the_marker_interface()
    {
        using var seed = SeedNode.CreateHost(Quiet, Environment());
        var config = ComposedConfig(seed);
        var bindings = config.GetConfig("akka.actor.serialization-bindings").AsEnumerable()
            .Where(b => b.Value.GetString() == "autodropout").Select(b => b.Key).ToArray();
        Assert.Equal(["AutoDropout.Messages.IAutoDropoutMessage, AutoDropout.Messages"], bindings);
        Assert.Equal("AutoDropout.Cluster.AutoDropoutSerializer, AutoDropout.Cluster.Common", config.GetString("akka.actor.serializers.autodropout"));
    }

    [Fact]
    public void The_seed_executable_carries_no_torch()
    {
        var seed = typeof(SeedNode).Assembly;
        Assert.Equal("autodropout-seed", seed.GetName().Name);
        Assert.NotNull(seed.EntryPoint);
        var reached = References(seed);
        Assert.Contains("AutoDropout.Cluster.Common", reached);
        Assert.DoesNotContain(reached, n => n.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.DoesNotContain("AutoDropout.Training", reached);
        Assert.DoesNotContain("AutoDropout.Policy", reached);

        // nor does the dependency manifest it is run with
        var deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "autodropout-seed.deps.json"));
        Assert.DoesNotContain("TorchSharp", deps);
        Assert.DoesNotContain("libtorch", deps);
    }

    /// <summary>Names of every assembly reachable from <paramref name="root"/> by references.</summary>
    private static HashSet<string> References(Assembly root)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<AssemblyName>(root.GetReferencedAssemblies());
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name.Name!) || name.Name!.StartsWith("System", StringComparison.Ordinal) || name.Name == "netstandard") continue;
            Assembly loaded;
            try { loaded = Assembly.Load(name); }
            catch (FileNotFoundException) { continue; }
            foreach (var reference in loaded.GetReferencedAssemblies()) pending.Push(reference);
        }
        return seen;
    }

    [Fact]
    public async Task A_hosted_seed_joins_itself_serves_commands_and_stops_through_coordinated_shutdown()
    {
        var ready = Path.Combine(_work, "seed.ready");
        using var host = SeedNode.CreateHost(new NodeOptions { Port = 0, CommandPort = 0, Token = "t", ReadToken = "r", ReadyFile = ready }, Environment());
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(ready) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(File.Exists(ready), "the seed did not come up");
        // the ready file is written on the cluster's MemberUp; the read view behind SelfMember follows the same event
        // through its own subscriber, so on a loaded machine it may still show the status from before the join
        var self = Akka.Cluster.Cluster.Get(system);
        while (self.SelfMember.Status != Akka.Cluster.MemberStatus.Up && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(Akka.Cluster.MemberStatus.Up, self.SelfMember.Status);
        Assert.NotNull(await system.ActorSelection("/user/search-manager-proxy").ResolveOne(TimeSpan.FromSeconds(5)));
        Assert.NotNull(await system.ActorSelection("/user/membership-log").ResolveOne(TimeSpan.FromSeconds(5)));

        using var ports = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(ready));
        int commandPort = ports.RootElement.GetProperty("cmd_port").GetInt32();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "r");
        var cluster = await http.GetStringAsync($"http://127.0.0.1:{commandPort}/v1/cluster");
        Assert.Contains("\"seed\"", cluster);
        Assert.Contains($"\"version\":\"{ProductVersion.Version}\"", cluster); // what `cluster show` prints per member

        await host.StopAsync();
        Assert.True(system.WhenTerminated.IsCompleted);
        Assert.Equal(Akka.Actor.CoordinatedShutdown.ClrExitReason.Instance, Akka.Actor.CoordinatedShutdown.Get(system).ShutdownReason);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync($"http://127.0.0.1:{commandPort}/v1/cluster"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

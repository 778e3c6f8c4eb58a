using System.Diagnostics;
using AutoDropout.Cli;
using AutoDropout.Cluster;

namespace AutoDropout.Tests.Cluster;

/// <summary>The seed's own executable as a process: it comes up, and SIGTERM makes it leave and exit 0.</summary>
[Collection(nameof(ProcessTests))]
public class SeedProcessTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-seed-").FullName;

    [Fact]
    public async Task The_seed_executable_exits_0_on_SIGTERM()
    {
        var ready = Path.Combine(_work, "seed.ready");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _work };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "autodropout-seed.dll"), "--port", "0", "--cmd-port", "-1", "--ready-file", ready })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!File.Exists(ready) && !process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.True(File.Exists(ready), "the seed did not come up: " + (process.HasExited ? await errors : "still starting"));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains($"autodropout seed node {ProductVersion.Full} up at 127.0.0.1:", await errors);
            _ = await output;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_node_of_an_incompatible_version_is_refused_at_once_and_named_and_the_seed_runs_on()
    {
        int port = NodeProcess.FreePort();
        using var seed = NodeProcess.Start("seed", NodeRole.Seed, ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cmd-port", "-1"],
            _work, new Dictionary<string, string> { [NodeEnvironment.Home] = _work });
        await seed.WaitReady(TimeSpan.FromSeconds(60));

        // a node that does not check versions itself (an older release, say): the seed, the oldest member, downs it
        var foreign = Akka.Actor.ActorSystem.Create("autodropout", Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.cluster { seed-nodes = ["akka.tcp://autodropout@127.0.0.1:{{port}}"], app-version = "9.0.0" }
            """));
        try
        {
            var removed = new TaskCompletionSource();
            var cluster = Akka.Cluster.Cluster.Get(foreign);
            cluster.RegisterOnMemberRemoved(() => removed.TrySetResult());
            var clock = Stopwatch.StartNew();
            await removed.Task.WaitAsync(TimeSpan.FromSeconds(60));
            // the seed may write its line a moment after the member is gone
            var expected = $"refusing member {cluster.SelfAddress}: it runs autodropout 9.0.0, the cluster {ProductVersion.Version}";
            var log = "";
            for (var waited = Stopwatch.StartNew(); !log.Contains(expected, StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(200))
                log = await File.ReadAllTextAsync(Path.Combine(_work, "seed.log"));
            Assert.Contains(expected, log);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"refused after {clock.Elapsed.TotalSeconds:0} s");
            Assert.False(seed.HasExited);
        }
        finally
        {
            await foreign.Terminate();
        }
    }

    [Theory]
    [InlineData("0.2.0", "0.2.5", "0.2.0", false, VersionWatch.Verdict.Welcome)]
    [InlineData("0.3.0", "0.2.0", "0.2.0", false, VersionWatch.Verdict.LeaveMyself)] // a newcomer of another minor version leaves
    [InlineData("0.2.0", "0.3.0", "0.2.0", true, VersionWatch.Verdict.DownIt)]       // the oldest downs it
    [InlineData("0.2.0", "0.3.0", "0.2.0", false, VersionWatch.Verdict.Welcome)]     // a third node leaves that to the oldest
    [InlineData("1.2.0", "1.5.0", "1.2.0", true, VersionWatch.Verdict.Welcome)]      // a rolling upgrade within a major version
    public void Versions_decide_who_leaves_and_who_downs(string mine, string up, string oldest, bool iAmOldest, VersionWatch.Verdict verdict) =>
        Assert.Equal(verdict, VersionWatch.Decide(mine, up, oldest, iAmOldest));

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

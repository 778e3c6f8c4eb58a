using System.Diagnostics;
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

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

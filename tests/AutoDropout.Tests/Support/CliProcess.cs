using System.Diagnostics;

namespace AutoDropout.Tests.Support;

/// <summary>The CLI as an operator runs it: its own process (its Console, its exit code), stdout and stderr together.</summary>
internal static class CliProcess
{
    public static async Task<(int ExitCode, string Output)> Run(string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "autodropout.dll"));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}

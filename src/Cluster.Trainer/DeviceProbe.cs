using System.Diagnostics;
using System.Globalization;
using AutoDropout.Messages;
using AutoDropout.Torch;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// Names a trainer's device for operators. TorchSharp tells neither a GPU's name nor its memory, so a CUDA device is
/// asked of nvidia-smi (installed with the driver) and a CPU of /proc/cpuinfo and the runtime's memory limit (which
/// honours a container's). Whatever cannot be told is left out, never guessed.
/// </summary>
public static class DeviceProbe
{
    public static DeviceFacts Describe(DeviceChoice device) => device.IsCuda ? Cuda(device) : Cpu(device);

    private static DeviceFacts Cpu(DeviceChoice device)
    {
        var model = CpuModel() ?? "CPU";
        return new DeviceFacts(device.Name, $"{model}, {device.Threads} thread{(device.Threads == 1 ? "" : "s")}", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    private static string? CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static DeviceFacts Cuda(DeviceChoice device)
    {
        // "cuda" or "cuda:N", as the trainer was given it
        int index = device.Name.Split(':') is [_, var n] && int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : 0;
        return NvidiaSmi(index) is { } line && ParseNvidiaSmi(line) is { } facts
            ? new DeviceFacts(device.Name, facts.Name, facts.MemoryBytes)
            : new DeviceFacts(device.Name, $"CUDA device {index}", null);
    }

    /// <summary>One line of `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`: "NVIDIA H200, 143771" (MiB).</summary>
    public static (string Name, long? MemoryBytes)? ParseNvidiaSmi(string line)
    {
        var parts = line.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length < 2 || parts[0].Length == 0) return null;
        long? memory = long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var mib) ? mib * 1024 * 1024 : null;
        return (parts[0], memory);
    }

    private static string? NvidiaSmi(int index)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits", "-i", index.ToString(CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(5000)) { process.Kill(); return null; }
            return process.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // not installed
    }
}

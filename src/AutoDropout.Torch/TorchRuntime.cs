using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Torch;

/// <summary>Process-wide torch set-up shared by trainers and the controller's policy.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Construction of a module draws its initial weights from torch's global generator. Several trainers (or
    /// searches) may live in one process, so seeding and construction happen under this lock to stay reproducible.
    /// </summary>
    public static readonly object SeededConstruction = new();

    /// <summary>Builds something with torch's global generator seeded, atomically with respect to other builders.</summary>
    public static T Seeded<T>(long seed, Func<T> build)
    {
        lock (SeededConstruction)
        {
            torch.manual_seed(seed);
            return build();
        }
    }

    /// <summary>
    /// The one place that sets libtorch's intra-op thread count. It is per process: results are reproducible only for
    /// a fixed count, so every entry point (node role, command, benchmark) states its count here once.
    /// </summary>
    public static void UseThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        torch.set_num_threads(threads);
    }

    /// <summary>
    /// Parses the devices of a trainer node and sets the thread count: CPU trainers of one process share the largest
    /// count asked for, since libtorch has only one.
    /// </summary>
    public static IReadOnlyList<DeviceChoice> UseDevices(IEnumerable<string> devices)
    {
        var choices = devices.Select(ParseDevice).ToArray();
        UseThreads(choices.Where(c => !c.IsCuda).Select(c => c.Threads).DefaultIfEmpty(1).Max());
        return choices;
    }

    /// <summary>
    /// Parses "cpu", "cpu:N" (N torch threads; "cpu:0" means the default, one thread) or "cuda:N"; fails clearly
    /// when CUDA is not there.
    /// </summary>
    public static DeviceChoice ParseDevice(string text)
    {
        var spec = text.Trim().ToLowerInvariant();
        if (spec == "cpu") return new DeviceChoice(spec, CPU, 1);
        if (spec.StartsWith("cpu:", StringComparison.Ordinal) && int.TryParse(spec[4..], out int threads) && threads >= 0)
            return new DeviceChoice(spec, CPU, Math.Max(1, threads));
        if (spec.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(spec[5..], out int index) && index >= 0)
        {
            if (!cuda.is_available())
                throw new InvalidOperationException(
                    $"device '{text}' asks for CUDA, but this build of torch has no CUDA device available " +
                    "(build with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use cpu)");
            if (index >= cuda.device_count())
                throw new InvalidOperationException($"device '{text}': only {cuda.device_count()} CUDA device(s) present");
            return new DeviceChoice(spec, new Device(DeviceType.CUDA, index), 1);
        }
        throw new ArgumentException($"unknown device '{text}': expected cpu, cpu:N (N threads) or cuda:N");
    }
}

/// <param name="Name">As the user wrote it, normalised.</param>
/// <param name="Threads">Torch intra-op threads to use on CPU (process-wide in libtorch).</param>
public sealed record DeviceChoice(string Name, Device Device, int Threads)
{
    public bool IsCuda => Device.type == DeviceType.CUDA;
}

using System.Runtime.CompilerServices;

namespace AutoDropout.Tests;

internal static class TestSetup
{
    /// <summary>
    /// libtorch's thread count is per process and changes floating-point summation order; bit-exact comparisons
    /// (replay vs live, run vs run) need one fixed count for every test, as the controller node fixes it to one.
    /// </summary>
    [ModuleInitializer]
    internal static void OneTorchThread() => TorchSharp.torch.set_num_threads(1);
}

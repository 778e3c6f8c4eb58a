using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace AutoDropout.Policy;

internal static class HostTensors
{
    /// <summary>A tensor's values as one block copy; the element accessor walks them one at a time.</summary>
    public static float[] Copy(Tensor values)
    {
        using var contiguous = values.contiguous();
        return MemoryMarshal.Cast<byte, float>(contiguous.bytes).ToArray();
    }
}

using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

/// <summary>TorchSharp 0.107 needs the GLIBCXX fix of build/TorchNative.targets to load on Debian 12 / Ubuntu 22.04.</summary>
public class TorchLoadsTests
{
    [Fact]
    public void Torch_initialises_and_computes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }

    [Fact]
    public void The_output_copy_of_LibTorchSharp_marks_the_GLIBCXX_3_4_32_need_weak()
    {
        var library = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(library));
        Assert.Contains(needs, n => n.Name == "GLIBCXX_3.4.32" && n.Weak);
        Assert.Contains(needs, n => n.Name.StartsWith("GLIBC_", StringComparison.Ordinal) && !n.Weak);
    }
}

/// <summary>Reads the version needs (.gnu.version_r) of an ELF64 little-endian file.</summary>
internal static class ElfVersionNeeds
{
    public static List<(string Name, bool Weak)> Read(byte[] elf)
    {
        var result = new List<(string, bool)>();
        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            int sh = (int)shoff + s * shentsize;
            if (BitConverter.ToUInt32(elf, sh + 4) != 0x6ffffffe) continue;
            int vn = (int)BitConverter.ToUInt64(elf, sh + 24);
            int strOff = (int)BitConverter.ToUInt64(elf, (int)shoff + (int)BitConverter.ToUInt32(elf, sh + 40) * shentsize + 24);
            for (int i = 0; i < (int)BitConverter.ToUInt32(elf, sh + 44); i++)
            {
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int j = 0; j < BitConverter.ToUInt16(elf, vn + 2); j++)
                {
                    int nameAt = strOff + (int)BitConverter.ToUInt32(elf, aux + 8);
                    var name = System.Text.Encoding.ASCII.GetString(elf, nameAt, Array.IndexOf(elf, (byte)0, nameAt) - nameAt);
                    result.Add((name, (BitConverter.ToUInt16(elf, aux + 4) & 0x2) != 0));
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
        }
        return result;
    }
}

using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// Writes TensorBoard event files: TFRecord framing (length, masked CRC-32C of the length, the record, masked CRC-32C
/// of the record) around Event protobufs holding scalar summaries. Small and dependency-free; TensorBoard reads every
/// events.out.tfevents.* file of a directory as one run.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream _file;

    /// <summary>A new event file in <paramref name="directory"/>; a restarted writer starts another one beside it.</summary>
    public TensorBoardWriter(string directory)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        Path = System.IO.Path.Combine(directory,
            $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}.{now.Ticks % 1_000_000_000}");
        _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteRecord(Event(now, 0, fileVersion: "brain.Event:2", scalars: null));
    }

    public string Path { get; }

    /// <summary>Scalars at one step, flushed at once so a reader sees them while the search runs.</summary>
    public void Scalars(long step, IEnumerable<(string Tag, double Value)> scalars)
    {
        WriteRecord(Event(DateTimeOffset.UtcNow, step, fileVersion: null, scalars));
        _file.Flush();
    }

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        _file.Write(header);
        _file.Write(data);
        _file.Write(footer);
    }

    /// <summary>Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }.</summary>
    private static byte[] Event(DateTimeOffset time, long step, string? fileVersion, IEnumerable<(string Tag, double Value)>? scalars)
    {
        var e = new MemoryStream();
        e.WriteByte(0x09);
        Span<byte> wallTime = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(wallTime, time.ToUnixTimeMilliseconds() / 1000.0);
        e.Write(wallTime);
        e.WriteByte(0x10);
        Varint(e, (ulong)step);
        if (fileVersion is not null) LengthDelimited(e, 0x1A, Encoding.UTF8.GetBytes(fileVersion));
        if (scalars is not null)
        {
            // Summary { repeated Value value = 1; }, Value { string tag = 1; float simple_value = 2; }
            var summary = new MemoryStream();
            Span<byte> simple = stackalloc byte[4];
            foreach (var (tag, value) in scalars)
            {
                var v = new MemoryStream();
                LengthDelimited(v, 0x0A, Encoding.UTF8.GetBytes(tag));
                v.WriteByte(0x15);
                BinaryPrimitives.WriteSingleLittleEndian(simple, (float)value);
                v.Write(simple);
                LengthDelimited(summary, 0x0A, v.ToArray());
            }
            LengthDelimited(e, 0x2A, summary.ToArray());
        }
        return e.ToArray();
    }

    private static void LengthDelimited(Stream s, byte key, byte[] bytes)
    {
        s.WriteByte(key);
        Varint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void Varint(Stream s, ulong value)
    {
        for (; value >= 0x80; value >>= 7) s.WriteByte((byte)(value | 0x80));
        s.WriteByte((byte)value);
    }

    /// <summary>TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus a constant.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    public void Dispose() => _file.Dispose();
}

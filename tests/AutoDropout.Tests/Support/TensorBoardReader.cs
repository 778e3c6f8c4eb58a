using System.Buffers.Binary;
using System.Text;

namespace AutoDropout.Tests.Support;

/// <summary>An independent reader of TensorBoard event files: TFRecord frames (checksums checked) of Event protobufs.</summary>
public static class TensorBoardReader
{
    public sealed record Scalar(long Step, string Tag, float Value);

    /// <summary>The file's version string (first event) and every scalar in it.</summary>
    public static (string? FileVersion, List<Scalar> Scalars) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        string? version = null;
        var scalars = new List<Scalar>();
        for (int at = 0; at < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)) != Masked(bytes.AsSpan(at, 8))) throw new InvalidDataException("length checksum");
            var data = bytes.AsSpan(at + 12, length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length)) != Masked(data)) throw new InvalidDataException("data checksum");
            long step = 0;
            foreach (var (field, value, _) in Fields(data.ToArray()))
            {
                if (field == 2) step = (long)value;
                if (field == 3) version = Encoding.UTF8.GetString(Payload(data.ToArray(), field));
            }
            foreach (var summary in Payloads(data.ToArray(), 5))
                foreach (var v in Payloads(summary, 1))
                {
                    string tag = Encoding.UTF8.GetString(Payloads(v, 1).Single());
                    var fixed32 = Fields(v).Single(f => f.Field == 2);
                    scalars.Add(new Scalar(step, tag, BitConverter.UInt32BitsToSingle((uint)fixed32.Value)));
                }
            at += 12 + length + 4;
        }
        return (version, scalars);
    }

    // crc-32c computed bit by bit here, apart from the writer's
    private static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }

    private static byte[] Payload(byte[] message, int field) => Payloads(message, field).Single();

    private static IEnumerable<byte[]> Payloads(byte[] message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Bytes is not null).Select(f => f.Bytes!);

    /// <summary>Each field: number, value (varint, fixed64 or fixed32 bits), bytes (length-delimited).</summary>
    private static List<(int Field, ulong Value, byte[]? Bytes)> Fields(byte[] message)
    {
        var fields = new List<(int, ulong, byte[]?)>();
        for (int at = 0; at < message.Length;)
        {
            ulong key = Varint(message, ref at);
            int field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0: fields.Add((field, Varint(message, ref at), null)); break;
                case 1: fields.Add((field, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(at)), null)); at += 8; break;
                case 5: fields.Add((field, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(at)), null)); at += 4; break;
                case 2:
                    int length = (int)Varint(message, ref at);
                    fields.Add((field, 0, message[at..(at + length)]));
                    at += length;
                    break;
                default: throw new InvalidDataException($"wire type {key & 7}");
            }
        }
        return fields;
    }

    private static ulong Varint(byte[] data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    /// <summary>Every event file of one search's folder, read.</summary>
    public static List<Scalar> ReadSearch(string directory) =>
        Directory.GetFiles(directory, "events.out.tfevents.*").OrderBy(f => f, StringComparer.Ordinal).SelectMany(f => Read(f).Scalars).ToList();
}

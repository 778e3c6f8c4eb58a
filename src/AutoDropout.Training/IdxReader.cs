using System.Buffers.Binary;
using System.IO.Compression;

namespace AutoDropout.Training;

/// <summary>Reads the IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw.</summary>
public static class IdxReader
{
    internal const int ImagesMagic = 0x00000803;
    internal const int LabelsMagic = 0x00000801;

    public static IdxImages ReadImages(string path) => ReadImages(path, File.OpenRead(path));

    public static IdxImages ReadImages(string name, Stream stream)
    {
        var bytes = ReadAll(name, stream);
        Require(name, bytes.Length >= 16, $"an IDX image file of at least 16 bytes, found {bytes.Length} bytes");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        Require(name, magic == ImagesMagic, $"IDX image magic 0x{ImagesMagic:x8}, found 0x{magic:x8}");
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        Require(name, count >= 0 && rows > 0 && cols > 0, $"positive dimensions, found {count}x{rows}x{cols}");
        long expected = 16L + (long)count * rows * cols;
        Require(name, bytes.Length == expected,
            $"{expected} bytes for {count} images of {rows}x{cols}, found {bytes.Length} bytes");
        return new IdxImages(count, rows, cols, bytes[16..]);
    }

    public static byte[] ReadLabels(string path) => ReadLabels(path, File.OpenRead(path));

    public static byte[] ReadLabels(string name, Stream stream)
    {
        var bytes = ReadAll(name, stream);
        Require(name, bytes.Length >= 8, $"an IDX label file of at least 8 bytes, found {bytes.Length} bytes");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        Require(name, magic == LabelsMagic, $"IDX label magic 0x{LabelsMagic:x8}, found 0x{magic:x8}");
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        Require(name, count >= 0 && bytes.Length == 8L + count, $"{8L + count} bytes for {count} labels, found {bytes.Length} bytes");
        return bytes[8..];
    }

    public static void WriteImages(Stream output, IdxImages images)
    {
        if (images.Channels != 1) throw new ArgumentException($"IDX image files hold one channel, these images have {images.Channels}");
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], images.Count);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], images.Rows);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], images.Columns);
        output.Write(header);
        output.Write(images.Pixels);
    }

    public static void WriteLabels(Stream output, ReadOnlySpan<byte> labels)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], labels.Length);
        output.Write(header);
        output.Write(labels);
    }

    private static byte[] ReadAll(string name, Stream stream)
    {
        using (stream)
        {
            var raw = new MemoryStream();
            stream.CopyTo(raw);
            var bytes = raw.ToArray();
            if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
            try
            {
                using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                var inflated = new MemoryStream();
                gz.CopyTo(inflated);
                return inflated.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{name}: expected a valid gzip stream ({e.Message})", e);
            }
        }
    }

    private static void Require(string name, bool condition, string expectation)
    {
        if (!condition) throw new InvalidDataException($"{name}: expected {expectation}");
    }
}

/// <summary>
/// 8-bit pixels, one image after another; within an image channel-major (all of channel 0 row by row, then channel
/// 1, ...), the layout of both IDX (one channel) and the CIFAR binary batches, so [N, C, H, W] without reordering.
/// </summary>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels, int Channels = 1)
{
    public int PixelsPerImage => Channels * Rows * Columns;

    public IdxImages Take(int count) =>
        new(count, Rows, Columns, Pixels.AsSpan(0, count * PixelsPerImage).ToArray(), Channels);
}

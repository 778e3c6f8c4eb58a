using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using AutoDropout.Core.Pictures;

namespace AutoDropout.Tests.Unit;

/// <summary>A strict reader for the PNGs we write: checks every chunk's CRC, the header and the row filters.</summary>
internal static class PngReader
{
    public sealed record Image(int Width, int Height, byte[] Rgb)
    {
        public Rgb At(int x, int y)
        {
            int i = (y * Width + x) * 3;
            return new Rgb(Rgb[i], Rgb[i + 1], Rgb[i + 2]);
        }
    }

    // bit by bit, independent of the table the writer uses
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    public static Image Decode(byte[] png)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.Equal(signature, png[..8]);
        var chunks = new List<(string Type, byte[] Data)>();
        int at = 8;
        while (at < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(Crc32(png.AsSpan(at + 4, 4 + length)), crc);
            chunks.Add((type, data));
            at += 12 + length;
        }
        Assert.Equal(png.Length, at);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type).ToArray());
        var header = chunks[0].Data;
        Assert.Equal(13, header.Length);
        int width = BinaryPrimitives.ReadInt32BigEndian(header), height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, header[8..]);
        Assert.Empty(chunks[2].Data);

        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress)) zlib.CopyTo(inflated);
        var raw = inflated.ToArray();
        Assert.Equal(height * (1 + width * 3), raw.Length);
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            Assert.Equal(0, raw[y * (1 + width * 3)]);
            Array.Copy(raw, y * (1 + width * 3) + 1, rgb, y * width * 3, width * 3);
        }
        return new Image(width, height, rgb);
    }
}

public class PngTests
{
    [Fact]
    public void Crc_matches_the_standard_check_value()
    {
        var check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xCBF43926u, Png.Crc32(check));
        Assert.Equal(0xCBF43926u, PngReader.Crc32(check));
        Assert.Equal(Png.Crc32(check), Png.Crc32(check.AsSpan(4), Png.Crc32(check.AsSpan(0, 4))));
    }

    [Fact]
    public void Encoded_canvas_decodes_back_to_the_same_pixels()
    {
        var canvas = new RgbCanvas(37, 11, new Rgb(10, 20, 30));
        var random = new Random(4);
        for (int i = 0; i < 50; i++)
            canvas.SetPixel(random.Next(37), random.Next(11), new Rgb((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        canvas.FillRectangle(3, 2, 5, 4, Rgb.Black);
        canvas.FillRectangle(30, 8, 100, 100, new Rgb(200, 100, 50)); // clipped at the edges
        canvas.SetPixel(0, 10, Rgb.White);
        canvas.SetPixel(-1, 99, Rgb.White); // outside: ignored

        var image = PngReader.Decode(canvas.Encode());

        Assert.Equal((37, 11), (image.Width, image.Height));
        Assert.Equal(canvas.Pixels.ToArray(), image.Rgb);
        Assert.Equal(Rgb.White, image.At(0, 10));
        Assert.Equal(new Rgb(200, 100, 50), image.At(36, 10));
    }

    [Fact]
    public void Save_writes_the_encoded_bytes()
    {
        var canvas = new RgbCanvas(2, 3, Rgb.Grey);
        var path = Path.Combine(Path.GetTempPath(), $"png-test-{Guid.NewGuid():N}.png");
        try
        {
            canvas.Save(path);
            Assert.Equal(canvas.Encode(), File.ReadAllBytes(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Every_printable_character_draws_inside_its_glyph_box()
    {
        const int scale = 2, x = 5, y = 4;
        var glyphs = new HashSet<string>();
        for (char c = BitmapFont.First; c <= BitmapFont.Last; c++)
        {
            var canvas = new RgbCanvas(30, 30, Rgb.White);
            int width = canvas.DrawText(x, y, c.ToString(), Rgb.Black, scale);
            Assert.Equal(BitmapFont.GlyphWidth * scale, width);
            var inked = new List<(int X, int Y)>();
            for (int py = 0; py < canvas.Height; py++)
                for (int px = 0; px < canvas.Width; px++)
                    if (canvas.GetPixel(px, py) != Rgb.White) inked.Add((px, py));
            if (c == ' ') Assert.Empty(inked);
            else Assert.True(inked.Count > 0, $"'{c}' draws nothing");
            Assert.All(inked, p =>
            {
                Assert.InRange(p.X, x, x + BitmapFont.GlyphWidth * scale - 1);
                Assert.InRange(p.Y, y, y + BitmapFont.GlyphHeight * scale - 1);
            });
            // a typo in the table would likely make two characters look alike
            Assert.True(glyphs.Add(string.Join(";", inked)), $"'{c}' looks like another character");
        }
    }

    [Fact]
    public void Text_advances_one_glyph_and_a_gap_per_character_and_unknown_characters_draw_as_question_marks()
    {
        Assert.Equal(3 * BitmapFont.Advance - 1, BitmapFont.TextWidth("abc"));
        Assert.Equal(0, BitmapFont.TextWidth(""));
        var unknown = new RgbCanvas(8, 8, Rgb.White);
        var question = new RgbCanvas(8, 8, Rgb.White);
        unknown.DrawText(1, 1, "\u00e9", Rgb.Black);
        question.DrawText(1, 1, "?", Rgb.Black);
        Assert.Equal(question.Pixels.ToArray(), unknown.Pixels.ToArray());
        new RgbCanvas(4, 4, Rgb.White).DrawText(-10, 2, "clipped text", Rgb.Black, 3); // must not throw
    }
}

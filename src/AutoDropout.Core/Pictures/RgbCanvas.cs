namespace AutoDropout.Core.Pictures;

/// <summary>An 8-bit colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White { get; } = new(255, 255, 255);
    public static Rgb Black { get; } = new(0, 0, 0);
    public static Rgb Grey { get; } = new(160, 160, 160);
}

/// <summary>
/// An RGB raster to draw simple pictures on: rectangles, pixels and text in <see cref="BitmapFont"/>. Drawing outside
/// the canvas is clipped, so layouts need not guard their edges.
/// </summary>
public sealed class RgbCanvas
{
    private readonly byte[] _pixels;

    public RgbCanvas(int width, int height, Rgb background)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"a canvas needs at least one pixel, got {width}x{height}");
        Width = width;
        Height = height;
        _pixels = new byte[checked(width * height * 3)];
        FillRectangle(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }

    public Rgb GetPixel(int x, int y)
    {
        if ((uint)x >= Width || (uint)y >= Height) throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside {Width}x{Height}");
        int i = (y * Width + x) * 3;
        return new Rgb(_pixels[i], _pixels[i + 1], _pixels[i + 2]);
    }

    public void SetPixel(int x, int y, Rgb colour)
    {
        if ((uint)x >= Width || (uint)y >= Height) return;
        int i = (y * Width + x) * 3;
        _pixels[i] = colour.R;
        _pixels[i + 1] = colour.G;
        _pixels[i + 2] = colour.B;
    }

    public void FillRectangle(int x, int y, int width, int height, Rgb colour)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y);
        int x1 = (int)Math.Min(Width, (long)x + width), y1 = (int)Math.Min(Height, (long)y + height);
        for (int row = y0; row < y1; row++)
            for (int column = x0; column < x1; column++)
                SetPixel(column, row, colour);
    }

    /// <summary>A one-pixel outline just outside the rectangle (x, y, width, height).</summary>
    public void DrawBorder(int x, int y, int width, int height, Rgb colour)
    {
        FillRectangle(x - 1, y - 1, width + 2, 1, colour);
        FillRectangle(x - 1, y + height, width + 2, 1, colour);
        FillRectangle(x - 1, y, 1, height, colour);
        FillRectangle(x + width, y, 1, height, colour);
    }

    /// <summary>Draws one line of text with its top-left corner at (x, y); returns the width it took.</summary>
    public int DrawText(int x, int y, string text, Rgb colour, int scale = 1)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), "the text scale is at least 1");
        for (int i = 0; i < text.Length; i++)
        {
            int left = x + i * BitmapFont.Advance * scale;
            for (int column = 0; column < BitmapFont.GlyphWidth; column++)
                for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                    if (BitmapFont.IsSet(text[i], column, row))
                        FillRectangle(left + column * scale, y + row * scale, scale, scale, colour);
        }
        return BitmapFont.TextWidth(text, scale);
    }

    /// <summary>The raw pixels, 3 bytes per pixel, rows top to bottom.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    public byte[] Encode() => Png.Encode(Width, Height, _pixels);

    public void Save(string path) => File.WriteAllBytes(path, Encode());
}

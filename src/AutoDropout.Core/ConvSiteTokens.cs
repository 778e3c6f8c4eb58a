namespace AutoDropout.Core;

/// <summary>The 8 decisions the controller makes for one ConvNet mask site (DESIGN.md §1).</summary>
/// <param name="Size">Side of the square base rectangle that is dropped, in feature-map cells.</param>
/// <param name="Stride">Distance between the starts of neighbouring rectangles of the tiling.</param>
/// <param name="Repeat">How many rectangles the tiling has along each axis.</param>
/// <param name="Rotate">Rotation of the tiling about the map's centre, in degrees.</param>
/// <param name="ShearX">Horizontal shear factor of the tiling.</param>
/// <param name="ShearY">Vertical shear factor of the tiling.</param>
/// <param name="ShareChannels">One pattern for all channels (true) or an independent offset per channel.</param>
/// <param name="Residual">Also apply this site's mask to the residual (shortcut) path.</param>
public sealed record ConvSiteTokens(
    int Size, int Stride, int Repeat, int Rotate, double ShearX, double ShearY, bool ShareChannels, bool Residual)
{
    public string ToCompact() =>
        FormattableString.Invariant(
            $"s{Size} t{Stride} r{Repeat} rot{Rotate} sx{ShearX:0.##} sy{ShearY:0.##} c{(ShareChannels ? 1 : 0)} res{(Residual ? 1 : 0)}");

    /// <summary>
    /// The untransformed tiling along one axis of <paramref name="side"/> cells: size and stride clipped to the
    /// side, and the tiling cut so it never covers the whole axis (the one rule masks and pictures share).
    /// </summary>
    public AxisTiling TilingAlong(long side)
    {
        if (side < 1) throw new ArgumentOutOfRangeException(nameof(side), side, "a map side has at least one cell");
        int size = (int)Math.Min(Size, side);
        int stride = (int)Math.Clamp(Stride, 1, side);
        long extent = (long)(Repeat - 1) * stride + size;
        // Squares that touch or overlap (size >= stride) and reach the axis's end would drop every line of it; cut
        // the tiling after side - 1 cells so one line per axis stays kept. A side of 1 has no line to spare: it stays
        // covered and the other axis decides.
        if (side > 1 && size >= stride && extent >= side) extent = side - 1;
        return new AxisTiling(size, stride, (int)Math.Min(extent, side));
    }
}

/// <summary>
/// One axis of a site's tiling: a cell at coordinate r relative to the tiling's offset (wrapped into the map) is
/// covered when r &lt; Extent and r mod Stride &lt; Size. A cell of the map is dropped when both axes cover it.
/// </summary>
public sealed record AxisTiling(int Size, int Stride, int Extent);

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
}

using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// Renders a ConvNet site's tokens into a keep-mask for an activation of shape [N, C, H, W] with tensor ops only.
///
/// The dropped area is a tiling of Repeat x Repeat squares of side Size, Stride apart, sheared and rotated about the
/// map's centre (coordinates rounded to integers), placed at a random offset per example (and per channel unless
/// share_c). The tiling wraps around the map, so the dropped fraction does not depend on where the offset lands.
///
/// A pattern is fixed for a whole trial and an offset is one of H*W cells, so every possible mask is rendered once
/// into a table of H*W rows; a training step then only draws offsets and gathers rows, which costs about a copy of
/// the mask. Each row is already rescaled by numel/sum (per example and channel group) so the expected activation is
/// unchanged.
///
/// No row keeps nothing, and none silently keeps everything: along each axis the tiling is cut so one line stays kept
/// (<see cref="ConvSiteTokens.TilingAlong"/>). Rotation and shear round coordinates, so a transformed row may still
/// miss every kept line; such a row shows the untransformed tiling at the same offset instead. Only a 1x1 map,
/// which cannot drop without dropping everything, keeps its cell.
/// </summary>
public static class PatternMasks
{
    /// <summary>Every mask of this site for an [H, W] map, one row per offset: float [H*W, H*W], rescaled.</summary>
    public static Tensor BuildTable(ConvSiteTokens tokens, long h, long w, Device device)
    {
        using var scope = NewDisposeScope();
        using var held = new HeldScalars();
        var keep = KeepTable(tokens, SourceCoordinates(tokens, h, w, device), h, w, device);
        var nothingKept = keep.sum(1, keepdim: true).eq(held.Of(0));
        if (nothingKept.any().item<bool>())
        {
            var untransformed = KeepTable(tokens, Untransformed(h, w, device), h, w, device);
            keep = where(nothingKept, untransformed, keep);
            keep = where(keep.sum(1, keepdim: true).eq(held.Of(0)), ones_like(keep), keep); // a 1x1 map
        }
        return keep.mul(keep.sum(1, keepdim: true).reciprocal().mul(held.Of(h * w))).MoveToOuterDisposeScope();
    }

    /// <summary>Draws a mask for an activation of <paramref name="shape"/> from a site's table: float [N, 1 or C, H, W].</summary>
    public static Tensor Sample(Tensor table, ConvSiteTokens tokens, long[] shape, Generator generator)
    {
        if (shape.Length != 4) throw new ArgumentException($"a ConvNet mask site needs a [N, C, H, W] activation, got rank {shape.Length}");
        long n = shape[0], groups = tokens.ShareChannels ? 1 : shape[1], h = shape[2], w = shape[3];
        using var scope = NewDisposeScope();
        var offsets = randint(0, h * w, [n * groups], generator: generator, dtype: int64, device: table.device);
        return table.index_select(0, offsets).view(n, groups, h, w).MoveToOuterDisposeScope();
    }

    /// <summary>One mask without a cached table (tests, pictures).</summary>
    public static Tensor Render(ConvSiteTokens tokens, long[] shape, Generator generator, Device device)
    {
        using var table = BuildTable(tokens, shape[2], shape[3], device);
        return Sample(table, tokens, shape, generator);
    }

    /// <summary>1 where a cell is kept, one row per offset: float [H*W, H*W], not yet rescaled.</summary>
    private static Tensor KeepTable(ConvSiteTokens tokens, (Tensor Y, Tensor X) source, long h, long w, Device device)
    {
        using var held = new HeldScalars();
        var offsets = arange(held.Of(h * w), dtype: int64, device: device).view(-1, 1, 1);
        var droppedY = Covered(source.Y.unsqueeze(0).sub(offsets.div(held.Of(w), rounding_mode: RoundingMode.floor)).remainder(held.Of(h)), tokens.TilingAlong(h), held);
        var droppedX = Covered(source.X.unsqueeze(0).sub(offsets.remainder(held.Of(w))).remainder(held.Of(w)), tokens.TilingAlong(w), held);
        return droppedY.logical_and(droppedX).logical_not().to_type(float32).view(h * w, h * w);
    }

    /// <summary>Whether a coordinate, relative to the tiling's offset and wrapped into the map, falls in a square.</summary>
    private static Tensor Covered(Tensor relative, AxisTiling tiling, HeldScalars held) =>
        relative.lt(held.Of(tiling.Extent)).logical_and(relative.remainder(held.Of(tiling.Stride)).lt(held.Of(tiling.Size)));

    private static (Tensor Y, Tensor X) Untransformed(long h, long w, Device device)
    {
        using var held = new HeldScalars();
        return (arange(held.Of(h), dtype: int64, device: device).unsqueeze(1).expand(h, w), arange(held.Of(w), dtype: int64, device: device).unsqueeze(0).expand(h, w));
    }

    /// <summary>
    /// For every output cell, the cell of the untransformed tiling it shows: the inverse of shear-then-rotate about
    /// the centre, rounded to integers. Both [H, W].
    /// </summary>
    private static (Tensor Y, Tensor X) SourceCoordinates(ConvSiteTokens tokens, long h, long w, Device device)
    {
        if (tokens.Rotate == 0 && tokens.ShearX == 0 && tokens.ShearY == 0) return Untransformed(h, w, device);
        double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        using var held = new HeldScalars();
        var y = arange(held.Of(h), dtype: float64, device: device).sub(held.Of(cy)).unsqueeze(1);
        var x = arange(held.Of(w), dtype: float64, device: device).sub(held.Of(cx)).unsqueeze(0);

        // forward map M = R(theta) * S with S = [[1, shear_x], [shear_y, 1]] acting on (x, y); we need M^-1
        double theta = tokens.Rotate * Math.PI / 180.0, cos = Math.Cos(theta), sin = Math.Sin(theta);
        double s00 = 1, s01 = tokens.ShearX, s10 = tokens.ShearY, s11 = 1;
        double m00 = cos * s00 - sin * s10, m01 = cos * s01 - sin * s11;
        double m10 = sin * s00 + cos * s10, m11 = sin * s01 + cos * s11;
        double det = m00 * m11 - m01 * m10;
        if (Math.Abs(det) < 1e-9) det = 1e-9; // shear_x * shear_y = 1 is off our grids; guard anyway
        double i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
        var sourceX = x.mul(held.Of(i00)).add(y.mul(held.Of(i01))).add(held.Of(cx)).round().to_type(int64);
        var sourceY = x.mul(held.Of(i10)).add(y.mul(held.Of(i11))).add(held.Of(cy)).round().to_type(int64);
        return (sourceY, sourceX);
    }
}

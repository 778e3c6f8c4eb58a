using AutoDropout.Core;
using AutoDropout.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class PatternMaskTests
{
    private static readonly ConvSiteTokens Axis = new(2, 4, 2, 0, 0, 0, ShareChannels: false, Residual: false);

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static float[,] Row(Tensor table, int offset, int h, int w)
    {
        var values = table[offset].data<float>().ToArray();
        var grid = new float[h, w];
        for (int i = 0; i < h * w; i++) grid[i / w, i % w] = values[i];
        return grid;
    }

    [Fact]
    public void Golden_axis_aligned_tiling_at_two_offsets()
    {
        using var table = PatternMasks.BuildTable(Axis, 8, 8, CPU);
        // 2x2 squares, 4 apart, 2 per axis: 16 of 64 cells dropped, kept cells scaled by 64/48
        float kept = 64f / 48f;
        var atOrigin = Row(table, 0, 8, 8);
        var shifted = Row(table, 1 * 8 + 2, 8, 8); // offset y=1, x=2
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
            {
                bool droppedAtOrigin = y % 4 < 2 && x % 4 < 2;
                bool droppedShifted = (y - 1 + 8) % 4 < 2 && (y - 1 + 8) % 8 < 6 && (x - 2 + 8) % 4 < 2 && (x - 2 + 8) % 8 < 6;
                Assert.Equal(droppedAtOrigin ? 0 : kept, atOrigin[y, x], 5);
                Assert.Equal(droppedShifted ? 0 : kept, shifted[y, x], 5);
            }
    }

    public static TheoryData<int, int, int, int, double, double, bool> RandomSites()
    {
        var data = new TheoryData<int, int, int, int, double, double, bool>();
        var space = ConvSearchSpace.Default;
        var random = new Random(11);
        for (int i = 0; i < 24; i++)
            data.Add(space.Sizes[random.Next(space.Sizes.Length)], space.Strides[random.Next(space.Strides.Length)],
                space.Repeats[random.Next(space.Repeats.Length)], space.Rotations[random.Next(space.Rotations.Length)],
                space.Shears[random.Next(space.Shears.Length)], space.Shears[random.Next(space.Shears.Length)], random.Next(2) == 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(RandomSites))]
    public void Any_pattern_gives_a_rescaled_mask_of_the_right_shape(int size, int stride, int repeat, int rotate, double shearX, double shearY, bool share)
    {
        var tokens = new ConvSiteTokens(size, stride, repeat, rotate, shearX, shearY, share, false);
        using var generator = new Generator(5);
        using var mask = PatternMasks.Render(tokens, [16, 8, 14, 14], generator, CPU);

        Assert.Equal(new long[] { 16, share ? 1 : 8, 14, 14 }, mask.shape);
        var keptFraction = mask.gt(0).to_type(float32).mean().item<float>();
        Assert.InRange(keptFraction, 1e-6f, 1f);
        // every example and channel group keeps its mean at 1 after rescaling: no all-zero masks
        var means = mask.mean([2, 3]).data<float>().ToArray();
        Assert.All(means, m => Assert.Equal(1f, m, 3));
    }

    [Fact]
    public void Same_seed_same_mask_and_another_seed_other_offsets()
    {
        var tokens = new ConvSiteTokens(3, 8, 2, 30, 0.1, 0, false, false);
        Tensor Draw(ulong seed)
        {
            using var g = new Generator(seed);
            return PatternMasks.Render(tokens, [8, 4, 14, 14], g, CPU);
        }
        using var a = Draw(1);
        using var b = Draw(1);
        using var c = Draw(2);
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
    }

    [Fact]
    public void Share_c_gives_one_mask_for_all_channels_and_per_channel_masks_differ()
    {
        using var g = new Generator(3);
        using var shared = PatternMasks.Render(Axis with { ShareChannels = true }, [4, 6, 8, 8], g, CPU);
        using var perChannel = PatternMasks.Render(Axis, [4, 6, 8, 8], g, CPU);
        Assert.Equal(1, shared.shape[1]);
        using var x = ones(4, 6, 8, 8);
        using var masked = x.mul(shared);
        Assert.True(Same(masked[.., 0], masked[.., 5]));
        Assert.False(Same(perChannel[.., 0], perChannel[.., 1]) && Same(perChannel[.., 1], perChannel[.., 2]) && Same(perChannel[.., 2], perChannel[.., 3]));
    }

    [Fact]
    public void Rotation_changes_the_tiling_and_zero_transforms_keep_it_axis_aligned()
    {
        using var straight = PatternMasks.BuildTable(Axis with { Size = 3, Stride = 8, Repeat = 1 }, 12, 12, CPU);
        using var rotated = PatternMasks.BuildTable(Axis with { Size = 3, Stride = 8, Repeat = 1, Rotate = 45 }, 12, 12, CPU);
        Assert.False(Same(straight, rotated));
        // axis-aligned: the dropped cells of the row for offset 0 form a rectangle (rows x columns)
        var grid = Row(straight, 0, 12, 12);
        var droppedRows = Enumerable.Range(0, 12).Where(y => Enumerable.Range(0, 12).Any(x => grid[y, x] == 0)).ToArray();
        var droppedCols = Enumerable.Range(0, 12).Where(x => Enumerable.Range(0, 12).Any(y => grid[y, x] == 0)).ToArray();
        Assert.Equal([0, 1, 2], droppedRows);
        Assert.Equal([0, 1, 2], droppedCols);
    }

    /// <summary>Per row of a table: how many cells it keeps and drops, and whether it is rescaled by numel / sum.</summary>
    private static void AssertEveryRowKeepsAndDrops(Tensor table, ConvSiteTokens tokens, int side)
    {
        string what = $"{tokens.ToCompact()} on {side}x{side}";
        long cells = side * side;
        var kept = table.gt(0).sum(1).data<long>().ToArray();
        Assert.True(kept.Min() >= 1, $"{what}: a row keeps nothing");
        Assert.True(kept.Max() < cells, $"{what}: a row drops nothing");
        // kept cells carry numel / sum, so every row sums to numel
        var sums = table.sum(1).data<float>().ToArray();
        Assert.All(sums, sum => Assert.Equal(cells, sum, 2));
    }

    public static TheoryData<int> MapSides() => [28, 14, 7, 32, 16, 8, 4, 2];

    [Theory]
    [MemberData(nameof(MapSides))]
    public void Every_default_combination_keeps_something_and_drops_something(int side)
    {
        var space = ConvSearchSpace.Default;
        foreach (int size in space.Sizes)
            foreach (int stride in space.Strides)
                foreach (int repeat in space.Repeats)
                {
                    var tokens = new ConvSiteTokens(size, stride, repeat, 0, 0, 0, true, false);
                    using var table = PatternMasks.BuildTable(tokens, side, side, CPU);
                    AssertEveryRowKeepsAndDrops(table, tokens, side);
                }
    }

    [Theory]
    [MemberData(nameof(MapSides))]
    public void Rotated_and_sheared_combinations_keep_something_and_drop_something(int side)
    {
        var space = ConvSearchSpace.Default;
        var random = new Random(side);
        for (int i = 0; i < 30; i++)
        {
            var tokens = new ConvSiteTokens(space.Sizes[random.Next(space.Sizes.Length)], space.Strides[random.Next(space.Strides.Length)],
                space.Repeats[random.Next(space.Repeats.Length)], space.Rotations[1 + random.Next(space.Rotations.Length - 1)],
                space.Shears[random.Next(space.Shears.Length)], space.Shears[random.Next(space.Shears.Length)], true, false);
            using var table = PatternMasks.BuildTable(tokens, side, side, CPU);
            var kept = table.gt(0).sum(1).data<long>().ToArray();
            Assert.True(kept.Min() >= 1, $"{tokens.ToCompact()} on {side}x{side}: a row keeps nothing");
            // rounding may hide a small square at some offsets, but the combination drops something
            Assert.True(kept.Sum() < (long)side * side * side * side, $"{tokens.ToCompact()} on {side}x{side}: drops nothing");
            Assert.All(table.sum(1).data<float>().ToArray(), sum => Assert.Equal(side * side, sum, 2));
        }
    }

    [Fact]
    public void A_tiling_that_covers_the_whole_map_keeps_one_line_per_axis_instead_of_dropping_nothing()
    {
        // 7x7 squares at stride 1 cover every cell of a 7x7 map; this used to become a mask of all ones
        var tokens = new ConvSiteTokens(7, 1, 5, 0, 0, 0, true, false);
        using var table = PatternMasks.BuildTable(tokens, 7, 7, CPU);
        Assert.False(table.eq(1).all().item<bool>());
        var atOrigin = Row(table, 0, 7, 7);
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 7; x++)
                Assert.Equal(y == 6 || x == 6 ? 49f / 13f : 0f, atOrigin[y, x], 4); // row 6 and column 6 kept
    }

    [Fact]
    public void Squares_that_tile_an_axis_are_cut_after_side_minus_one_cells()
    {
        var space = ConvSearchSpace.Default;
        foreach (int side in new[] { 2, 4, 7, 8, 14, 16, 28, 32 })
            foreach (int size in space.Sizes)
                foreach (int stride in space.Strides)
                    foreach (int repeat in space.Repeats)
                    {
                        var tiling = new ConvSiteTokens(size, stride, repeat, 0, 0, 0, true, false).TilingAlong(side);
                        int covered = Enumerable.Range(0, side).Count(r => r < tiling.Extent && r % tiling.Stride < tiling.Size);
                        Assert.InRange(covered, 1, side - 1);
                    }
        // 4x4 squares 4 apart, twice: the whole 8-cell axis, cut to 7
        Assert.Equal(new AxisTiling(4, 4, 7), new ConvSiteTokens(4, 4, 2, 0, 0, 0, true, false).TilingAlong(8));
        // gaps between the squares already keep lines: unchanged
        Assert.Equal(new AxisTiling(2, 4, 6), new ConvSiteTokens(2, 4, 2, 0, 0, 0, true, false).TilingAlong(8));
        // a side of 1 has no line to spare
        Assert.Equal(new AxisTiling(1, 1, 1), new ConvSiteTokens(3, 2, 2, 0, 0, 0, true, false).TilingAlong(1));
    }

    [Fact]
    public void A_transformed_row_that_misses_every_kept_line_shows_the_untransformed_tiling()
    {
        // a strong shear on a 5x5 map rounds several offsets' rows onto covered cells only
        var sheared = new ConvSiteTokens(1, 1, 5, 0, 0.9, 0.9, true, false);
        using var table = PatternMasks.BuildTable(sheared, 5, 5, CPU);
        using var untransformed = PatternMasks.BuildTable(sheared with { ShearX = 0, ShearY = 0 }, 5, 5, CPU);
        AssertEveryRowKeepsAndDrops(table, sheared, 5);
        Assert.False(Same(table, untransformed));
        int fallbacks = Enumerable.Range(0, 25).Count(offset => Same(table[offset], untransformed[offset]));
        Assert.InRange(fallbacks, 1, 24);
    }

    [Fact]
    public void A_one_cell_map_keeps_its_cell()
    {
        using var table = PatternMasks.BuildTable(new ConvSiteTokens(3, 1, 2, 0, 0, 0, true, false), 1, 1, CPU);
        Assert.Equal(1f, table.item<float>());
    }

    [Fact]
    public void A_site_is_the_identity_at_evaluation_and_masks_in_training()
    {
        using var site = new PatternDropout("site");
        using var g = new Generator(9);
        site.Configure(Axis, g);
        using var x = rand(4, 3, 8, 8, generator: g);
        site.eval();
        using var evaluated = site.call(x);
        Assert.True(Same(evaluated, x));
        site.train();
        using var trained = site.call(x.clone()); // a training forward masks its input in place
        Assert.False(Same(trained, x));
        Assert.True(trained.eq(0).any().item<bool>());
    }

    [Fact]
    public void A_site_renders_its_table_once_per_shape_not_once_per_step()
    {
        using var site = new PatternDropout("site");
        using var g = new Generator(9);
        site.Configure(Axis, g);
        site.train();
        for (int step = 0; step < 3; step++)
        {
            using var x = rand(4, 3, 8, 8, generator: g);
            site.call(x).Dispose();
        }
        Assert.Equal(1, site.TablesBuilt);
        using (var wider = rand(4, 3, 8, 10, generator: g)) site.call(wider).Dispose();
        Assert.Equal(2, site.TablesBuilt);
    }
}

using AutoDropout.Torch;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>How training batches are augmented.</summary>
/// <param name="Pad">Zero padding on every side before a random crop back to the original size; 0: no crop.</param>
/// <param name="Flip">Mirror each image left-right with probability 1/2.</param>
public sealed record AugmentationOptions(int Pad, bool Flip)
{
    public static readonly AugmentationOptions None = new(0, false);

    /// <summary>The usual CIFAR-10 augmentation: pad 4, crop back to 32x32, random flip.</summary>
    public static readonly AugmentationOptions Cifar = new(4, true);

    public bool IsNone => Pad == 0 && !Flip;

    /// <summary>
    /// The default for a dataset by its <see cref="ImageDataset.Name"/>: <see cref="Cifar"/> for CIFAR-10,
    /// <see cref="None"/> otherwise (Fashion-MNIST baselines usually train without augmentation).
    /// </summary>
    public static AugmentationOptions ForDataset(string datasetName) => datasetName == Cifar10.Name ? Cifar : None;
}

/// <summary>Data augmentation as a pure function of a batch and a generator, so a trial's seed fixes it.</summary>
public static class Augmentation
{
    /// <summary>
    /// Randomly crops (after zero padding) and flips each image of a batch [N, C, H, W] independently. Draws only from
    /// <paramref name="generator"/>, which must live on the batch's device (as the masks' generator does). Returns a
    /// new tensor of the batch's shape; with nothing to do, an alias of the batch without drawing.
    /// </summary>
    public static Tensor Apply(Tensor batch, AugmentationOptions options, Generator generator)
    {
        if (batch.dim() != 4) throw new ArgumentException($"expected a batch [N, C, H, W], found {batch.dim()} dimensions");
        if (options.Pad < 0) throw new ArgumentOutOfRangeException(nameof(options), "the padding must not be negative");
        if (options.IsNone) return batch.alias();
        using var scope = NewDisposeScope();
        long n = batch.shape[0], c = batch.shape[1], h = batch.shape[2], w = batch.shape[3];
        int pad = options.Pad;
        var device = batch.device;
        // one crop offset per image in [0, 2 * pad]; the crop and the flip become gather indices into the padded
        // batch, so every image is done at once without a loop
        var top = randint(0, 2 * pad + 1, [n, 1], generator: generator, dtype: int64, device: device);
        var left = randint(0, 2 * pad + 1, [n, 1], generator: generator, dtype: int64, device: device);
        using var held = new HeldScalars();
        var rows = top + arange(held.Of(h), dtype: int64, device: device).unsqueeze(0);   // [N, H]
        var columns = arange(held.Of(w), dtype: int64, device: device).unsqueeze(0).expand(n, w);
        if (options.Flip)
        {
            var flip = randint(0, 2, [n, 1], generator: generator, dtype: int64, device: device).to_type(ScalarType.Bool);
            columns = where(flip, held.Of(w - 1) - columns, columns);
        }
        columns = left + columns;                                                  // [N, W]
        var padded = pad == 0 ? batch : nn.functional.pad(batch, [pad, pad, pad, pad]);
        var cropped = padded
            .gather(2, rows.view(n, 1, h, 1).expand(n, c, h, w + 2 * pad))
            .gather(3, columns.view(n, 1, 1, w).expand(n, c, h, w));
        return cropped.MoveToOuterDisposeScope();
    }
}

using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class AugmentationTests
{
    /// <summary>Distinct positive values, so zeros can only come from the padding.</summary>
    private static Tensor Batch(int n, int c = 3, int h = 6, int w = 6) =>
        arange(1, n * c * h * w + 1, dtype: ScalarType.Float32).view(n, c, h, w);

    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var equal = a.eq(b).all(); // Tensor.equal is elementwise here
        return equal.item<bool>();
    }

    [Fact]
    public void The_shape_is_kept()
    {
        using var batch = Batch(5, 3, 8, 7);
        using var g = new Generator(1);
        using var output = Augmentation.Apply(batch, AugmentationOptions.Cifar, g);
        Assert.Equal(batch.shape, output.shape);
        Assert.Equal(batch.dtype, output.dtype);
    }

    [Fact]
    public void No_padding_and_no_flip_is_the_identity()
    {
        using var batch = Batch(4);
        using var g = new Generator(1);
        using var none = Augmentation.Apply(batch, AugmentationOptions.None, g);
        Assert.True(Same(none, batch));
        Assert.Equal(AugmentationOptions.None, new AugmentationOptions(0, false));
    }

    [Fact]
    public void Flipping_mirrors_some_images_left_to_right_and_leaves_the_others()
    {
        using var image = Batch(1);
        using var batch = image.expand(64, 3, 6, 6).contiguous();
        using var mirrored = image.flip(3);
        Assert.Equal(6f, mirrored[0, 0, 0, 0].item<float>()); // first row 1..6 reversed
        using var g = new Generator(3);
        using var output = Augmentation.Apply(batch, new AugmentationOptions(0, true), g);
        int flipped = 0, kept = 0;
        for (int i = 0; i < 64; i++)
        {
            using var one = output[i].unsqueeze(0);
            if (Same(one, mirrored)) flipped++;
            else if (Same(one, image)) kept++;
        }
        Assert.Equal(64, flipped + kept);
        Assert.InRange(flipped, 16, 48);
    }

    [Fact]
    public void The_same_seed_gives_the_same_augmentation()
    {
        using var batch = Batch(16);
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var g3 = new Generator(8);
        using var first = Augmentation.Apply(batch, AugmentationOptions.Cifar, g1);
        using var second = Augmentation.Apply(batch, AugmentationOptions.Cifar, g2);
        using var other = Augmentation.Apply(batch, AugmentationOptions.Cifar, g3);
        Assert.True(Same(first, second));
        Assert.False(Same(first, other));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Each_image_is_a_crop_of_its_padded_original_possibly_mirrored(bool flip)
    {
        const int pad = 2;
        using var scope = NewDisposeScope();
        using var batch = Batch(12);
        using var g = new Generator(11);
        using var output = Augmentation.Apply(batch, new AugmentationOptions(pad, flip), g);
        using var padded = nn.functional.pad(batch, [pad, pad, pad, pad]);
        int shifted = 0;
        for (int i = 0; i < 12; i++)
        {
            var candidates = new List<(int Top, int Left, bool Mirrored)>();
            for (int top = 0; top <= 2 * pad; top++)
                for (int left = 0; left <= 2 * pad; left++)
                    foreach (var mirrored in flip ? new[] { false, true } : new[] { false })
                    {
                        using var crop = padded[i].narrow(1, top, 6).narrow(2, left, 6);
                        using var candidate = mirrored ? crop.flip(2) : crop.alias();
                        if (Same(output[i], candidate)) candidates.Add((top, left, mirrored));
                    }
            Assert.NotEmpty(candidates);
            if (candidates.Any(c => c.Top != pad || c.Left != pad)) shifted++;
        }
        Assert.InRange(shifted, 1, 12); // the crops do move
    }

    [Fact]
    public void Augmented_trials_are_reproducible_and_no_augmentation_equals_none()
    {
        // small 3x8x8 images keep the five trials quick
        var random = new Random(1);
        var pixels = new byte[40 * 3 * 8 * 8];
        random.NextBytes(pixels);
        var set = new ImageSet(new IdxImages(40, 8, 8, pixels, 3), Enumerable.Range(0, 40).Select(i => (byte)(i % 10)).ToArray(), 10);
        using var data = new PreparedData(set, set, CPU);
        var plan = new TrialPlan(2, 8, 1e-3, Seed: 3, EvalBatchSize: 40);
        double Loss(AugmentationOptions? augmentation) => Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(
            new ImageClassifierTrial(data, AutoDropout.Core.TargetSpec.Parse("cnn"), augmentation), plan, CancellationToken.None)).Metrics.FinalTrainLoss;

        var augmented = AugmentationOptions.ForDataset("cifar-10");
        double plain = Loss(null), once = Loss(augmented);
        Assert.Equal(once, Loss(augmented));
        Assert.Equal(plain, Loss(AugmentationOptions.None));
        Assert.NotEqual(plain, once);
    }

    [Fact]
    public void Defaults_follow_the_dataset_and_bad_input_is_refused()
    {
        Assert.Equal(new AugmentationOptions(4, true), AugmentationOptions.ForDataset("cifar-10"));
        Assert.Equal(AugmentationOptions.None, AugmentationOptions.ForDataset("fashion-mnist"));
        using var g = new Generator(1);
        using var flat = zeros(3, 6, 6);
        Assert.Throws<ArgumentException>(() => Augmentation.Apply(flat, AugmentationOptions.Cifar, g));
        using var batch = Batch(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Augmentation.Apply(batch, new AugmentationOptions(-1, false), g));
    }
}

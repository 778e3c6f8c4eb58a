using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class PreparedDataTests
{
    /// <summary>Three channels with very different ranges, so a shared normalisation would show.</summary>
    private static ImageSet Colour(int count, int seed)
    {
        var random = new Random(seed);
        const int plane = 4 * 5;
        var pixels = new byte[count * 3 * plane];
        for (int n = 0; n < count; n++)
            for (int i = 0; i < plane; i++)
            {
                pixels[(n * 3 + 0) * plane + i] = (byte)random.Next(0, 50);
                pixels[(n * 3 + 1) * plane + i] = (byte)random.Next(100, 256);
                pixels[(n * 3 + 2) * plane + i] = (byte)random.Next(0, 256);
            }
        return new ImageSet(new IdxImages(count, 4, 5, pixels, 3), new byte[count], 10);
    }

    [Fact]
    public void Each_channel_is_normalised_with_the_training_images_own_mean_and_std()
    {
        var train = Colour(8, 1);
        using var data = new PreparedData(train, Colour(3, 2), CPU);

        Assert.Equal(3, data.InputChannels);
        Assert.Equal(new long[] { 8, 3, 4, 5 }, data.Train.Images.shape);
        Assert.Equal(ScalarType.Float32, data.Train.Images.dtype);
        using var mean = data.Train.Images.mean([0L, 2L, 3L]);
        using var std = data.Train.Images.std([0L, 2L, 3L], unbiased: false);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(0, mean[c].item<float>(), 4);
            Assert.Equal(1, std[c].item<float>(), 4);
        }
        Assert.InRange(data.Mean[0], 0.05f, 0.15f); // red was drawn from 0..49
        Assert.InRange(data.Mean[1], 0.6f, 0.8f);   // green from 100..255
    }

    [Fact]
    public void Validation_images_use_the_training_numbers_and_keep_the_channel_major_layout()
    {
        var train = Colour(8, 1);
        var validation = Colour(2, 5);
        using var data = new PreparedData(train, validation, CPU);
        const int plane = 4 * 5;
        for (int c = 0; c < 3; c++)
        {
            // image 1, channel c, row 3, column 2
            byte raw = validation.Images.Pixels[(1 * 3 + c) * plane + 3 * 5 + 2];
            float expected = (raw / 255f - data.Mean[c]) / data.Std[c];
            Assert.Equal(expected, data.Validation.Images[1, c, 3, 2].item<float>(), 4);
        }
    }

    [Fact]
    public void Fashion_mnist_stays_one_channel_near_its_usual_statistics()
    {
        var (train, validation) = FashionMnist.LoadEmbedded().Train.SplitValidation(0.1, 1);
        using var data = new PreparedData(train, validation, CPU);
        Assert.Equal(1, data.InputChannels);
        Assert.Equal(new long[] { train.Count, 1, 28, 28 }, data.Train.Images.shape);
        // the fixed numbers used before were 0.2860 and 0.3530, over the full training set
        Assert.InRange(data.Mean[0], 0.27f, 0.30f);
        Assert.InRange(data.Std[0], 0.34f, 0.37f);
    }

    [Fact]
    public void A_constant_channel_is_centred_not_divided_by_zero_and_shapes_must_agree()
    {
        var flat = new ImageSet(new IdxImages(2, 2, 2, Enumerable.Repeat((byte)9, 8).ToArray()), [0, 1], 2);
        using var data = new PreparedData(flat, flat, CPU);
        Assert.Equal(1f, data.Std[0]);
        Assert.InRange(data.Train.Images.abs().max().item<float>(), 0f, 1e-6f);
        Assert.Throws<ArgumentException>(() => new PreparedData(Colour(2, 1), flat, CPU));
    }
}

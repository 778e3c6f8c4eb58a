using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// Training data prepared once per device and reused by every trial: float32 [N, C, H, W] on the device, each channel
/// normalised with the mean and standard deviation of the training images given (validation uses the same numbers,
/// so nothing about the held-out images leaks into training).
/// </summary>
public sealed class PreparedData : IDisposable
{
    public PreparedData(ImageSet train, ImageSet validation, Device device)
    {
        var (t, v) = (train.Images, validation.Images);
        if ((t.Channels, t.Rows, t.Columns) != (v.Channels, v.Rows, v.Columns))
            throw new ArgumentException($"training images are {t.Channels}x{t.Rows}x{t.Columns} but validation images are {v.Channels}x{v.Rows}x{v.Columns}");
        if (t.Count == 0) throw new ArgumentException("no training images to train on or to normalise with");
        (Mean, Std) = ChannelStatistics(t);
        Train = (ToTensor(t, Mean, Std, device), tensor(train.Labels.Select(l => (long)l).ToArray(), device: device));
        Validation = (ToTensor(v, Mean, Std, device), tensor(validation.Labels.Select(l => (long)l).ToArray(), device: device));
        InputChannels = t.Channels;
        Classes = train.Classes;
        Device = device;
    }

    public (Tensor Images, Tensor Labels) Train { get; }
    public (Tensor Images, Tensor Labels) Validation { get; }
    public int InputChannels { get; }
    public int Classes { get; }
    public Device Device { get; }
    public long TrainCount => Train.Images.shape[0];

    /// <summary>Per-channel pixel mean and standard deviation of the training images, on the 0..1 scale.</summary>
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    /// <summary>Per-channel mean and (population) standard deviation on the 0..1 scale; a constant channel gets 1.</summary>
    public static (float[] Mean, float[] Std) ChannelStatistics(IdxImages images)
    {
        int plane = images.Rows * images.Columns;
        // integer sums are exact and independent of summation order, so every device gets the same numbers
        var sums = new long[images.Channels];
        var squares = new long[images.Channels];
        for (int n = 0; n < images.Count; n++)
            for (int c = 0; c < images.Channels; c++)
            {
                long sum = 0, square = 0;
                foreach (var b in images.Pixels.AsSpan((n * images.Channels + c) * plane, plane))
                {
                    sum += b;
                    square += b * b;
                }
                sums[c] += sum;
                squares[c] += square;
            }
        double count = (double)images.Count * plane;
        var mean = new float[images.Channels];
        var std = new float[images.Channels];
        for (int c = 0; c < images.Channels; c++)
        {
            double m = sums[c] / count, variance = Math.Max(0, squares[c] / count - m * m);
            mean[c] = (float)(m / 255);
            std[c] = variance > 1e-12 ? (float)(Math.Sqrt(variance) / 255) : 1f;
        }
        return (mean, std);
    }

    private static Tensor ToTensor(IdxImages images, IReadOnlyList<float> mean, IReadOnlyList<float> std, Device device)
    {
        using var scope = NewDisposeScope();
        using var byteRange = 255f.ToScalar(); // held: see HeldScalars
        var shape = new long[] { 1, images.Channels, 1, 1 };
        // bytes cross to the device, floats are made there: a quarter of the transfer and no float copy on the host
        return tensor(images.Pixels, [images.Count, images.Channels, images.Rows, images.Columns]).to(device)
            .to_type(float32).div_(byteRange)
            .sub_(tensor(mean.ToArray(), shape, device: device))
            .div_(tensor(std.ToArray(), shape, device: device))
            .MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Train.Images.Dispose(); Train.Labels.Dispose();
        Validation.Images.Dispose(); Validation.Labels.Dispose();
    }
}

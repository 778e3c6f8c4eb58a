using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>Builds the module a baseline puts at one mask site.</summary>
public static class BaselineModules
{
    /// <summary>A fresh module for one site.</summary>
    public static nn.Module<Tensor, Tensor> CreateModule(this BaselineSpec baseline, Generator generator) => baseline.Kind switch
    {
        RegulariserKind.Dropout => new SeededDropout(baseline.Rate, wholeChannels: false, generator),
        RegulariserKind.Spatial => new SeededDropout(baseline.Rate, wholeChannels: true, generator),
        RegulariserKind.DropBlock => new DropBlock(baseline.BlockSize, baseline.Rate, generator),
        _ => throw new ArgumentException($"the baseline {baseline} puts no module at a site"),
    };
}

/// <summary>
/// Dropout of units, or of whole channels (as dropout2d), drawing from the trial's generator. torch's own dropout
/// draws from the global generator, which another thread may be seeding to build a model at that moment: weights
/// and masks would then depend on timing.
/// </summary>
public sealed class SeededDropout(double rate, bool wholeChannels, Generator generator) : nn.Module<Tensor, Tensor>(nameof(SeededDropout))
{
    public override Tensor forward(Tensor x)
    {
        if (!training || rate == 0) return x;
        using var scope = NewDisposeScope();
        long[] shape = wholeChannels ? [x.shape[0], x.shape[1], .. Enumerable.Repeat(1L, (int)x.dim() - 2)] : x.shape;
        using var keepRate = (1 - rate).ToScalar(); // held: see HeldScalars
        var keep = full(shape, keepRate, dtype: x.dtype, device: x.device).bernoulli(generator: generator);
        return x.mul(keep).div(keepRate).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// DropBlock: drops BLOCK x BLOCK squares. Seeds fall only where a whole block fits, at the rate
/// gamma = (1 - keep) / block^2 * (H W) / ((H - block + 1)(W - block + 1)); blocks are a stride-1 max-pool of the
/// seeds; kept units are scaled by numel / sum. keep_prob moves linearly from 1 to its target over training
/// (<see cref="Progress"/>).
/// </summary>
public sealed class DropBlock : nn.Module<Tensor, Tensor>
{
    private readonly int _block;
    private readonly double _targetKeep;
    private readonly Generator _generator;

    public DropBlock(int block, double keepProbability, Generator generator) : base(nameof(DropBlock))
    {
        _block = block;
        _targetKeep = keepProbability;
        _generator = generator;
    }

    /// <summary>Share of training done, in [0, 1]; the trial loop sets it every step.</summary>
    public double Progress { get; set; } = 1;

    public double KeepProbability => 1 - Math.Clamp(Progress, 0, 1) * (1 - _targetKeep);

    public static double Gamma(double keep, int block, long height, long width) =>
        (1 - keep) / (block * block) * (height * width) / ((height - block + 1.0) * (width - block + 1.0));

    public override Tensor forward(Tensor x)
    {
        double keep = KeepProbability;
        long h = x.shape[2], w = x.shape[3];
        int block = (int)Math.Min(_block, Math.Min(h, w));
        if (!training || keep >= 1) return x;
        using var scope = NewDisposeScope();
        double gamma = Gamma(keep, block, h, w);
        // seeds only where a whole block fits: the valid (H-b+1) x (W-b+1) corner, padded back to H x W
        using Scalar gammaScalar = gamma.ToScalar(), one = 1.ToScalar(); // held: see HeldScalars
        var valid = rand([x.shape[0], x.shape[1], h - block + 1, w - block + 1], generator: _generator, device: x.device).lt(gammaScalar).to_type(x.dtype);
        int before = (block - 1) / 2, after = block - 1 - before;
        var seeds = F.pad(valid, [before, after, before, after]);
        var dropped = F.max_pool2d(seeds, block, stride: 1, padding: block / 2);
        if (block % 2 == 0) dropped = dropped.narrow(2, 0, h).narrow(3, 0, w);
        var mask = dropped.neg().add(one);
        using var scale = (mask.numel() / Math.Max(1.0, mask.sum().item<float>())).ToScalar();
        return x.mul(mask).mul(scale).MoveToOuterDisposeScope();
    }
}

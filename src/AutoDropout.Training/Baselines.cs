using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>
/// The hand-made regularisers AutoDropout is compared with, placed at the same sites as patterns:
/// "dropout:P" (units), "spatial:P" (whole channels, dropout2d) and "dropblock:SIZE:KEEP" (Ghiasi et al. 2018).
/// </summary>
public sealed record BaselineSpec(string Kind, double Rate, int BlockSize = 0)
{
    public static BaselineSpec Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        double Number(int i, string what) =>
            parts.Length > i && double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v : throw new ArgumentException($"baseline '{text}': {what} is missing or not a number");
        switch (parts[0])
        {
            case "dropout" or "spatial":
                {
                    double p = Number(1, "the drop probability");
                    if (p is < 0 or >= 1) throw new ArgumentException($"baseline '{text}': the drop probability must be in [0, 1)");
                    return new BaselineSpec(parts[0], p);
                }
            case "dropblock":
                {
                    int size = (int)Number(1, "the block size");
                    double keep = Number(2, "keep_prob");
                    if (size < 1) throw new ArgumentException($"baseline '{text}': the block size must be at least 1");
                    if (keep is <= 0 or > 1) throw new ArgumentException($"baseline '{text}': keep_prob must be in (0, 1]");
                    return new BaselineSpec("dropblock", keep, size);
                }
            default:
                throw new ArgumentException($"unknown baseline '{text}': expected dropout:P, spatial:P or dropblock:SIZE:KEEP");
        }
    }

    /// <summary>A fresh module for one site.</summary>
    public nn.Module<Tensor, Tensor> CreateModule(Generator generator) => Kind switch
    {
        "dropout" => nn.Dropout(Rate),
        "spatial" => nn.Dropout2d(Rate),
        _ => new DropBlock(BlockSize, Rate, generator),
    };

    public override string ToString() => Kind == "dropblock"
        ? FormattableString.Invariant($"dropblock:{BlockSize}:{Rate}")
        : FormattableString.Invariant($"{Kind}:{Rate}");
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
        var valid = rand([x.shape[0], x.shape[1], h - block + 1, w - block + 1], generator: _generator, device: x.device).lt(gamma).to_type(x.dtype);
        int before = (block - 1) / 2, after = block - 1 - before;
        var seeds = F.pad(valid, [before, after, before, after]);
        var dropped = F.max_pool2d(seeds, block, stride: 1, padding: block / 2);
        if (block % 2 == 0) dropped = dropped.narrow(2, 0, h).narrow(3, 0, w);
        var mask = dropped.neg().add(1);
        var scale = mask.numel() / Math.Max(1.0, mask.sum().item<float>());
        return x.mul(mask).mul(scale).MoveToOuterDisposeScope();
    }
}

using AutoDropout.Core;
using AutoDropout.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Bench;

/// <summary>
/// Ways to apply a site's mask after a BN of the small CNN, for `bench step`. Each lever gets the BN output and
/// returns what the next layer sees (the ReLU included, so levers may fold the mask into it); all but the fixed
/// mask draw a fresh mask per step as <see cref="PatternDropout"/> does.
/// </summary>
internal sealed record MaskLever(string Name, Func<LeverMasks, Func<int, Tensor, Tensor>> Activation, bool ChannelsLast = false)
{
    public static IReadOnlyList<MaskLever> All() =>
    [
        new("none (bench CNN)", _ => (_, x) => F.relu(x)),
        new("mul, out of place", m => (i, x) => F.relu(x.mul(m.Draw(i, x)))),
        new("fixed mask (the peer's)", m => (i, x) => F.relu(x.mul(m.Fixed(i, x)))),
        new("(a) bool where, scale", m => (i, x) =>
        {
            var (keep, scale) = m.DrawKeep(i, x);
            return F.relu(where(keep, x, 0f).mul(scale));
        }),
        new("(b) relu then mul", m => (i, x) => F.relu(x).mul(m.Draw(i, x))),
        new("(b) mul then relu_", m => (i, x) => x.mul(m.Draw(i, x)).relu_()),
        new("(c) autograd fn", m => (i, x) => F.relu(MaskMultiply.apply(x, m.Draw(i, x)))),
        new("(d) none, channels-last", _ => (_, x) => F.relu(x), ChannelsLast: true),
        new("(d) mul, channels-last", m => (i, x) => F.relu(x.mul(ChannelsLastCopy(m.Draw(i, x)))), ChannelsLast: true),
        new("(e) mul_ (PatternDropout)", m => (i, x) => F.relu(x.mul_(m.Draw(i, x)))),
        new("(e) mul_ then relu_", m => (i, x) => x.mul_(m.Draw(i, x)).relu_()),
        new("(f) the PatternDropout module", m => (i, x) => F.relu(m.Site(i).call(x))),
    ];

    /// <summary>NCHW sizes with NHWC strides: libtorch treats such a tensor as channels-last.</summary>
    public static Tensor ChannelsLastCopy(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}

/// <summary>Per-site mask tables of one pattern, built on a site's first activation.</summary>
internal sealed class LeverMasks(ConvSiteTokens tokens) : IDisposable
{
    private readonly Generator _generator = new(7);
    private readonly Dictionary<int, Tensor> _tables = new();
    private readonly Dictionary<int, Tensor> _fixed = new();
    private readonly Dictionary<int, (Tensor Keep, Tensor Scale)> _keep = new();
    private readonly Dictionary<int, PatternDropout> _sites = new();

    /// <summary>The production site module for a site, configured with this pattern and generator.</summary>
    public PatternDropout Site(int site)
    {
        if (!_sites.TryGetValue(site, out var module))
        {
            _sites[site] = module = new PatternDropout($"site{site + 1}");
            module.Configure(tokens, _generator);
        }
        return module;
    }

    public Tensor Draw(int site, Tensor like) => PatternMasks.Sample(Table(site, like), tokens, like.shape, _generator);

    public Tensor Fixed(int site, Tensor like)
    {
        if (!_fixed.TryGetValue(site, out var mask)) _fixed[site] = mask = Draw(site, like).DetachFromDisposeScope();
        return mask;
    }

    /// <summary>The same draw as <see cref="Draw"/> as a bool keep-mask and a per-row scale (a row's kept cells share one).</summary>
    public (Tensor Keep, Tensor Scale) DrawKeep(int site, Tensor like)
    {
        if (!_keep.TryGetValue(site, out var tables))
        {
            var table = Table(site, like);
            using var zero = 0.ToScalar(); // held: see HeldScalars
            _keep[site] = tables = (table.gt(zero).DetachFromDisposeScope(), table.amax(1).DetachFromDisposeScope());
        }
        long n = like.shape[0], groups = tokens.ShareChannels ? 1 : like.shape[1], h = like.shape[2], w = like.shape[3];
        var offsets = randint(0, h * w, [n * groups], generator: _generator, dtype: int64);
        return (tables.Keep.index_select(0, offsets).view(n, groups, h, w), tables.Scale.index_select(0, offsets).view(n, groups, 1, 1));
    }

    private Tensor Table(int site, Tensor like)
    {
        if (!_tables.TryGetValue(site, out var table))
            _tables[site] = table = PatternMasks.BuildTable(tokens, like.shape[2], like.shape[3], like.device).DetachFromDisposeScope();
        return table;
    }

    public void Dispose()
    {
        foreach (var t in _tables.Values.Concat(_fixed.Values).Concat(_keep.Values.SelectMany(k => new[] { k.Keep, k.Scale }))) t.Dispose();
        foreach (var module in _sites.Values) module.Dispose();
        _generator.Dispose();
    }
}

/// <summary>x * mask whose backward keeps only the mask (libtorch's mul decides for itself what it saves).</summary>
internal sealed class MaskMultiply : SingleTensorFunction<MaskMultiply>
{
    public override string Name => nameof(MaskMultiply);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var mask = (Tensor)vars[1];
        ctx.save_for_backward([mask]);
        return ((Tensor)vars[0]).mul(mask);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output) =>
        [grad_output.mul(ctx.get_saved_variables()[0]), null!];
}

/// <summary>The small CNN's layers (<see cref="SmallCnn"/>, same initialisation) with what follows each BN left to a lever.</summary>
internal sealed class LeverCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Linear hidden, output;
    private readonly Func<int, Tensor, Tensor> _activation;

    public LeverCnn(int inputChannels, int classes, Func<int, Tensor, Tensor> activation) : base(nameof(LeverCnn))
    {
        conv1 = nn.Conv2d(inputChannels, 32, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(32);
        conv2 = nn.Conv2d(32, 64, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(64);
        hidden = nn.Linear(64 * 7 * 7, 128);
        output = nn.Linear(128, classes);
        _activation = activation;
        RegisterComponents();
    }

    /// <summary>Conv weights with channels-last strides, so convolutions keep that layout whatever the input's channel count.</summary>
    public void ToChannelsLast()
    {
        conv1.weight = new Parameter(MaskLever.ChannelsLastCopy(conv1.weight!.detach()));
        conv2.weight = new Parameter(MaskLever.ChannelsLastCopy(conv2.weight!.detach()));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = F.max_pool2d(_activation(0, bn1.call(conv1.call(x))), 2);
        h = F.max_pool2d(_activation(1, bn2.call(conv2.call(h))), 2);
        h = F.adaptive_avg_pool2d(h, [7, 7]).flatten(1);
        return output.call(F.relu(hidden.call(h))).MoveToOuterDisposeScope();
    }
}

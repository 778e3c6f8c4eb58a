using AutoDropout.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>A target network whose batch-norm outputs carry mask sites, in a fixed order.</summary>
public abstract class MaskedTarget : nn.Module<Tensor, Tensor>
{
    protected MaskedTarget(string name) : base(name) { }

    public abstract IReadOnlyList<PatternDropout> Sites { get; }

    /// <summary>The group (stage of equal resolution, numbered from 1) of each site, in site order.</summary>
    public abstract IReadOnlyList<int> SiteGroups { get; }

    /// <summary>The indices of the sites a baseline with this placement goes to.</summary>
    public IReadOnlyList<int> SitesFor(BaselinePlacement placement) => placement switch
    {
        BaselinePlacement.All => Enumerable.Range(0, Sites.Count).ToArray(),
        BaselinePlacement.Late => Enumerable.Range(0, Sites.Count).Where(i => SiteGroups[i] > 1).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(placement), placement, "unknown placement"),
    };

    /// <summary>Sets (or clears, with null) the pattern; masks draw their random offsets from <paramref name="generator"/>.</summary>
    public void ApplyPattern(ConvPattern? pattern, Generator? generator)
    {
        if (pattern is not null && pattern.Sites.Length != Sites.Count)
            throw new PatternException($"the target has {Sites.Count} mask sites but the pattern has {pattern.Sites.Length}");
        for (int i = 0; i < Sites.Count; i++) Sites[i].Configure(pattern?.Sites[i], generator);
    }

    /// <summary>
    /// Puts a fresh baseline module at each site of its placement (instead of a pattern; the other sites stay empty);
    /// the target owns and disposes them.
    /// </summary>
    public void ApplyBaseline(BaselineSpec baseline, Generator generator)
    {
        if (baseline.Kind == RegulariserKind.None)
        {
            ApplyPattern(null, generator);
            return;
        }
        ApplyPattern(null, null);
        foreach (int i in SitesFor(baseline.Placement))
        {
            Sites[i].Replacement?.Dispose();
            Sites[i].ReplaceWith(baseline.CreateModule(generator));
        }
    }

    /// <summary>Tells schedule-driven baselines (DropBlock's keep_prob) how far training is.</summary>
    public void SetTrainingProgress(double fraction)
    {
        foreach (var site in Sites)
            if (site.Replacement is DropBlock block) block.Progress = fraction;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var site in Sites) site.Replacement?.Dispose();
        base.Dispose(disposing);
    }

    public static MaskedTarget Build(TargetSpec spec, int inputChannels, int classes) =>
        spec.IsWideResNet
            ? new WideResNet(spec.Depth, spec.Widen, inputChannels, classes)
            : new SmallCnn(inputChannels, classes);
}

/// <summary>Two conv+BN layers and a classifier: fast enough on CPU for searches on 28x28 images.</summary>
public sealed class SmallCnn : MaskedTarget
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly PatternDropout site1, site2;
    private readonly Linear hidden, output;

    public SmallCnn(int inputChannels, int classes) : base(nameof(SmallCnn))
    {
        conv1 = nn.Conv2d(inputChannels, 32, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(32);
        site1 = new PatternDropout("site1");
        conv2 = nn.Conv2d(32, 64, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(64);
        site2 = new PatternDropout("site2");
        hidden = nn.Linear(64 * 7 * 7, 128);
        output = nn.Linear(128, classes);
        RegisterComponents();
    }

    public override IReadOnlyList<PatternDropout> Sites => [site1, site2];

    /// <summary>Each conv layer is its own stage (a max-pool follows it).</summary>
    public override IReadOnlyList<int> SiteGroups => [1, 2];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = F.max_pool2d(F.relu(site1.call(bn1.call(conv1.call(x)))), 2);
        h = F.max_pool2d(F.relu(site2.call(bn2.call(conv2.call(h)))), 2);
        h = F.adaptive_avg_pool2d(h, [7, 7]).flatten(1);
        return output.call(F.relu(hidden.call(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Pre-activation Wide-ResNet WRN-D-K (Zagoruyko and Komodakis): three groups of (D-4)/6 blocks of widths 16K, 32K,
/// 64K. Each block has a site after each of its two BNs; the final BN has one more.
/// </summary>
public sealed class WideResNet : MaskedTarget
{
    private readonly Conv2d stem;
    private readonly ModuleList<WideBlock> blocks = new();
    private readonly BatchNorm2d finalBn;
    private readonly PatternDropout finalSite;
    private readonly Linear classifier;
    private readonly List<PatternDropout> sites = new();
    private readonly List<int> siteGroups = new();

    public WideResNet(int depth, int widen, int inputChannels, int classes) : base($"WRN-{depth}-{widen}")
    {
        int perGroup = (depth - 4) / 6;
        int[] widths = [16, 16 * widen, 32 * widen, 64 * widen];
        stem = nn.Conv2d(inputChannels, widths[0], 3, padding: 1, bias: false);
        int inWidth = widths[0];
        for (int group = 0; group < 3; group++)
            for (int b = 0; b < perGroup; b++)
            {
                var block = new WideBlock($"g{group}b{b}", inWidth, widths[group + 1], b == 0 && group > 0 ? 2 : 1);
                blocks.Add(block);
                sites.Add(block.Site1);
                sites.Add(block.Site2);
                siteGroups.Add(group + 1);
                siteGroups.Add(group + 1);
                inWidth = widths[group + 1];
            }
        finalBn = nn.BatchNorm2d(inWidth);
        finalSite = new PatternDropout("final_site");
        sites.Add(finalSite);
        siteGroups.Add(3); // the final BN works on group 3's output, at its resolution
        classifier = nn.Linear(inWidth, classes);
        RegisterComponents();
    }

    public override IReadOnlyList<PatternDropout> Sites => sites;

    public override IReadOnlyList<int> SiteGroups => siteGroups;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = stem.call(x);
        foreach (var block in blocks) h = block.call(h);
        h = F.relu(finalSite.call(finalBn.call(h)));
        h = F.adaptive_avg_pool2d(h, [1, 1]).flatten(1);
        return classifier.call(h).MoveToOuterDisposeScope();
    }
}

/// <summary>BN-ReLU-conv-BN-ReLU-conv with an identity or 1x1-conv shortcut.</summary>
public sealed class WideBlock : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn1, bn2;
    private readonly Conv2d conv1, conv2;
    private readonly Conv2d? shortcut;
    public PatternDropout Site1 { get; }
    public PatternDropout Site2 { get; }

    public WideBlock(string name, int inWidth, int outWidth, int stride) : base(name)
    {
        bn1 = nn.BatchNorm2d(inWidth);
        Site1 = new PatternDropout("site1");
        conv1 = nn.Conv2d(inWidth, outWidth, 3, stride: stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outWidth);
        Site2 = new PatternDropout("site2");
        conv2 = nn.Conv2d(outWidth, outWidth, 3, padding: 1, bias: false);
        if (inWidth != outWidth || stride != 1) shortcut = nn.Conv2d(inWidth, outWidth, 1, stride: stride, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = F.relu(Site1.call(bn1.call(x)));
        // The residual token puts a site's mask on the shortcut too. With a projection shortcut the path already
        // starts from the masked activation, so site 1's token only matters for identity shortcuts.
        var residual = shortcut is null ? Site1.ApplyToResidual(x) : shortcut.call(a);
        var h = conv1.call(a);
        h = conv2.call(F.relu(Site2.call(bn2.call(h))));
        return h.add(Site2.ApplyToResidual(residual)).MoveToOuterDisposeScope();
    }
}

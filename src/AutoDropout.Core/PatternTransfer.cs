namespace AutoDropout.Core;

/// <summary>
/// Carries a pattern found on one target to another target of the same family, site by site, so a pattern searched
/// on a small model can be evaluated on a larger one (the paper's transfer experiments).
/// <para>
/// Wide-ResNets (site order of <c>WideResNet</c>: for group g = 0..2 and block b = 0..n-1, with n = (D-4)/6 blocks per
/// group, site 2(gn + b) follows the block's first BN (before its first conv) and site 2(gn + b) + 1 its second BN;
/// the last site, 6n, follows the final BN; the stem conv has no BN and no site). Same depth: the identity, whatever
/// the widen factors. Otherwise block j of group g on the new target takes block floor(j nFrom / nTo) of group g on
/// the old one, its first site from that block's first and its second from its second; the final site maps to the
/// final site. Block 0 always maps to block 0, so the stride-2 blocks that open groups 1 and 2 keep their tokens.
/// </para>
/// <para>
/// Language models (site order of <see cref="TransformerSites.Layout"/>): the embedding site maps to the embedding
/// site; layer j of the new model takes layer floor(j LFrom / LTo) of the old one, each sub-layer (q, k, v, attention,
/// FFN hidden, FFN output, residual) from the same sub-layer. Width and heads do not enter: a <c>head</c> share token
/// names no head count (masks split the channels into whatever heads the model has), so it stays valid.
/// </para>
/// <para><c>cnn</c> to <c>cnn</c> is the identity. Different families (cnn and wrn, ConvNets and language models) are refused.</para>
/// </summary>
public static class PatternTransfer
{
    /// <summary>The pattern for <paramref name="toTarget"/>; equal to <paramref name="pattern"/> when the site layouts match.</summary>
    /// <exception cref="ArgumentException">An unknown target, different families, a pattern of the wrong space or
    /// whose site count is not the source target's.</exception>
    public static DropoutPattern Map(DropoutPattern pattern, string fromTarget, string toTarget)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        bool fromLm = LanguageModelSpec.IsLanguageModelName(fromTarget), toLm = LanguageModelSpec.IsLanguageModelName(toTarget);
        if (fromLm && toLm) return MapLanguageModel(pattern, LanguageModelSpec.Parse(fromTarget), LanguageModelSpec.Parse(toTarget));
        if (fromLm || toLm)
        {
            // parsed first so an unknown name is reported as such rather than as a family mismatch
            string from = fromLm ? LanguageModelSpec.Parse(fromTarget).Name : TargetSpec.Parse(fromTarget).Name;
            string to = toLm ? LanguageModelSpec.Parse(toTarget).Name : TargetSpec.Parse(toTarget).Name;
            throw new ArgumentException($"cannot map a pattern found on {from} to {to}: a language model and a ConvNet have different sites");
        }
        return MapConvNet(pattern, TargetSpec.Parse(fromTarget), TargetSpec.Parse(toTarget));
    }

    private static DropoutPattern MapConvNet(DropoutPattern pattern, TargetSpec from, TargetSpec to)
    {
        if (from.IsWideResNet != to.IsWideResNet)
            throw new ArgumentException($"cannot map a pattern found on {from.Name} to {to.Name}: the small cnn and Wide-ResNets have different sites");
        var conv = pattern as ConvPattern
            ?? throw new ArgumentException($"{from.Name} takes ConvNet patterns, not {pattern.Space} patterns");
        CheckSiteCount(conv.SiteCount, from.MaskSites, from.Name);
        if (!from.IsWideResNet || from.Depth == to.Depth) return conv;
        int nFrom = from.BlocksPerGroup, nTo = to.BlocksPerGroup;
        var sites = new List<ConvSiteTokens>(to.MaskSites);
        for (int group = 0; group < 3; group++)
            for (int block = 0; block < nTo; block++)
            {
                int source = 2 * (group * nFrom + block * nFrom / nTo);
                sites.Add(conv.Sites[source]);
                sites.Add(conv.Sites[source + 1]);
            }
        sites.Add(conv.Sites[^1]);
        return new ConvPattern(sites);
    }

    private static TransformerPattern MapLanguageModel(DropoutPattern pattern, LanguageModelSpec from, LanguageModelSpec to)
    {
        var transformer = pattern as TransformerPattern
            ?? throw new ArgumentException($"{from.Name} takes Transformer patterns, not {pattern.Space} patterns");
        CheckSiteCount(transformer.SiteCount, from.MaskSites, from.Name);
        if (from.Layers == to.Layers) return transformer;
        int perLayer = (from.MaskSites - 1) / from.Layers;
        var sites = new List<TransformerSiteTokens>(to.MaskSites) { transformer.Sites[0] };
        for (int layer = 0; layer < to.Layers; layer++)
        {
            int source = 1 + (layer * from.Layers / to.Layers * perLayer);
            for (int kind = 0; kind < perLayer; kind++) sites.Add(transformer.Sites[source + kind]);
        }
        return new TransformerPattern(sites);
    }

    private static void CheckSiteCount(int patternSites, int targetSites, string target)
    {
        if (patternSites != targetSites)
            throw new ArgumentException($"the pattern has {patternSites} sites but {target}, where it was found, has {targetSites}");
    }
}

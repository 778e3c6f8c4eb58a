using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Training;

/// <summary>
/// A decoder-only (GPT-style, pre-LayerNorm) Transformer language model with a mask site on every sub-layer of the
/// Transformer space, in <see cref="TransformerSites.Layout"/> order. Input and output embeddings are tied.
/// </summary>
public sealed class TransformerLm : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Parameter positions;
    private readonly ModuleList<TransformerLayer> layers = new();
    private readonly LayerNorm finalNorm;
    private readonly SequenceDropout embeddingSite;
    private readonly List<SequenceDropout> sites = new();

    public TransformerLm(LanguageModelSpec spec, int vocabulary, int context) : base(spec.Name)
    {
        Spec = spec;
        Context = context;
        tokens = nn.Embedding(vocabulary, spec.Width);
        using (var held = new HeldScalars()) positions = nn.Parameter(randn(context, spec.Width).mul(held.Of(0.02)));
        embeddingSite = new SequenceDropout("embedding_site", spec.Heads);
        sites.Add(embeddingSite);
        for (int i = 0; i < spec.Layers; i++)
        {
            var layer = new TransformerLayer($"layer{i}", spec.Width, spec.Heads);
            layers.Add(layer);
            sites.AddRange(layer.Sites);
        }
        finalNorm = nn.LayerNorm(spec.Width);
        RegisterComponents();
        using (no_grad()) tokens.weight!.normal_(0, 0.02);
    }

    public LanguageModelSpec Spec { get; }
    public int Context { get; }
    public IReadOnlyList<SequenceDropout> Sites => sites;

    public void ApplyPattern(TransformerPattern? pattern, Generator? generator)
    {
        if (pattern is not null && pattern.Sites.Length != sites.Count)
            throw new PatternException($"{Spec.Name} has {sites.Count} mask sites but the pattern has {pattern.Sites.Length}");
        for (int i = 0; i < sites.Count; i++) sites[i].Configure(pattern?.Sites[i], generator);
    }

    /// <summary>
    /// A hand-made baseline at every site instead of a pattern: standard dropout (the usual one for Transformers) or
    /// none; channel-map baselines (spatial, DropBlock) do not apply to sequences.
    /// </summary>
    public void ApplyBaseline(BaselineSpec baseline, Generator generator)
    {
        if (!baseline.FitsLanguageModels)
            throw new ArgumentException($"a language model takes the baseline dropout:P or none, not {baseline}");
        ApplyPattern(null, generator);
        if (baseline.Kind == RegulariserKind.Dropout)
            foreach (var site in sites) site.UseDropout(baseline.Rate, generator);
    }

    /// <summary>Token ids [N, T] (T ≤ context) to next-token logits [N, T, vocabulary].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        long t = ids.shape[1];
        if (t > Context) throw new ArgumentException($"sequence of {t} tokens is longer than the context of {Context}");
        var h = embeddingSite.call(tokens.call(ids).add(positions.narrow(0, 0, t)));
        foreach (var layer in layers) h = layer.call(h);
        return F.linear(finalNorm.call(h), tokens.weight!).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-LayerNorm layer: causal self-attention and a GELU feed-forward, each added to the residual stream.</summary>
public sealed class TransformerLayer : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly Linear query, key, value, projection, hidden, output;
    private readonly int heads;
    private readonly SequenceDropout qSite, kSite, vSite, attentionSite, hiddenSite, outputSite, residualSite;

    public TransformerLayer(string name, int width, int heads) : base(name)
    {
        this.heads = heads;
        norm1 = nn.LayerNorm(width);
        norm2 = nn.LayerNorm(width);
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        projection = nn.Linear(width, width);
        hidden = nn.Linear(width, 4 * width);
        output = nn.Linear(4 * width, width);
        qSite = new SequenceDropout("q_site", heads);
        kSite = new SequenceDropout("k_site", heads);
        vSite = new SequenceDropout("v_site", heads);
        attentionSite = new SequenceDropout("attention_site", heads);
        hiddenSite = new SequenceDropout("ffn_hidden_site", heads);
        outputSite = new SequenceDropout("ffn_output_site", heads);
        residualSite = new SequenceDropout("residual_site", heads);
        RegisterComponents();
    }

    /// <summary>In TransformerSites order: q, k, v, attention output, FFN hidden, FFN output, residual.</summary>
    public IReadOnlyList<SequenceDropout> Sites => [qSite, kSite, vSite, attentionSite, hiddenSite, outputSite, residualSite];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var held = new HeldScalars();
        long n = x.shape[0], t = x.shape[1], c = x.shape[2];
        var a = norm1.call(x);
        Tensor Heads(Tensor projected) => projected.view(n, t, heads, c / heads).transpose(1, 2);
        var q = Heads(qSite.call(query.call(a)));
        var k = Heads(kSite.call(key.call(a)));
        var v = Heads(vSite.call(value.call(a)));
        var scores = q.matmul(k.transpose(-2, -1)).div(held.Of(Math.Sqrt(c / heads)));
        var causal = ones(t, t, dtype: ScalarType.Bool, device: x.device).triu(1);
        var context = F.softmax(scores.masked_fill(causal, held.Of(double.NegativeInfinity)), -1).matmul(v);
        var attention = attentionSite.call(context.transpose(1, 2).reshape(n, t, c));
        var h = x.add(projection.call(attention));
        var f = hiddenSite.call(F.gelu(hidden.call(norm2.call(h))));
        h = h.add(outputSite.call(output.call(f)));
        return residualSite.call(h).MoveToOuterDisposeScope();
    }
}

using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// Renders a Transformer site's tokens into a keep-mask along the sequence: in every period of Stride positions a run
/// of Size consecutive positions is dropped, starting at a random offset per example (and per channel or head unless
/// the hidden vector is shared). Each row is rescaled by T / kept so the expected activation is unchanged; a row that
/// would keep nothing (a sequence shorter than one period) drops nothing instead.
/// </summary>
public static class SequenceMasks
{
    /// <summary>
    /// The mask for an activation [N, T, C] split into <paramref name="heads"/> heads, in the shape the sharing asks
    /// for: (N, T, 1) hidden, (N, T, C) channel, (N, heads, T, 1) head.
    /// </summary>
    public static Tensor Render(TransformerSiteTokens tokens, long n, long t, long c, int heads, Generator generator, Device device)
    {
        if (tokens.Share == SequenceSharing.Head && (heads < 1 || c % heads != 0))
            throw new ArgumentException($"head sharing needs the width {c} to split into {heads} heads");
        long groups = tokens.Share switch { SequenceSharing.Hidden => 1, SequenceSharing.Channel => c, _ => heads };
        using var scope = NewDisposeScope();
        using var held = new HeldScalars();
        var offsets = randint(0, tokens.Stride, [n * groups, 1], generator: generator, dtype: int64, device: device);
        var phase = arange(held.Of(t), dtype: int64, device: device).unsqueeze(0).add(offsets).remainder(held.Of(tokens.Stride));
        var keep = phase.ge(held.Of(tokens.DroppedPerPeriod)).to_type(float32); // [N*G, T]
        var kept = keep.sum(1, keepdim: true);
        var none = kept.eq(held.Of(0));
        keep = where(none, ones_like(keep), keep);
        kept = where(none, full_like(kept, held.Of(t)), kept);
        keep = keep.mul(kept.reciprocal().mul(held.Of(t)));
        var shaped = tokens.Share switch
        {
            SequenceSharing.Hidden => keep.view(n, t, 1),
            SequenceSharing.Channel => keep.view(n, c, t).transpose(1, 2),
            _ => keep.view(n, heads, t, 1),
        };
        return shaped.MoveToOuterDisposeScope();
    }

    /// <summary>Multiplies an activation [N, T, C] by a freshly drawn mask of this site.</summary>
    public static Tensor Apply(Tensor x, TransformerSiteTokens tokens, int heads, Generator generator)
    {
        long n = x.shape[0], t = x.shape[1], c = x.shape[2];
        using var scope = NewDisposeScope();
        var mask = Render(tokens, n, t, c, heads, generator, x.device);
        if (tokens.Share == SequenceSharing.Head)
            mask = mask.permute(0, 2, 1, 3).expand(n, t, heads, c / heads).reshape(n, t, c);
        return x.mul(mask).MoveToOuterDisposeScope();
    }
}

/// <summary>A Transformer mask site: identity at evaluation, when unset, or when its pattern switches it off.</summary>
public sealed class SequenceDropout : nn.Module<Tensor, Tensor>
{
    private TransformerSiteTokens? _tokens;
    private Generator? _generator;
    private double _uniformRate;

    public SequenceDropout(string name, int heads) : base(name) => Heads = heads;

    public int Heads { get; }

    public TransformerSiteTokens? Tokens => _tokens;

    /// <summary>Sets this site's tokens (null: no mask); offsets come from <paramref name="generator"/>.</summary>
    public void Configure(TransformerSiteTokens? tokens, Generator? generator)
    {
        _tokens = tokens;
        _generator = generator;
        _uniformRate = 0;
    }

    /// <summary>The standard-dropout baseline at this site instead of a pattern.</summary>
    public void UseDropout(double rate, Generator generator)
    {
        _tokens = null;
        _generator = generator;
        _uniformRate = rate;
    }

    public override Tensor forward(Tensor input)
    {
        if (!training) return input;
        if (_uniformRate > 0)
        {
            // drawn from the trial's generator (not torch's global one) so a trial is reproducible
            using var scope = NewDisposeScope();
            using var keepRate = (1 - _uniformRate).ToScalar(); // held: see HeldScalars
            var keep = full_like(input, keepRate).bernoulli(generator: _generator);
            return input.mul(keep).div(keepRate).MoveToOuterDisposeScope();
        }
        if (_tokens is not { Apply: true } || _generator is null) return input;
        return SequenceMasks.Apply(input, _tokens, Heads, _generator);
    }
}

using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// A mask site: placed after a batch-norm layer, it multiplies the activation by the site's rendered mask during
/// training and is the identity at evaluation or when no pattern is set.
/// </summary>
public sealed class PatternDropout : nn.Module<Tensor, Tensor>
{
    private ConvSiteTokens? _tokens;
    private Generator? _generator;

    public PatternDropout(string name) : base(name) { }

    /// <summary>The tokens of this site, or null for no dropout.</summary>
    public ConvSiteTokens? Tokens => _tokens;

    /// <summary>The mask used by the last training forward, kept so a block can reuse it on its residual path.</summary>
    public Tensor? LastMask { get; private set; }

    public void Configure(ConvSiteTokens? tokens, Generator? generator)
    {
        _tokens = tokens;
        _generator = generator;
    }

    public override Tensor forward(Tensor input)
    {
        LastMask = null;
        if (!training || _tokens is null || _generator is null) return input;
        var mask = PatternMasks.Render(_tokens, input.shape, _generator, input.device);
        LastMask = mask;
        return input.mul(mask);
    }

    /// <summary>Applies this site's last mask to the residual path when the pattern asks for it and shapes agree.</summary>
    public Tensor ApplyToResidual(Tensor residual) =>
        _tokens is { Residual: true } && LastMask is not null && residual.shape.SequenceEqual(ShapeOf(LastMask, residual))
            ? residual.mul(LastMask)
            : residual;

    private static long[] ShapeOf(Tensor mask, Tensor like) =>
        [like.shape[0], like.shape[1], mask.shape[2], mask.shape[3]];
}

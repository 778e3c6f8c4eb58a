using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>
/// A mask site: placed after a batch-norm layer, it multiplies the activation in place by the site's rendered mask
/// during training and is the identity at evaluation or when no pattern is set.
/// </summary>
public sealed class PatternDropout : nn.Module<Tensor, Tensor>
{
    private ConvSiteTokens? _tokens;
    private Generator? _generator;
    private nn.Module<Tensor, Tensor>? _replacement;
    private Tensor? _table; // every mask of this site's pattern, built on the first forward (see PatternMasks)

    public PatternDropout(string name) : base(name) { }

    /// <summary>The tokens of this site, or null for no dropout.</summary>
    public ConvSiteTokens? Tokens => _tokens;

    /// <summary>The mask used by the last training forward, kept so a block can reuse it on its residual path.</summary>
    public Tensor? LastMask { get; private set; }

    public void Configure(ConvSiteTokens? tokens, Generator? generator)
    {
        _tokens = tokens;
        _generator = generator;
        _table?.Dispose();
        _table = null;
    }

    /// <summary>Puts another regulariser (a baseline such as DropBlock) at this site instead of a pattern; null removes it.</summary>
    public void ReplaceWith(nn.Module<Tensor, Tensor>? module) => _replacement = module;

    /// <summary>The module a baseline put here, if any.</summary>
    public nn.Module<Tensor, Tensor>? Replacement => _replacement;

    /// <summary>How many times this site has rendered its pattern's table: once per pattern, shape and device.</summary>
    public int TablesBuilt { get; private set; }

    /// <summary>Benchmarks learn each site's activation shape through this.</summary>
    public Action<long[]>? ShapeRecorder { get; set; }

    public override Tensor forward(Tensor input)
    {
        LastMask = null;
        ShapeRecorder?.Invoke(input.shape);
        if (_replacement is not null) return _replacement.call(input);
        if (!training || _tokens is null || _generator is null) return input;
        var shape = input.shape; // each read of a shape is a round of native calls
        // by type and index: a Device is a class without equality, so comparing two of them rebuilt the table every step
        if (_table is null || _table.shape[0] != shape[2] * shape[3]
            || _table.device_type != input.device_type || _table.device_index != input.device_index)
        {
            _table?.Dispose();
            _table = PatternMasks.BuildTable(_tokens, shape[2], shape[3], input.device).DetachFromDisposeScope();
            TablesBuilt++;
        }
        var mask = PatternMasks.Sample(_table, _tokens, shape, _generator);
        LastMask = mask;
        // In place: every site follows a BN, whose backward does not need its output, and a fresh activation-sized
        // tensor per site was most of the masked step's extra time (docs/performance.md).
        return input.mul_(mask);
    }

    /// <summary>Applies this site's last mask to the residual path when the pattern asks for it and shapes agree.</summary>
    public Tensor ApplyToResidual(Tensor residual) =>
        _tokens is { Residual: true } && LastMask is not null && residual.shape.SequenceEqual(ShapeOf(LastMask, residual))
            ? residual.mul(LastMask)
            : residual;

    protected override void Dispose(bool disposing)
    {
        if (disposing) _table?.Dispose();
        base.Dispose(disposing);
    }

    private static long[] ShapeOf(Tensor mask, Tensor like) =>
        [like.shape[0], like.shape[1], mask.shape[2], mask.shape[3]];
}

using AutoDropout.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Policy;

/// <summary>
/// A small causal Transformer that writes a pattern one token at a time. The input at position t is the sum of
/// embeddings of the token type written at t, of the value written at t-1 (a start symbol at t = 0), and of t.
/// Each token type has its own output head over its own vocabulary.
/// </summary>
public sealed class PolicyNetwork : nn.Module<Tensor, Tensor>
{
    private readonly int[] _vocabularies;
    private readonly long[] _valueOffsets;
    private readonly Embedding typeEmbedding, valueEmbedding, positionEmbedding;
    private readonly ModuleList<CausalBlock> blocks = new();
    private readonly LayerNorm finalNorm;
    private readonly ModuleList<Linear> heads = new();

    /// <param name="vocabularies">Vocabulary size of each token type, in the order types repeat.</param>
    /// <param name="length">Number of tokens in a full pattern.</param>
    public PolicyNetwork(IReadOnlyList<int> vocabularies, int length, PolicyOptions options) : base(nameof(PolicyNetwork))
    {
        _vocabularies = vocabularies.ToArray();
        _valueOffsets = new long[_vocabularies.Length];
        for (int i = 1; i < _vocabularies.Length; i++) _valueOffsets[i] = _valueOffsets[i - 1] + _vocabularies[i - 1];
        StartSymbol = _valueOffsets[^1] + _vocabularies[^1];
        Length = length;
        typeEmbedding = nn.Embedding(_vocabularies.Length, options.Width);
        valueEmbedding = nn.Embedding(StartSymbol + 1, options.Width);
        positionEmbedding = nn.Embedding(length, options.Width);
        for (int i = 0; i < options.Layers; i++) blocks.Add(new CausalBlock($"block{i}", options.Width, options.Heads));
        finalNorm = nn.LayerNorm(options.Width);
        foreach (var v in _vocabularies) heads.Add(nn.Linear(options.Width, v));
        RegisterComponents();
    }

    public int Length { get; }
    public int TypeCount => _vocabularies.Length;
    public IReadOnlyList<int> Vocabularies => _vocabularies;
    private long StartSymbol { get; }

    /// <summary>Shifts token sequences right into value-embedding ids [B, length], with the start symbol first.</summary>
    public Tensor InputIds(long[][] tokens, int length)
    {
        var ids = new long[tokens.Length * length];
        for (int b = 0; b < tokens.Length; b++)
            for (int t = 0; t < length; t++)
                ids[b * length + t] = t == 0 ? StartSymbol : _valueOffsets[(t - 1) % TypeCount] + tokens[b][t - 1];
        return tensor(ids, [tokens.Length, length]);
    }

    /// <summary>Hidden states [B, T, W] for input ids [B, T].</summary>
    public override Tensor forward(Tensor inputIds) => Hidden(inputIds, PositionalPart(Length));

    /// <summary>The embeddings of token type and position for the first <paramref name="length"/> positions, [1, length, W].</summary>
    public Tensor PositionalPart(long length)
    {
        var positions = arange(length, dtype: int64);
        return (typeEmbedding.call(positions.remainder(TypeCount)) + positionEmbedding.call(positions)).unsqueeze(0);
    }

    /// <summary>Hidden states for input ids [B, T], given <see cref="PositionalPart"/> of at least T positions.</summary>
    public Tensor Hidden(Tensor inputIds, Tensor positionalPart)
    {
        long length = inputIds.shape[1];
        var h = valueEmbedding.call(inputIds) + positionalPart.narrow(1, 0, length);
        foreach (var block in blocks) h = block.call(h);
        return finalNorm.call(h);
    }

    /// <summary>Empty key/value caches, one pair per block, for <paramref name="batch"/> patterns written together.</summary>
    public (Tensor Keys, Tensor Values)[] NewCache(long batch) =>
        blocks.Select(b => b.NewCache(batch, Length)).ToArray();

    /// <summary>
    /// Hidden states [B, W] at <paramref name="position"/> for the value ids [B] written there, attending through
    /// <paramref name="cache"/> to the positions before it (which this call extends): one position per call, so
    /// writing a pattern costs its length in calls instead of the square of it.
    /// </summary>
    public Tensor HiddenAt(Tensor ids, int position, Tensor positionalPart, (Tensor Keys, Tensor Values)[] cache)
    {
        var h = valueEmbedding.call(ids).unsqueeze(1) + positionalPart.narrow(1, position, 1);
        for (int i = 0; i < cache.Length; i++) h = blocks[i].Step(h, position, cache[i].Keys, cache[i].Values);
        return finalNorm.call(h).squeeze(1);
    }

    /// <summary>The value id the token <paramref name="token"/> at <paramref name="position"/> feeds to the next position.</summary>
    public long NextInputId(int position, int token) => _valueOffsets[position % TypeCount] + token;

    /// <summary>The value id at position 0.</summary>
    public long FirstInputId => StartSymbol;

    /// <summary>Raw logits of the head for the token type at position <paramref name="position"/>.</summary>
    public Tensor Logits(Tensor hidden, int position) => heads[position % TypeCount].call(hidden);
}

/// <summary>Pre-norm Transformer block with causal self-attention.</summary>
public sealed class CausalBlock : nn.Module<Tensor, Tensor>
{
    private readonly int _heads, _width;
    private readonly Dictionary<long, Tensor> _futureMasks = new(); // causal masks by length, built once
    private readonly LayerNorm norm1, norm2;
    private readonly Linear qkv, projection, up, down;
    // held for the block's life: a scalar converted implicitly for one call may be freed while libtorch reads it (Torch.Adam)
    private readonly Scalar _scale, _masked;

    public CausalBlock(string name, int width, int heads) : base(name)
    {
        (_heads, _width) = (heads, width);
        (_scale, _masked) = (Math.Sqrt(width / heads), double.NegativeInfinity);
        norm1 = nn.LayerNorm(width);
        qkv = nn.Linear(width, 3 * width);
        projection = nn.Linear(width, width);
        norm2 = nn.LayerNorm(width);
        up = nn.Linear(width, 4 * width);
        down = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1], w = x.shape[2], d = w / _heads;
        var parts = qkv.call(norm1.call(x)).view(b, t, 3, _heads, d).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var scores = q.matmul(k.transpose(-2, -1)).div(_scale);
        if (!_futureMasks.TryGetValue(t, out var future))
            _futureMasks[t] = future = ones(t, t, dtype: ScalarType.Bool).triu(1).DetachFromDisposeScope();
        scores = scores.masked_fill(future, _masked);
        var attended = F.softmax(scores, -1).matmul(v).permute(0, 2, 1, 3).reshape(b, t, w);
        x = x + projection.call(attended);
        return x + down.call(F.gelu(up.call(norm2.call(x))));
    }

    public (Tensor Keys, Tensor Values) NewCache(long batch, long length)
    {
        long d = _width / _heads;
        return (zeros(batch, _heads, length, d), zeros(batch, _heads, length, d));
    }

    /// <summary>The block at one position [B, 1, W]: its key and value join the cache, its query attends to all of it.</summary>
    public Tensor Step(Tensor x, int position, Tensor keys, Tensor values)
    {
        long b = x.shape[0], w = x.shape[2], d = w / _heads;
        var parts = qkv.call(norm1.call(x)).view(b, 1, 3, _heads, d).permute(2, 0, 3, 1, 4);
        keys.narrow(2, position, 1).copy_(parts[1]);
        values.narrow(2, position, 1).copy_(parts[2]);
        var (k, v) = (keys.narrow(2, 0, position + 1), values.narrow(2, 0, position + 1));
        var scores = parts[0].matmul(k.transpose(-2, -1)).div(_scale);
        var attended = F.softmax(scores, -1).matmul(v).permute(0, 2, 1, 3).reshape(b, 1, w);
        x = x + projection.call(attended);
        return x + down.call(F.gelu(up.call(norm2.call(x))));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var mask in _futureMasks.Values) mask.Dispose();
            _scale.Dispose();
            _masked.Dispose();
        }
        base.Dispose(disposing);
    }
}

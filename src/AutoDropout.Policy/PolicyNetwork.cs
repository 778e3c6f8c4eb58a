using AutoDropout.Core;
using AutoDropout.Torch;
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
    public override Tensor forward(Tensor inputIds)
    {
        var h = valueEmbedding.call(inputIds) + PositionalPart().narrow(1, 0, inputIds.shape[1]);
        foreach (var block in blocks) h = block.call(h);
        return finalNorm.call(h);
    }

    /// <summary>The embeddings of token type and position for every position, [1, length, W].</summary>
    private Tensor PositionalPart()
    {
        using var held = new HeldScalars();
        var positions = arange(held.Of(Length), dtype: int64);
        return (typeEmbedding.call(positions.remainder(held.Of(TypeCount))) + positionEmbedding.call(positions)).unsqueeze(0);
    }

    /// <summary>A copy of the weights as plain arrays, for writing patterns on the host (<see cref="HostPolicy"/>).</summary>
    public HostPolicy ToHost()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return new HostPolicy(HostTensors.Copy(valueEmbedding.weight!), HostTensors.Copy(PositionalPart()),
            blocks.Select(b => b.ToHost()).ToArray(), ToHost(finalNorm), heads.Select(ToHost).ToArray(), (int)finalNorm.weight!.shape[0], Length);
    }

    internal static HostLinear ToHost(Linear layer) =>
        new(HostTensors.Copy(layer.weight!.t()), HostTensors.Copy(layer.bias!), (int)layer.weight!.shape[1], (int)layer.weight!.shape[0]);

    internal static HostNorm ToHost(LayerNorm norm) => new(HostTensors.Copy(norm.weight!), HostTensors.Copy(norm.bias!));

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
    private readonly int _heads;
    private readonly Dictionary<long, Tensor> _futureMasks = new(); // causal masks by length, built once
    private readonly LayerNorm norm1, norm2;
    private readonly Linear qkv, projection, up, down;
    // held for the block's life: a scalar converted implicitly for one call may be freed while libtorch reads it (Torch.Adam)
    private readonly Scalar _scale, _masked;

    public CausalBlock(string name, int width, int heads) : base(name)
    {
        _heads = heads;
        (_scale, _masked) = (Math.Sqrt(width / heads).ToScalar(), double.NegativeInfinity.ToScalar());
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

    public HostBlock ToHost() => new(PolicyNetwork.ToHost(norm1), PolicyNetwork.ToHost(qkv), PolicyNetwork.ToHost(projection),
        PolicyNetwork.ToHost(norm2), PolicyNetwork.ToHost(up), PolicyNetwork.ToHost(down), _heads);

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

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDropout.Policy;

/// <summary>A linear layer's weights transposed to [in, out] (one row per input), with its bias.</summary>
public sealed record HostLinear(float[] Weights, float[] Bias, int In, int Out);

/// <summary>A layer norm's scale and shift.</summary>
public sealed record HostNorm(float[] Scale, float[] Shift);

/// <summary>One pre-norm block's weights.</summary>
public sealed record HostBlock(HostNorm Norm1, HostLinear Qkv, HostLinear Projection, HostNorm Norm2, HostLinear Up, HostLinear Down, int Heads);

/// <summary>
/// The policy network's forward pass for writing patterns, one position at a time, on a copy of its weights in plain
/// C#. Sampling is many tiny steps (a width-32 network over one position per call), and through torch each of the
/// ~30 operations of a step paid a fixed dispatch cost that outweighed its arithmetic; here a step is a few vector
/// loops (docs/performance.md, "Sampling"). Learning and scoring stay in torch (<see cref="PolicyNetwork"/>), and
/// the tests hold the two to the same probabilities.
///
/// Deterministic and independent of the batch: every number is computed within its own pattern's row, so a
/// pattern's numbers do not depend on the patterns written beside it.
/// </summary>
public sealed class HostPolicy
{
    private const float NormEpsilon = 1e-5f; // torch's LayerNorm default
    private readonly float[] _valueEmbedding, _positional; // positional: type + position embeddings, [length, width]
    private readonly HostBlock[] _blocks;
    private readonly HostNorm _finalNorm;
    private readonly HostLinear[] _heads;
    private readonly int _width, _length;

    public HostPolicy(float[] valueEmbedding, float[] positional, HostBlock[] blocks, HostNorm finalNorm, HostLinear[] heads, int width, int length)
    {
        (_valueEmbedding, _positional, _blocks, _finalNorm, _heads, _width, _length) = (valueEmbedding, positional, blocks, finalNorm, heads, width, length);
    }

    /// <summary>The bytes of keys and values one pattern holds while it is written.</summary>
    public long CacheBytesPerPattern => 2L * _blocks.Length * _width * _length * sizeof(float);

    /// <summary>Fresh key/value caches for a batch of patterns written together.</summary>
    public AttentionCache[] NewCaches(int batch) =>
        _blocks.Select(b => new AttentionCache(batch, b.Heads, _width / b.Heads, _length)).ToArray();

    /// <summary>
    /// The head's logits [batch, vocabulary] at <paramref name="position"/> for the value ids written there,
    /// extending <paramref name="caches"/> with this position's keys and values.
    /// </summary>
    public float[] Step(ReadOnlySpan<long> ids, int position, AttentionCache[] caches)
    {
        int batch = ids.Length, w = _width;
        var h = new float[batch * w];
        var positional = _positional.AsSpan(position * w, w);
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(_valueEmbedding.AsSpan((int)ids[b] * w, w), positional, h.AsSpan(b * w, w));
        var normed = new float[batch * w];
        for (int i = 0; i < _blocks.Length; i++)
        {
            var block = _blocks[i];
            Norm(h, block.Norm1, normed);
            var attended = caches[i].Attend(Linear(normed, block.Qkv, batch), position);
            TensorPrimitives.Add(h, Linear(attended, block.Projection, batch), h);
            Norm(h, block.Norm2, normed);
            var hidden = Linear(normed, block.Up, batch);
            Gelu(hidden);
            TensorPrimitives.Add(h, Linear(hidden, block.Down, batch), h);
        }
        Norm(h, _finalNorm, normed);
        return Linear(normed, _heads[position % _heads.Length], batch);
    }

    private void Norm(float[] x, HostNorm norm, float[] y)
    {
        int w = _width;
        for (int r = 0; r < x.Length / w; r++)
        {
            var row = x.AsSpan(r * w, w);
            var output = y.AsSpan(r * w, w);
            float mean = TensorPrimitives.Sum(row) / w;
            TensorPrimitives.Subtract(row, mean, output);
            float variance = TensorPrimitives.SumOfSquares(output) / w;
            TensorPrimitives.Multiply(output, 1f / MathF.Sqrt(variance + NormEpsilon), output);
            TensorPrimitives.MultiplyAdd(output, norm.Scale, norm.Shift, output);
        }
    }

    /// <summary>x [rows, in] times the layer: each output sums its inputs in order, eight outputs to a register.</summary>
    private static float[] Linear(float[] x, HostLinear layer, int rows)
    {
        const int lanes = 8; // Vector256<float>.Count
        int inputs = layer.In, outputs = layer.Out;
        var y = new float[rows * outputs];
        ref float weights = ref MemoryMarshal.GetArrayDataReference(layer.Weights);
        ref float bias = ref MemoryMarshal.GetArrayDataReference(layer.Bias);
        for (int r = 0; r < rows; r++)
        {
            var input = x.AsSpan(r * inputs, inputs);
            ref float output = ref y[r * outputs];
            int o = 0;
            for (; o + 2 * lanes <= outputs; o += 2 * lanes)
            {
                Vector256<float> a = default, b = default;
                nuint at = (nuint)o;
                foreach (float value in input)
                {
                    var v = Vector256.Create(value);
                    a += v * Vector256.LoadUnsafe(ref weights, at);
                    b += v * Vector256.LoadUnsafe(ref weights, at + lanes);
                    at += (nuint)outputs;
                }
                (a + Vector256.LoadUnsafe(ref bias, (nuint)o)).StoreUnsafe(ref output, (nuint)o);
                (b + Vector256.LoadUnsafe(ref bias, (nuint)o + lanes)).StoreUnsafe(ref output, (nuint)o + lanes);
            }
            for (; o + lanes <= outputs; o += lanes)
            {
                Vector256<float> a = default;
                nuint at = (nuint)o;
                foreach (float value in input)
                {
                    a += Vector256.Create(value) * Vector256.LoadUnsafe(ref weights, at);
                    at += (nuint)outputs;
                }
                (a + Vector256.LoadUnsafe(ref bias, (nuint)o)).StoreUnsafe(ref output, (nuint)o);
            }
            for (; o < outputs; o++)
            {
                float sum = 0;
                for (int k = 0; k < inputs; k++) sum += input[k] * Unsafe.Add(ref weights, k * outputs + o);
                Unsafe.Add(ref output, o) = sum + Unsafe.Add(ref bias, o);
            }
        }
        return y;
    }

    /// <summary>
    /// GELU with the exact erf form torch uses, x * Phi(x) = max(x, 0) - |x| erfc(|x| / sqrt 2) / 2, with erfc from
    /// Numerical Recipes' Chebyshev fit (fractional error below 1.2e-7, under float's own rounding), in place.
    /// </summary>
    public static void Gelu(Span<float> x)
    {
        Span<float> a = new float[x.Length], t = new float[x.Length], p = new float[x.Length];
        TensorPrimitives.Abs(x, a);
        TensorPrimitives.Multiply(a, 1f / MathF.Sqrt(2f), a);
        TensorPrimitives.Multiply(a, 0.5f, t);
        TensorPrimitives.Add(t, 1f, t);
        TensorPrimitives.Divide(1f, t, t);
        ReadOnlySpan<float> c = [0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f];
        p.Fill(c[0]);
        for (int i = 1; i < c.Length; i++) TensorPrimitives.MultiplyAdd(p, t, c[i], p);
        TensorPrimitives.Multiply(a, a, a);
        TensorPrimitives.Subtract(p, a, p);
        TensorPrimitives.Exp(p, p);
        TensorPrimitives.Multiply(p, t, p); // erfc(|x| / sqrt 2)
        TensorPrimitives.Abs(x, a);
        TensorPrimitives.Multiply(a, p, a);
        TensorPrimitives.Max(x, 0f, x);
        TensorPrimitives.MultiplyAdd(a, -0.5f, x, x);
    }
}

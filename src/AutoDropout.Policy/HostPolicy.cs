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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
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
            Gelu(hidden, block.Up.Out);
            TensorPrimitives.Add(h, Linear(hidden, block.Down, batch), h);
        }
        Norm(h, _finalNorm, normed);
        return Linear(normed, _heads[position % _heads.Length], batch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
    private void Norm(float[] x, HostNorm norm, float[] y)
    {
        int w = _width;
        for (int r = 0; r < x.Length / w; r++)
        {
            var row = x.AsSpan(r * w, w);
            var output = y.AsSpan(r * w, w);
            float sum = 0, squares = 0;
            foreach (float value in row) sum += value;
            float mean = sum / w;
            for (int i = 0; i < w; i++)
            {
                float centred = row[i] - mean;
                output[i] = centred;
                squares += centred * centred;
            }
            float inverse = 1f / MathF.Sqrt(squares / w + NormEpsilon);
            for (int i = 0; i < w; i++) output[i] = output[i] * inverse * norm.Scale[i] + norm.Shift[i];
        }
    }

    /// <summary>
    /// x [rows, in] times the layer: each output sums its inputs in order, eight outputs to a register, two rows at a
    /// time so that each load of weights serves both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
    private static float[] Linear(float[] x, HostLinear layer, int rows)
    {
        const int lanes = 8; // Vector256<float>.Count
        int inputs = layer.In, outputs = layer.Out;
        var y = GC.AllocateUninitializedArray<float>(rows * outputs);
        ref float weights = ref MemoryMarshal.GetArrayDataReference(layer.Weights);
        ref float bias = ref MemoryMarshal.GetArrayDataReference(layer.Bias);
        ref float input = ref MemoryMarshal.GetArrayDataReference(x);
        ref float output = ref MemoryMarshal.GetArrayDataReference(y);
        int r = 0;
        for (; r + 2 <= rows; r += 2)
        {
            nuint first = (nuint)(r * inputs), second = first + (nuint)inputs;
            int o = 0;
            for (; o + lanes <= outputs; o += lanes)
            {
                Vector256<float> a = default, b = default;
                nuint at = (nuint)o;
                for (nuint k = 0; k < (nuint)inputs; k++)
                {
                    var w = Vector256.LoadUnsafe(ref weights, at);
                    a += Vector256.Create(Unsafe.Add(ref input, first + k)) * w;
                    b += Vector256.Create(Unsafe.Add(ref input, second + k)) * w;
                    at += (nuint)outputs;
                }
                var shift = Vector256.LoadUnsafe(ref bias, (nuint)o);
                (a + shift).StoreUnsafe(ref output, (nuint)(r * outputs + o));
                (b + shift).StoreUnsafe(ref output, (nuint)((r + 1) * outputs + o));
            }
            for (; o < outputs; o++)
            {
                Unsafe.Add(ref output, r * outputs + o) = Dot(ref input, first, ref weights, inputs, outputs, o) + Unsafe.Add(ref bias, o);
                Unsafe.Add(ref output, (r + 1) * outputs + o) = Dot(ref input, second, ref weights, inputs, outputs, o) + Unsafe.Add(ref bias, o);
            }
        }
        for (; r < rows; r++)
        {
            nuint row = (nuint)(r * inputs);
            int o = 0;
            for (; o + lanes <= outputs; o += lanes)
            {
                Vector256<float> a = default;
                nuint at = (nuint)o;
                for (nuint k = 0; k < (nuint)inputs; k++)
                {
                    a += Vector256.Create(Unsafe.Add(ref input, row + k)) * Vector256.LoadUnsafe(ref weights, at);
                    at += (nuint)outputs;
                }
                (a + Vector256.LoadUnsafe(ref bias, (nuint)o)).StoreUnsafe(ref output, (nuint)(r * outputs + o));
            }
            for (; o < outputs; o++)
                Unsafe.Add(ref output, r * outputs + o) = Dot(ref input, row, ref weights, inputs, outputs, o) + Unsafe.Add(ref bias, o);
        }
        return y;
    }

    /// <summary>One output of one row, summed in the same order as a vector lane sums it.</summary>
    private static float Dot(ref float input, nuint row, ref float weights, int inputs, int outputs, int o)
    {
        float sum = 0;
        for (int k = 0; k < inputs; k++) sum += Unsafe.Add(ref input, row + (nuint)k) * Unsafe.Add(ref weights, k * outputs + o);
        return sum;
    }

    /// <summary>
    /// GELU with the exact erf form torch uses, x * Phi(x) = max(x, 0) - |x| erfc(|x| / sqrt 2) / 2, with erfc from
    /// Numerical Recipes' Chebyshev fit (fractional error below 1.2e-7, under float's own rounding), in place.
    /// Rows of <paramref name="width"/> are computed alike whatever their place in the batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
    public static void Gelu(Span<float> x, int width)
    {
        if (width < 1 || x.Length % width != 0) throw new ArgumentException($"{x.Length} values are not rows of {width}");
        var t = new float[x.Length];
        var exponent = new float[x.Length];
        for (int r = 0; r < x.Length; r += width)
        {
            int i = r;
            for (; i + Vector256<float>.Count <= r + width; i += Vector256<float>.Count)
            {
                var a = Vector256.Abs(Vector256.Create(x.Slice(i, Vector256<float>.Count))) * Vector256.Create(InverseSqrt2);
                var ti = Vector256<float>.One / (Vector256<float>.One + a * Vector256.Create(0.5f));
                var p = Vector256.Create(Erfc[0]);
                for (int c = 1; c < Erfc.Length; c++) p = p * ti + Vector256.Create(Erfc[c]);
                ti.CopyTo(t.AsSpan(i));
                (p - a * a).CopyTo(exponent.AsSpan(i));
            }
            for (; i < r + width; i++)
            {
                float a = MathF.Abs(x[i]) * InverseSqrt2, ti = 1f / (1f + a * 0.5f), p = Erfc[0];
                for (int c = 1; c < Erfc.Length; c++) p = p * ti + Erfc[c];
                t[i] = ti;
                exponent[i] = p - a * a;
            }
        }
        TensorPrimitives.Exp(exponent, exponent);
        for (int i = 0; i < x.Length; i++)
            x[i] = MathF.Max(x[i], 0f) - 0.5f * MathF.Abs(x[i]) * t[i] * exponent[i];
    }

    private const float InverseSqrt2 = 0.70710678f;

    /// <summary>The Chebyshev fit's coefficients, highest power first: erfc(z) = t exp(-z^2 + poly(t)), t = 1 / (1 + z/2).</summary>
    private static readonly float[] Erfc =
        [0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f];
}

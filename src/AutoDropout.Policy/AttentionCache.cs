using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDropout.Policy;

/// <summary>
/// One block's keys and values while a batch of patterns is written, held on the host, with the attention of one
/// new position over them. Written by hand instead of with torch because at one query per pattern torch's batched
/// matmul makes a matrix-vector call per pattern and head, and those calls were about 85% of writing a WRN
/// pattern (docs/performance.md); here each (pattern, head) is a few vector passes over its own contiguous rows.
/// Plain C#, single-threaded and deterministic.
/// </summary>
public sealed class AttentionCache
{
    private readonly int _batch, _heads, _headWidth, _length;
    private readonly float _scale;
    // per (pattern, head): keys as headWidth rows of `length` positions (a query's scores are one pass along
    // them), values as `length` rows of headWidth (the weighted sum is one pass down them)
    private readonly float[] _keys, _values;
    private readonly float[] _scores;

    public AttentionCache(int batch, int heads, int headWidth, int length)
    {
        if (batch < 1 || heads < 1 || headWidth < 1 || length < 1)
            throw new ArgumentException("an attention cache needs a batch, heads, a head width and a length of at least 1");
        (_batch, _heads, _headWidth, _length) = (batch, heads, headWidth, length);
        _scale = MathF.Sqrt(headWidth);
        // never zeroed: a position is read only after it was written
        _keys = GC.AllocateUninitializedArray<float>(batch * heads * headWidth * length);
        _values = GC.AllocateUninitializedArray<float>(_keys.Length);
        _scores = new float[length];
    }

    /// <summary>
    /// Adds each pattern's key and value at <paramref name="position"/> and returns what its query attends to
    /// over positions 0..position, [batch, heads * headWidth] in head order. <paramref name="qkv"/> is
    /// [batch, 3, heads, headWidth] row-major: the queries, keys and values of this position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
    public float[] Attend(ReadOnlySpan<float> qkv, int position)
    {
        int width = _heads * _headWidth;
        if (qkv.Length != _batch * 3 * width) throw new ArgumentException($"expected {_batch * 3 * width} query/key/value numbers, got {qkv.Length}");
        if (position < 0 || position >= _length) throw new ArgumentOutOfRangeException(nameof(position), $"position must be in 0..{_length - 1}");
        var output = new float[_batch * width];
        int seen = position + 1;
        var scores = _scores.AsSpan(0, seen);
        for (int b = 0; b < _batch; b++)
        {
            var row = qkv.Slice(b * 3 * width, 3 * width);
            for (int h = 0; h < _heads; h++)
            {
                int slab = (b * _heads + h) * _headWidth * _length;
                var keys = _keys.AsSpan(slab, _headWidth * _length);
                var values = _values.AsSpan(slab, _headWidth * _length);
                var query = row.Slice(h * _headWidth, _headWidth);
                for (int j = 0; j < _headWidth; j++) keys[j * _length + position] = row[width + h * _headWidth + j];
                row.Slice(2 * width + h * _headWidth, _headWidth).CopyTo(values.Slice(position * _headWidth));

                Scores(query, keys, scores);
                float max = TensorPrimitives.Max(scores);
                TensorPrimitives.Subtract(scores, max, scores);
                TensorPrimitives.Exp(scores, scores);
                Weigh(scores, values, output.AsSpan(b * width + h * _headWidth, _headWidth));
            }
        }
        return output;
    }

    // Each lane is one position, summed over the head's dimensions in order: the same numbers whatever the vector
    // width, and one pass over the keys with four blocks of scores held in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
    private void Scores(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, Span<float> scores)
    {
        const int lanes = 8; // Vector256<float>.Count
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float k = ref MemoryMarshal.GetReference(keys);
        ref float output = ref MemoryMarshal.GetReference(scores);
        var scale = Vector256.Create(_scale);
        nuint s = 0, length = (nuint)_length, seen = (nuint)scores.Length;
        for (; s + 4 * lanes <= seen; s += 4 * lanes)
        {
            Vector256<float> a = default, b = default, c = default, d = default;
            for (int j = 0; j < _headWidth; j++)
            {
                var weight = Vector256.Create(Unsafe.Add(ref q, j));
                nuint at = (nuint)j * length + s;
                a += weight * Vector256.LoadUnsafe(ref k, at);
                b += weight * Vector256.LoadUnsafe(ref k, at + lanes);
                c += weight * Vector256.LoadUnsafe(ref k, at + 2 * lanes);
                d += weight * Vector256.LoadUnsafe(ref k, at + 3 * lanes);
            }
            (a / scale).StoreUnsafe(ref output, s);
            (b / scale).StoreUnsafe(ref output, s + lanes);
            (c / scale).StoreUnsafe(ref output, s + 2 * lanes);
            (d / scale).StoreUnsafe(ref output, s + 3 * lanes);
        }
        for (; s + lanes <= seen; s += lanes)
        {
            Vector256<float> a = default;
            for (int j = 0; j < _headWidth; j++)
                a += Vector256.Create(Unsafe.Add(ref q, j)) * Vector256.LoadUnsafe(ref k, (nuint)j * length + s);
            (a / scale).StoreUnsafe(ref output, s);
        }
        for (; s < seen; s++)
        {
            float sum = 0;
            for (int j = 0; j < _headWidth; j++) sum += Unsafe.Add(ref q, j) * Unsafe.Add(ref k, (nuint)j * length + s);
            Unsafe.Add(ref output, s) = sum / _scale;
        }
    }

    /// <summary>The values weighted by the unnormalised probabilities, over their total: each lane one dimension, summed over positions in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // kernels: straight to optimised code, not through the tiers
    private void Weigh(ReadOnlySpan<float> weights, ReadOnlySpan<float> values, Span<float> attended)
    {
        const int lanes = 8;
        float total = 0;
        foreach (float w in weights) total += w;
        ref float v = ref MemoryMarshal.GetReference(values);
        nuint width = (nuint)_headWidth;
        int j = 0;
        for (; j + 2 * lanes <= _headWidth; j += 2 * lanes)
        {
            Vector256<float> a = default, b = default;
            nuint at = (nuint)j;
            foreach (float w in weights)
            {
                var weight = Vector256.Create(w);
                a += weight * Vector256.LoadUnsafe(ref v, at);
                b += weight * Vector256.LoadUnsafe(ref v, at + lanes);
                at += width;
            }
            (a / Vector256.Create(total)).CopyTo(attended.Slice(j));
            (b / Vector256.Create(total)).CopyTo(attended.Slice(j + lanes));
        }
        for (; j + lanes <= _headWidth; j += lanes)
        {
            Vector256<float> a = default;
            nuint at = (nuint)j;
            foreach (float w in weights)
            {
                a += Vector256.Create(w) * Vector256.LoadUnsafe(ref v, at);
                at += width;
            }
            (a / Vector256.Create(total)).CopyTo(attended.Slice(j));
        }
        for (; j < _headWidth; j++)
        {
            float sum = 0;
            for (int s = 0; s < weights.Length; s++) sum += weights[s] * values[s * _headWidth + j];
            attended[j] = sum / total;
        }
    }
}

using TorchSharp;

namespace AutoDropout.Torch;

/// <summary>
/// Native scalars kept alive until disposed. TorchSharp turns a number passed to a tensor operation into a
/// <see cref="Scalar"/> implicitly and leaves it to the finalizer, which may free it on another thread while libtorch
/// still reads it (see <see cref="Adam"/>). Code that hands numbers to torch writes <c>held.Of(x)</c> instead, with
/// <c>using var held = new HeldScalars();</c> around the calls; a test fails on any implicit conversion left.
/// </summary>
public sealed class HeldScalars : IDisposable
{
    private readonly List<Scalar> _held = [];

    public Scalar Of(double value) => Hold(value.ToScalar());
    public Scalar Of(float value) => Hold(value.ToScalar());
    public Scalar Of(long value) => Hold(value.ToScalar());
    public Scalar Of(int value) => Hold(value.ToScalar());

    private Scalar Hold(Scalar scalar)
    {
        _held.Add(scalar);
        return scalar;
    }

    public void Dispose()
    {
        foreach (var scalar in _held) scalar.Dispose();
        _held.Clear();
    }
}

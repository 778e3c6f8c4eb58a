using System.Reflection;
using System.Reflection.Emit;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// TorchSharp turns a number into a native <c>Scalar</c> implicitly and leaves it to the finalizer, which may free it
/// while libtorch still reads it (the cause of a failed <c>Adam.step</c>; see Torch.Adam). Our torch code therefore
/// makes every scalar explicitly and holds it until the call returns (<c>HeldScalars</c>, or a <c>using</c> local or
/// field). Checked on the built IL: a call to <c>Scalar.op_Implicit</c>, or a <c>ToScalar()</c> whose result is not
/// stored but handed straight on, anywhere in our torch assemblies fails this test with the methods that make one.
/// </summary>
public class ScalarLifetimeTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    [Theory]
    [InlineData("AutoDropout.Torch")]
    [InlineData("AutoDropout.Policy")]
    [InlineData("AutoDropout.Training")]
    [InlineData("AutoDropout.Bench")]
    public void Torch_code_makes_no_scalar_that_nothing_holds(string assembly)
    {
        var offenders = Assembly.Load(assembly).GetTypes()
            .SelectMany(t => t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All)))
            .Where(m => m.DeclaringType != typeof(AutoDropout.Torch.HeldScalars)) // the holder: what it makes goes straight into its list
            .Where(MakesImplicitScalar)
            .Select(m => $"{m.DeclaringType!.FullName}.{m.Name}")
            .Distinct().Order().ToList();
        Assert.True(offenders.Count == 0, "implicit scalars in: " + string.Join(", ", offenders));
    }

    [Fact]
    public void The_check_sees_an_implicit_scalar() =>
        Assert.True(MakesImplicitScalar(typeof(ScalarLifetimeTests).GetMethod(nameof(ImplicitScalar), All)!));

    private static TorchSharp.Scalar ImplicitScalar() => 0.5;

    [Fact]
    public void The_check_sees_a_scalar_handed_on_unheld()
    {
        Assert.True(MakesImplicitScalar(typeof(ScalarLifetimeTests).GetMethod(nameof(UnheldScalar), All)!));
        Assert.False(MakesImplicitScalar(typeof(ScalarLifetimeTests).GetMethod(nameof(HeldScalar), All)!));
    }

    private static TorchSharp.torch.Tensor UnheldScalar(TorchSharp.torch.Tensor x) => x.mul(TorchSharp.ScalarExtensionMethods.ToScalar(0.5));

    private static TorchSharp.torch.Tensor HeldScalar(TorchSharp.torch.Tensor x)
    {
        using var half = TorchSharp.ScalarExtensionMethods.ToScalar(0.5);
        return x.mul(half);
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static bool MakesImplicitScalar(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) return false;
        for (int at = 0; at < il.Length;)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            var opcode = OpCodesByValue[value];
            at += opcode.Size;
            if (opcode.OperandType == OperandType.InlineMethod)
            {
                var callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, at),
                    method.DeclaringType?.GetGenericArguments(), method.IsGenericMethod ? method.GetGenericArguments() : null);
                if (callee is { Name: "op_Implicit", DeclaringType: var type } && type == typeof(TorchSharp.Scalar)) return true;
                if (callee is { Name: "ToScalar", DeclaringType: var extensions } && extensions == typeof(TorchSharp.ScalarExtensionMethods)
                    && !IsStore(Next(il, at + 4))) return true;
            }
            at += OperandSize(opcode, il, at);
        }
        return false;
    }

    private static OpCode Next(byte[] il, int at) => OpCodesByValue[il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at]];

    /// <summary>A made scalar is held when it goes straight into a local or a field.</summary>
    private static bool IsStore(OpCode next) =>
        next.Name!.StartsWith("stloc", StringComparison.Ordinal) || next == OpCodes.Stfld || next == OpCodes.Stsfld;

    private static int OperandSize(OpCode opcode, byte[] il, int at) => opcode.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };
}

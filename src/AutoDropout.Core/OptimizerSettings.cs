namespace AutoDropout.Core;

/// <summary>
/// How a target network is optimised. "adam" (the default: forgiving at the few hundred steps of a CPU search) or
/// "sgd" (momentum 0.9, Nesterov, as the paper trains Wide-ResNets); optional weight decay; a constant learning rate
/// or a cosine decay from the given rate to 0 over the trial's steps.
/// </summary>
public sealed record OptimizerSettings(string Kind = OptimizerSettings.Adam, double WeightDecay = 0, string Schedule = OptimizerSettings.Constant)
{
    public const string Adam = "adam", Sgd = "sgd", Constant = "constant", Cosine = "cosine";
    public const double SgdMomentum = 0.9;

    public static OptimizerSettings Default { get; } = new();

    /// <summary>Checks the settings; messages name the field as a search spec spells it.</summary>
    public void Validate()
    {
        if (Kind is not (Adam or Sgd)) throw new ArgumentException($"optimizer: unknown optimizer '{Kind}' (known: adam, sgd)");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentException("weight_decay: must be 0 or positive");
        if (Schedule is not (Constant or Cosine)) throw new ArgumentException($"schedule: unknown schedule '{Schedule}' (known: constant, cosine)");
    }

    /// <summary>The learning rate for step <paramref name="step"/> (0-based) of <paramref name="steps"/>.</summary>
    public double LearningRateAt(double baseRate, int step, int steps) =>
        Schedule == Cosine ? baseRate * 0.5 * (1 + Math.Cos(Math.PI * step / steps)) : baseRate;
}

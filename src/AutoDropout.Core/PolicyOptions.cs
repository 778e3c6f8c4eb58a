namespace AutoDropout.Core;

/// <summary>Hyper-parameters of the controller's policy and of its REINFORCE updates.</summary>
/// <param name="Layers">Transformer layers.</param>
/// <param name="Width">Model width (embedding size).</param>
/// <param name="Heads">Attention heads; must divide Width.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="EntropyWeight">Weight of the entropy bonus, which keeps the policy exploring.</param>
/// <param name="BaselineDecay">Decay of the moving-average reward baseline.</param>
/// <param name="Temperature">Sampling temperature applied to the logits.</param>
/// <param name="TanhCap">Logits are squashed to (-cap, cap) with cap * tanh(logits / cap), as in NAS controllers.</param>
/// <param name="Kind">"reinforce" (the learned controller) or "random" (uniform samples from the same space, with the
/// same bookkeeping: the control a controller search is compared with).</param>
/// <param name="Advantage">"normalized" (advantages divided by a running deviation of the rewards, so rewards on
/// any scale learn alike) or "raw" (reward minus baseline: how searches created by 0.2 and earlier learn, kept so
/// their journals replay to the same policy).</param>
public sealed record PolicyOptions(
    int Layers = 2,
    int Width = 32,
    int Heads = 2,
    double LearningRate = 5e-3,
    double EntropyWeight = 1e-3,
    double BaselineDecay = 0.9,
    double Temperature = 1.0,
    double TanhCap = 2.5,
    string Kind = PolicyOptions.Reinforce,
    string Advantage = PolicyOptions.Normalized)
{
    public const string Reinforce = "reinforce";
    public const string Random = "random";
    public const string Normalized = "normalized";
    public const string Raw = "raw";

    /// <summary>The controller samples on one CPU thread between messages: a policy bigger than this would stall it.</summary>
    public const int MaxLayers = 8, MaxWidth = 256, MaxHeads = 32;

    /// <summary>
    /// What a spec without policy options meant when it was written by 0.2 or earlier: that release's defaults,
    /// spelled out so a later change of defaults cannot change how an old journal replays.
    /// </summary>
    public static PolicyOptions FirstRelease { get; } = new(2, 32, 2, 5e-3, 1e-3, 0.9, 1.0, 2.5, Reinforce, Raw);

    public void Validate()
    {
        if (Layers is < 1 or > MaxLayers) throw new ArgumentException($"policy.layers must be from 1 to {MaxLayers}");
        if (Width is < 4 or > MaxWidth) throw new ArgumentException($"policy.width must be from 4 to {MaxWidth}");
        if (Heads is < 1 or > MaxHeads || Width % Heads != 0) throw new ArgumentException($"policy.heads must divide policy.width and be at most {MaxHeads}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException("policy.learning_rate must be positive");
        if (!(EntropyWeight >= 0) || !double.IsFinite(EntropyWeight)) throw new ArgumentException("policy.entropy_weight must not be negative");
        if (BaselineDecay is < 0 or >= 1 || double.IsNaN(BaselineDecay)) throw new ArgumentException("policy.baseline_decay must be in [0, 1)");
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentException("policy.temperature must be positive");
        if (!(TanhCap > 0) || !double.IsFinite(TanhCap)) throw new ArgumentException("policy.tanh_cap must be positive");
        if (Kind is not (Reinforce or Random)) throw new ArgumentException($"policy.kind: '{Kind}' is not {Reinforce} or {Random}");
        if (Advantage is not (Normalized or Raw)) throw new ArgumentException($"policy.advantage: '{Advantage}' is not {Normalized} or {Raw}");
    }
}

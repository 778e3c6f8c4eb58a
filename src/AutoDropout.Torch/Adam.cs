using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Torch;

/// <summary>
/// TorchSharp's Adam with a step that keeps its scalars alive until libtorch is done with them. TorchSharp's own step
/// converts doubles to native scalars implicitly and drops them at once, so a garbage collection on another thread can
/// free one while libtorch still reads it (TorchSharp PRs 1434 and 1496, open): seen as "Expected false to be true"
/// inside Adam.step when 8 searches learned at once, and a freed scalar reused by another could even change a value
/// silently. The operations, their order and their values are those of TorchSharp 0.107's step, so the numbers are
/// the same bit for bit; the state, its saving and its loading are the base class's. It is named Adam because a
/// saved state names its optimiser's class and refuses to load into another: policy states written before it load.
/// </summary>
public sealed class Adam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double weightDecay = 0)
    : TorchSharp.Modules.Adam(parameters, lr, weight_decay: weightDecay)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        if (options.amsgrad == true || options.maximize == true)
            throw new NotSupportedException("amsgrad and maximize are not supported: nothing here uses them");
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, weightDecay = options.weight_decay!.Value;
        double eps = options.eps!.Value, lr = options.LearningRate!.Value;
        using Scalar beta1Scalar = beta1.ToScalar(), oneMinusBeta1 = (1 - beta1).ToScalar(), beta2Scalar = beta2.ToScalar(), oneMinusBeta2 = (1 - beta2).ToScalar();
        using Scalar epsScalar = eps.ToScalar(), weightDecayScalar = weightDecay.ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            if (weightDecay != 0) grad = grad.add(param, alpha: weightDecayScalar);
            state.exp_avg.mul_(beta1Scalar).add_(grad, alpha: oneMinusBeta1);
            state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad.conj(), value: oneMinusBeta2);
            using Scalar root = Math.Sqrt(biasCorrection2).ToScalar(), stepSize = (-(lr / biasCorrection1)).ToScalar();
            var denominator = state.exp_avg_sq.sqrt().div(root).add_(epsScalar);
            param.addcdiv_(state.exp_avg, denominator, value: stepSize);
        }
    }, closure);
}

using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Torch;

/// <summary>
/// TorchSharp's SGD with a step that keeps its scalars alive until libtorch is done with them, for the reason and
/// with the guarantees given on <see cref="Adam"/>: the same operations in the same order as TorchSharp 0.107's step,
/// the base class's state, and the base class's name, which a saved state carries.
/// </summary>
public sealed class SGD(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double momentum = 0, double weightDecay = 0, bool nesterov = false)
    : TorchSharp.Modules.SGD(parameters, lr, momentum, weight_decay: weightDecay, nesterov: nesterov)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = group.Options;
        double momentum = options.momentum!.Value, dampening = options.dampening!.Value, weightDecay = options.weight_decay!.Value;
        bool nesterov = options.nesterov!.Value;
        double lr = options.LearningRate!.Value;
        using Scalar momentumScalar = momentum.ToScalar(), oneMinusDampening = (1 - dampening).ToScalar(), weightDecayScalar = weightDecay.ToScalar();
        using Scalar alpha = (options.maximize!.Value ? lr : -lr).ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            if (weightDecay != 0) grad = grad.add(param, alpha: weightDecayScalar);
            if (momentum != 0)
            {
                var buffer = state.momentum_buffer;
                if (buffer is null) state.momentum_buffer = buffer = grad.clone().detach().DetachFromDisposeScope();
                else buffer.mul_(momentumScalar).add_(grad, alpha: oneMinusDampening);
                grad = nesterov ? grad.add(buffer, alpha: momentumScalar) : buffer;
            }
            param.add_(grad, alpha: alpha);
        }
    }, closure);
}

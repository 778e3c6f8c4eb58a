using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>Builds and steers torch optimisers from <see cref="OptimizerSettings"/>: TorchSharp's, with steps that keep
/// their scalars alive (<see cref="Torch.Adam"/>).</summary>
public static class Optimizers
{
    public static optim.Optimizer Create(this OptimizerSettings settings, IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate) => settings.Kind switch
    {
        OptimizerSettings.Sgd => new Torch.SGD(parameters, learningRate, OptimizerSettings.SgdMomentum, settings.WeightDecay, nesterov: true),
        _ => new Torch.Adam(parameters, learningRate, settings.WeightDecay),
    };

    public static void SetLearningRate(this optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}

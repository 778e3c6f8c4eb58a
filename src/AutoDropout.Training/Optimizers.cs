using AutoDropout.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Training;

/// <summary>Builds and steers torch optimisers from <see cref="OptimizerSettings"/>.</summary>
public static class Optimizers
{
    public static optim.Optimizer Create(this OptimizerSettings settings, IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate) => settings.Kind switch
    {
        OptimizerSettings.Sgd => optim.SGD(parameters, learningRate, momentum: OptimizerSettings.SgdMomentum, weight_decay: settings.WeightDecay, nesterov: true),
        _ => optim.Adam(parameters, learningRate, weight_decay: settings.WeightDecay),
    };

    public static void SetLearningRate(this optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}

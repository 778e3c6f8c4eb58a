using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

public static class Assignments
{
    /// <summary>What a trainer needs to run one leased trial of this search.</summary>
    public static WorkAssignment For(SearchState state, int trialId)
    {
        var spec = state.Spec;
        var trial = state.Trials[trialId];
        return new WorkAssignment(spec.Name, trial.Id, trial.Pattern, spec.Target, spec.Dataset, spec.DataDirectory,
            spec.TrainSteps, spec.BatchSize, spec.LearningRate, spec.ValidationFraction,
            (int)(Seeds.Derive(spec.Seed, 0, SeedStream.ValidationSplit) & int.MaxValue), trial.Seed, trial.LeaseUntil!.Value,
            spec.Optimizer, spec.IsTransformer ? spec.TextOrDefault : null, spec.TrainEpochs);
    }
}

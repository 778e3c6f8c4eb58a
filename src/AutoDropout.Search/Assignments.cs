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
        var trialSpec = new TrialSpec(spec.Target, spec.Dataset, spec.DataDirectory, new TrialBudget(spec.TrainSteps, spec.TrainEpochs),
            spec.BatchSize, spec.LearningRate, trial.Pattern, spec.ValidationFraction,
            (int)(Seeds.Derive(spec.Seed, 0, SeedStream.ValidationSplit) & int.MaxValue), trial.Seed,
            spec.Optimizer, spec.IsTransformer ? spec.TextOrDefault : null);
        return new WorkAssignment(spec.Name, trial.Id, trialSpec, trial.LeaseUntil!.Value);
    }
}

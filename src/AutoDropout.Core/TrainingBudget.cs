namespace AutoDropout.Core;

/// <summary>A trial's budget is counted in optimiser steps; a budget given in epochs becomes steps here.</summary>
public static class TrainingBudget
{
    /// <summary>Steps that show every one of <paramref name="examples"/> examples <paramref name="epochs"/> times, at
    /// least one. For language models an example is one window of context tokens of one row.</summary>
    public static int StepsFor(double epochs, long examples, int batchSize)
    {
        if (!(epochs > 0) || !double.IsFinite(epochs)) throw new ArgumentOutOfRangeException(nameof(epochs), "must be positive");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), "must be positive");
        double steps = Math.Ceiling(epochs * examples / batchSize);
        return (int)Math.Clamp(steps, 1, int.MaxValue);
    }
}

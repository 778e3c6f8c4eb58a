using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>Turns an operator's <see cref="EvaluationRequest"/> and the search it names into an <see cref="EvaluationSpec"/>.</summary>
public static class EvaluationPlanner
{
    public const int MaxTop = 20;
    public const int MaxSeeds = 20;
    public const int MaxTrials = 2000;

    /// <summary>Dropout at a few rates, SpatialDropout and a small DropBlock grid, beside no dropout at all.</summary>
    public static readonly IReadOnlyList<string> ImageBaselines =
        ["none", "dropout:0.1", "dropout:0.3", "dropout:0.5", "spatial:0.1", "spatial:0.2", "dropblock:3:0.9", "dropblock:3:0.8", "dropblock:5:0.9"];

    /// <summary>Language models take standard dropout only.</summary>
    public static readonly IReadOnlyList<string> LanguageModelBaselines = ["none", "dropout:0.1", "dropout:0.3", "dropout:0.5"];

    /// <param name="taken">Names of searches and evaluations that exist: a default name avoids them.</param>
    /// <exception cref="ArgumentException">The request cannot be planned; the message says why.</exception>
    public static EvaluationSpec Plan(EvaluationRequest request, SearchState search, IReadOnlySet<string> taken)
    {
        var source = search.Spec;
        if (request.Baselines?.Any(b => b is null) == true) throw new ArgumentException("baselines: an entry is null");
        if (request.Top is < 0 or > MaxTop) throw new ArgumentException($"top: from 0 to {MaxTop} patterns");
        if (request.Seeds is < 1 or > MaxSeeds) throw new ArgumentException($"seeds: from 1 to {MaxSeeds}");
        // the limits of a new search's budget and lease hold for a new evaluation too
        if (request.Epochs is { } e && !(e is > 0 and <= SearchSpec.MaxTrainEpochs)) throw new ArgumentException($"epochs: must be positive and at most {SearchSpec.MaxTrainEpochs}");
        if (request.Steps is <= 0 or > SearchSpec.MaxTrainSteps) throw new ArgumentException($"steps: from 1 to {SearchSpec.MaxTrainSteps}");
        if (request.LeaseSeconds is <= 0 or > SearchSpec.MaxLeaseSeconds) throw new ArgumentException($"lease_seconds: from 1 to {SearchSpec.MaxLeaseSeconds}");
        if (request.Epochs is not null && request.Steps is not null) throw new ArgumentException("give epochs or steps, not both");

        var best = search.Trials.Values
            .Where(t => t is { Status: TrialStatus.Completed, IsBaseline: false, Reward: not null })
            .OrderByDescending(t => t.Reward).ThenBy(t => t.Id)
            .DistinctBy(t => t.Pattern.Hash())
            .Take(request.Top)
            .ToArray();
        if (request.Top > 0 && best.Length == 0)
            throw new ArgumentException($"search '{source.Name}' has no completed pattern yet: nothing to evaluate (or ask for --top 0)");

        string target = request.Target ?? source.Target;
        if (request.Target is not null) CheckLimits(request.Target);
        var candidates = best.Select(t => new EvaluationCandidate($"pattern #{t.Id}", Transfer(t.Pattern, source.Target, target), t.Id, t.Reward)).ToList();
        var baselines = request.Baselines ?? (source.IsTransformer ? LanguageModelBaselines : ImageBaselines);
        foreach (var text in baselines)
        {
            var baseline = BaselineSpec.Parse(text); // throws with the baseline named
            baseline.CheckLimits();
            candidates.Add(new EvaluationCandidate(baseline.ToString(), new BaselinePattern(baseline)));
        }

        var budget = request switch
        {
            { Epochs: { } epochs } => new TrialBudget(source.TrainSteps, epochs),
            { Steps: { } steps } => new TrialBudget(steps),
            _ => new TrialBudget(source.TrainSteps, source.TrainEpochs),
        };
        var seeds = Enumerable.Range(1, request.Seeds).Select(s => Seeds.Derive(source.Seed, s, SeedStream.Evaluation)).ToArray();
        var spec = new EvaluationSpec(request.Name ?? FreeName($"{source.Name}-eval", taken), source.Name, target, source.Dataset,
            source.DataDirectory, budget, source.BatchSize, source.LearningRate, candidates, seeds, source.Optimizer,
            source.IsTransformer ? source.TextOrDefault : null, request.LeaseSeconds ?? Math.Max(source.LeaseSeconds, 7200),
            target == source.Target ? null : source.Target);
        Validate(spec);
        return spec;
    }

    /// <summary>Rejects a spec that cannot run, naming the field, before anything is persisted.</summary>
    public static void Validate(EvaluationSpec spec)
    {
        if (string.IsNullOrWhiteSpace(spec.Name) || !spec.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') || spec.Name.Length > 64)
            throw new ArgumentException("name: 1-64 characters of letters, digits, '-' or '_'");
        if (spec.Candidates.Count == 0) throw new ArgumentException("candidates: nothing to evaluate (no patterns and no baselines)");
        if (spec.Seeds.Count == 0) throw new ArgumentException("seeds: at least one");
        if (spec.Seeds.Distinct().Count() != spec.Seeds.Count) throw new ArgumentException("seeds: each seed once");
        if (spec.TrialCount > MaxTrials) throw new ArgumentException($"{spec.TrialCount} trials: at most {MaxTrials} per evaluation");
        if (spec.Candidates.Select(c => c.Label).Distinct().Count() != spec.Candidates.Count)
            throw new ArgumentException("candidates: each baseline once");
        if (spec.Budget.Steps <= 0 || spec.Budget.Epochs is <= 0) throw new ArgumentException("budget: must be positive");
        if (spec.BatchSize <= 0) throw new ArgumentException("batch_size: must be at least 1");
        if (spec.LeaseSeconds <= 0) throw new ArgumentException("lease_seconds: must be at least 1");
        int sites = spec.IsLanguageModel ? LanguageModelSpec.Parse(spec.Target).MaskSites : TargetSpec.Parse(spec.Target).MaskSites;
        foreach (var candidate in spec.Candidates)
        {
            switch (candidate.Regulariser)
            {
                case BaselinePattern { Baseline: var b } when spec.IsLanguageModel && !b.FitsLanguageModels:
                    throw new ArgumentException($"baselines: a language model takes dropout:P or none, not '{b}'");
                case BaselinePattern:
                    break;
                case var pattern when pattern.SiteCount != sites:
                    throw new ArgumentException($"{candidate.Label}: {pattern.SiteCount} sites, but {spec.Target} has {sites}");
            }
        }
    }

    /// <summary>A new target is held to a new search's limits (the searched one was, or predates them). A name that
    /// does not parse is left to the transfer, which says why.</summary>
    private static void CheckLimits(string target)
    {
        Action? check = null;
        try { check = LanguageModelSpec.IsLanguageModelName(target) ? LanguageModelSpec.Parse(target).CheckLimits : TargetSpec.Parse(target).CheckLimits; }
        catch (ArgumentException) { }
        try { check?.Invoke(); }
        catch (ArgumentException e) { throw new ArgumentException($"target: {e.Message}"); }
    }

    /// <summary>A pattern of the searched target, for the evaluated one (<see cref="PatternTransfer"/>: same family only).</summary>
    private static DropoutPattern Transfer(DropoutPattern pattern, string searched, string target)
    {
        try { return PatternTransfer.Map(pattern, searched, target); }
        catch (ArgumentException e) { throw new ArgumentException($"target: {e.Message}"); }
    }

    private static string FreeName(string stem, IReadOnlySet<string> taken)
    {
        if (!taken.Contains(stem)) return stem;
        for (int i = 2; ; i++)
            if (!taken.Contains($"{stem}-{i}")) return $"{stem}-{i}";
    }
}

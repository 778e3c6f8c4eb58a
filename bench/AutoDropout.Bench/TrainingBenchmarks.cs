using System.Diagnostics;
using AutoDropout.Core;
using AutoDropout.Torch;
using AutoDropout.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Bench;

/// <summary>
/// `autodropout bench step|trial|soak`: measured figures and ratios, not pass/fail tests. Run them on an idle machine.
///   step   one training step of the image target with no dropout, with nn.Dropout after every BN, and with an
///          AutoDropout pattern at every BN site; prints the times, the ratios and the masks' share of the step.
///   trial  the trial loop's throughput against a bare forward+backward loop over the same model and batches.
///   soak   many short trials in one process: does resident memory stay flat?
/// </summary>
public static class TrainingBenchmarks
{
    /// <param name="step">true: `bench step`; false: `bench trial`.</param>
    public static int StepOrTrial(bool step, TargetSpec target, int batch, int steps, int threads, string dir)
    {
        TorchRuntime.UseThreads(threads);
        var data = ImageDatasets.Load(dir);
        // the whole training set and no augmentation: the figures are about the step itself
        using var prepared = new ImageTrialData(new PreparedData(data.Train, data.Test, CPU), data.Name, data.Source, AugmentationOptions.None);
        Console.WriteLine($"{target.Name} on {data.Name}, batch {batch}, {steps} timed steps after 5 warm-up steps, {threads} torch thread(s)");
        return step ? Step(prepared.Prepared, target, batch, steps) : Trial(prepared, target, batch, steps);
    }

    private static ConvPattern FixedPattern(int sites) =>
        new(Enumerable.Repeat(new ConvSiteTokens(3, 4, 2, 30, 0.1, 0.2, false, true), sites));

    /// <summary>
    /// The variants take turns for five rounds, so drift on a shared machine hits all of them alike; the figures are
    /// per-variant medians and the ratios are medians of each round's own ratio. On the small CNN the mask levers
    /// (<see cref="MaskLever"/>) take their turns too.
    /// </summary>
    private static int Step(PreparedData data, TargetSpec target, int batch, int steps)
    {
        const int rounds = 5;
        var levers = target.IsWideResNet ? [] : MaskLever.All();
        var none = new List<double>();
        var dropout = new List<double>();
        var pattern = new List<double>();
        var masks = new List<double>();
        var leverTimes = levers.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            none.Add(TimeSteps(data, target, batch, steps, model => { }));
            dropout.Add(TimeSteps(data, target, batch, steps, model => { }, useNnDropout: true));
            pattern.Add(TimeSteps(data, target, batch, steps, model => model.ApplyPattern(FixedPattern(model.Sites.Count), new Generator(7))));
            masks.Add(TimeMasks(data, target, batch, steps));
            for (int i = 0; i < levers.Count; i++) leverTimes[i].Add(TimeLever(data, batch, steps, levers[i]));
            Console.WriteLine($"round {round + 1}: no dropout {none[^1] * 1000:0.0} ms, nn.Dropout {dropout[^1] * 1000:0.0} ms, " +
                              $"AutoDropout {pattern[^1] * 1000:0.0} ms, masks {masks[^1] * 1000:0.00} ms" +
                              string.Concat(leverTimes.Select((t, i) => $", lever {i + 1} {t[^1] * 1000:0.0} ms")));
        }
        static double Median(IEnumerable<double> values) => values.Order().ElementAt(rounds / 2);
        double Ratio(List<double> a, List<double> b) => Median(a.Zip(b, (x, y) => x / y));
        Console.WriteLine($"no dropout      {Median(none) * 1000,8:0.00} ms/step (median of {rounds} rounds)");
        Console.WriteLine($"nn.Dropout      {Median(dropout) * 1000,8:0.00} ms/step   ratio {Ratio(dropout, none):0.000}");
        Console.WriteLine($"AutoDropout     {Median(pattern) * 1000,8:0.00} ms/step   ratio {Ratio(pattern, none):0.000} (aim <= 1.05)   vs nn.Dropout {Ratio(pattern, dropout):0.000}");
        Console.WriteLine($"mask rendering  {Median(masks) * 1000,8:0.00} ms/step   share of the AutoDropout step {Ratio(masks, pattern):P1}");
        for (int i = 0; i < levers.Count; i++)
            Console.WriteLine($"lever {i + 1,2} {levers[i].Name,-26} {Median(leverTimes[i]) * 1000,8:0.00} ms/step   ratio to no dropout {Ratio(leverTimes[i], none):0.000}");
        return BenchCommands.Ok;
    }

    private static double TimeSteps(PreparedData data, TargetSpec target, int batch, int steps, Action<MaskedTarget> configure, bool useNnDropout = false)
    {
        using var model = TorchRuntime.Seeded(1, () => MaskedTarget.Build(target, data.InputChannels, data.Classes));
        configure(model);
        using var dropout = nn.Dropout(0.1);
        if (useNnDropout) foreach (var site in model.Sites) site.ReplaceWith(dropout);
        double seconds = TimeLoop(data, batch, steps, model, channelsLast: false);
        if (useNnDropout) foreach (var site in model.Sites) site.ReplaceWith(null);
        return seconds;
    }

    private static double TimeLever(PreparedData data, int batch, int steps, MaskLever lever)
    {
        using var masks = new LeverMasks(FixedPattern(1).Sites[0]);
        using var model = TorchRuntime.Seeded(1, () => new LeverCnn(data.InputChannels, data.Classes, lever.Activation(masks)));
        if (lever.ChannelsLast) model.ToChannelsLast();
        return TimeLoop(data, batch, steps, model, lever.ChannelsLast);
    }

    /// <summary>Seconds per step of Adam on contiguous batches, after 5 warm-up steps.</summary>
    private static double TimeLoop(PreparedData data, int batch, int steps, nn.Module<Tensor, Tensor> model, bool channelsLast)
    {
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        model.train();
        var clock = new Stopwatch();
        for (int step = 0; step < steps + 5; step++)
        {
            if (step == 5) clock.Start();
            using var scope = NewDisposeScope();
            var x = data.Train.Images.narrow(0, (step * batch) % (data.TrainCount - batch), batch);
            var y = data.Train.Labels.narrow(0, (step * batch) % (data.TrainCount - batch), batch);
            optimizer.zero_grad();
            F.cross_entropy(model.call(channelsLast ? MaskLever.ChannelsLastCopy(x) : x), y).backward();
            optimizer.step();
        }
        return clock.Elapsed.TotalSeconds / steps;
    }

    /// <summary>Only the masks of one step: every site's mask drawn for an activation of that site's shape.</summary>
    private static double TimeMasks(PreparedData data, TargetSpec target, int batch, int steps)
    {
        using var model = TorchRuntime.Seeded(1, () => MaskedTarget.Build(target, data.InputChannels, data.Classes));
        var shapes = new List<long[]>();
        foreach (var site in model.Sites) site.ShapeRecorder = shape => shapes.Add(shape);
        model.train();
        using (no_grad()) model.call(data.Train.Images.narrow(0, 0, batch)).Dispose();
        using var generator = new Generator(7);
        var tokens = FixedPattern(1).Sites[0];
        var tables = shapes.Select(shape => PatternMasks.BuildTable(tokens, shape[2], shape[3], CPU)).ToArray();
        var clock = new Stopwatch();
        for (int step = 0; step < steps + 5; step++)
        {
            if (step == 5) clock.Start();
            using var scope = NewDisposeScope();
            for (int i = 0; i < shapes.Count; i++) PatternMasks.Sample(tables[i], tokens, shapes[i], generator);
        }
        return clock.Elapsed.TotalSeconds / steps;
    }

    /// <summary>
    /// The trial loop against a bare loop over the same model, pattern and optimiser on contiguous batches (no
    /// shuffling, no bookkeeping). Both are timed the same way, model construction included, and alternate three
    /// times so drift on a shared machine hits both; the medians are compared.
    /// </summary>
    private static int Trial(ImageTrialData images, TargetSpec target, int batch, int steps)
    {
        var data = images.Prepared;
        var spec = new TrialSpec(target.Name, images.Dataset, null, new TrialBudget(steps), batch, 1e-3, FixedPattern(target.MaskSites),
            ValidationFraction: 0.1, SplitSeed: 1, TrialSeed: 7);
        var bareRates = new List<double>();
        var trialRates = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            var bare = Stopwatch.StartNew();
            using (var model = TorchRuntime.Seeded(7, () => MaskedTarget.Build(target, data.InputChannels, data.Classes)))
            using (var generator = new Generator(7))
            {
                model.ApplyPattern(FixedPattern(model.Sites.Count), generator);
                using var optimizer = optim.Adam(model.parameters(), 1e-3);
                model.train();
                for (int step = 0; step < steps; step++)
                {
                    using var scope = NewDisposeScope();
                    long start = (step * (long)batch) % (data.TrainCount - batch);
                    optimizer.zero_grad();
                    F.cross_entropy(model.call(data.Train.Images.narrow(0, start, batch)), data.Train.Labels.narrow(0, start, batch)).backward();
                    optimizer.step();
                }
            }
            bareRates.Add(steps * (double)batch / bare.Elapsed.TotalSeconds);
            var outcome = TrialPlanner.Plan(spec, images).Run(CancellationToken.None);
            if (outcome is not TrialOutcome.Completed c) { Console.WriteLine($"trial failed: {outcome}"); return BenchCommands.Failed; }
            trialRates.Add(c.Metrics.ItemsPerSecond);
            Console.WriteLine($"round {round + 1}: bare {bareRates[^1],7:0} img/s, trial loop {trialRates[^1],7:0} img/s");
        }
        double bareMedian = bareRates.Order().ElementAt(1), trialMedian = trialRates.Order().ElementAt(1);
        Console.WriteLine($"median: bare loop {bareMedian:0} img/s, trial loop {trialMedian:0} img/s, ratio {trialMedian / bareMedian:0.000} (aim >= 0.95)");
        return BenchCommands.Ok;
    }

    /// <summary>
    /// Many short trials in one process, as a trainer runs them for hours: resident memory after the last trial
    /// against after trial 10 (when caches and allocator pools have settled). Aim: within 5%.
    /// </summary>
    public static int Soak(TargetSpec target, int trials, int steps, int batch, bool trim)
    {
        TorchRuntime.UseThreads(1);
        var spec = new TrialSpec(target.Name, null, "embedded", new TrialBudget(steps), batch, 1e-3, new BaselinePattern(BaselineSpec.None),
            ValidationFraction: 0.1, SplitSeed: 1, TrialSeed: 1);
        using var data = TrialPlanner.LoadData(spec, TorchRuntime.ParseDevice("cpu"));
        var space = ConvSearchSpace.Default;
        var vocabularies = space.VocabularySizes();
        var random = new Random(1);
        long Resident()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var self = Process.GetCurrentProcess();
            return self.WorkingSet64;
        }
        long atTen = 0;
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"{trials} trials of {target.Name}, {steps} steps x batch {batch}, a different random pattern each");
        for (int trial = 1; trial <= trials; trial++)
        {
            var pattern = space.Decode(Enumerable.Range(0, target.MaskSites * TokenTypes.PerSite).Select(i => random.Next(vocabularies[i % TokenTypes.PerSite])).ToArray());
            var run = TrialPlanner.Plan(spec with { Regulariser = pattern, TrialSeed = trial }, data);
            var outcome = (run with { Plan = run.Plan with { EvalBatchSize = 200 } }).Run(CancellationToken.None);
            if (outcome is TrialOutcome.Failed f) { Console.WriteLine($"trial {trial} failed: {f.Reason}: {f.Message}"); return BenchCommands.Failed; }
            if (trim) NativeMemory.ReleaseFreedMemory(); // as the trainer does after every trial
            if (trial == 10) atTen = Resident();
            if (trial % 10 == 0) Console.WriteLine($"after trial {trial,4}: resident {Resident() / 1048576.0,7:0.0} MiB, {clock.Elapsed.TotalSeconds,6:0} s");
        }
        long atEnd = Resident();
        Console.WriteLine($"resident after trial 10: {atTen / 1048576.0:0.0} MiB; after trial {trials}: {atEnd / 1048576.0:0.0} MiB; ratio {(double)atEnd / atTen:0.000} (aim <= 1.05)");
        return BenchCommands.Ok;
    }

    /// <summary>
    /// The language-model trial loop against a bare loop over the same model and windows, in tokens per second. The
    /// stream is random ids over a PTB-sized vocabulary (10,000 words): speed depends on the shapes, not the words.
    /// </summary>
    public static int LanguageModel(LanguageModelSpec model, int batch, int steps, int context, int threads, int vocabulary)
    {
        TorchRuntime.UseThreads(threads);
        using var generator = new Generator(1);
        using var data = new TextTrialData(new TokenStreams(randint(0, vocabulary, [200_000], generator: generator, dtype: int64),
            randint(0, vocabulary, [20_000], generator: generator, dtype: int64), vocabulary), "random ids");
        var streams = data.Streams;
        var pattern = new TransformerPattern(Enumerable.Repeat(new TransformerSiteTokens(2, 8, SequenceSharing.Channel, true), model.MaskSites));
        var spec = new TrialSpec(model.Name, null, null, new TrialBudget(steps), batch, 1e-3, pattern, ValidationFraction: 0.1, SplitSeed: 1,
            TrialSeed: 7, Text: new TextOptions(context));
        Console.WriteLine($"{model.Name}, {batch} x {context} tokens a step, vocabulary {vocabulary}, {steps} steps, {threads} torch thread(s)");
        var bareRates = new List<double>();
        var trialRates = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            var bare = Stopwatch.StartNew();
            using (var lm = TorchRuntime.Seeded(7, () => new TransformerLm(model, vocabulary, context)))
            using (var masks = new Generator(7))
            using (var rows = LanguageModelTrial.Batchify(streams.Train, batch))
            {
                lm.ApplyPattern(pattern, masks);
                using var optimizer = optim.Adam(lm.parameters(), 1e-3);
                lm.train();
                for (int step = 0; step < steps; step++)
                {
                    using var scope = NewDisposeScope();
                    long position = step * (long)context % (rows.shape[1] - context - 1);
                    optimizer.zero_grad();
                    var logits = lm.call(rows.narrow(1, position, context));
                    F.cross_entropy(logits.reshape(-1, vocabulary), rows.narrow(1, position + 1, context).reshape(-1)).backward();
                    optimizer.step();
                }
            }
            bareRates.Add(steps * (double)batch * context / bare.Elapsed.TotalSeconds);
            var outcome = TrialPlanner.Plan(spec, data).Run(CancellationToken.None);
            if (outcome is not TrialOutcome.Completed c) { Console.WriteLine($"trial failed: {outcome}"); return BenchCommands.Failed; }
            trialRates.Add(c.Metrics.ItemsPerSecond);
            Console.WriteLine($"round {round + 1}: bare {bareRates[^1],7:0} tokens/s, trial loop {trialRates[^1],7:0} tokens/s");
        }
        double bareMedian = bareRates.Order().ElementAt(1), trialMedian = trialRates.Order().ElementAt(1);
        Console.WriteLine($"median: bare loop {bareMedian:0} tokens/s, trial loop {trialMedian:0} tokens/s, ratio {trialMedian / bareMedian:0.000} (aim >= 0.95)");
        return BenchCommands.Ok;
    }
}

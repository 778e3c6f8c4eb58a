using System.Diagnostics;
using AutoDropout.Core;
using AutoDropout.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Cli;

/// <summary>
/// `autodropout bench step|trial`: measured figures and ratios, not pass/fail tests. Run them on an idle machine.
///   step   one training step of the image target with no dropout, with nn.Dropout after every BN, and with an
///          AutoDropout pattern at every BN site; prints the times, the ratios and the masks' share of the step.
///   trial  the trial loop's throughput against a bare forward+backward loop over the same model and batches.
/// </summary>
public static class BenchCommand
{
    public static int Run(Args args)
    {
        var what = args.Positional.ElementAtOrDefault(1) ?? "step";
        if (what == "controller") return ControllerBench.Run(args).GetAwaiter().GetResult();
        var target = TargetSpec.Parse(args.GetOr("target", TargetSpec.Cnn));
        int batch = args.GetInt("batch-size", 128), steps = args.GetInt("steps", 30), threads = args.GetInt("threads", 1);
        var dir = args.GetOr("data", "embedded");
        args.RejectUnknown();
        torch.set_num_threads(threads);
        var data = ImageDatasets.Load(dir);
        using var prepared = new PreparedData(data.Train, data.Test, CPU);
        Console.WriteLine($"{target.Name} on {data.Name}, batch {batch}, {steps} timed steps after 5 warm-up steps, {threads} torch thread(s)");
        switch (what)
        {
            case "step": return Step(prepared, target, batch, steps);
            case "trial": return Trial(prepared, target, batch, steps);
            default: throw new UsageException("bench needs step or trial");
        }
    }

    private static ConvPattern FixedPattern(int sites) =>
        new(Enumerable.Repeat(new ConvSiteTokens(3, 4, 2, 30, 0.1, 0.2, false, true), sites));

    private static int Step(PreparedData data, TargetSpec target, int batch, int steps)
    {
        double none = TimeSteps(data, target, batch, steps, model => { });
        double dropout = TimeSteps(data, target, batch, steps, model => { }, useNnDropout: true);
        double pattern = TimeSteps(data, target, batch, steps, model => model.ApplyPattern(FixedPattern(model.Sites.Count), new Generator(7)));
        double masks = TimeMasks(data, target, batch, steps);
        Console.WriteLine($"no dropout      {none * 1000,8:0.00} ms/step");
        Console.WriteLine($"nn.Dropout      {dropout * 1000,8:0.00} ms/step   ratio {dropout / none:0.000}");
        Console.WriteLine($"AutoDropout     {pattern * 1000,8:0.00} ms/step   ratio {pattern / none:0.000}   vs nn.Dropout {pattern / dropout:0.000}");
        Console.WriteLine($"mask rendering  {masks * 1000,8:0.00} ms/step   share of the AutoDropout step {masks / pattern:P1}");
        return ExitCodes.Ok;
    }

    private static double TimeSteps(PreparedData data, TargetSpec target, int batch, int steps, Action<MaskedTarget> configure, bool useNnDropout = false)
    {
        using var model = TorchRuntime.Seeded(1, () => MaskedTarget.Build(target, data.InputChannels, data.Classes));
        configure(model);
        using var dropout = nn.Dropout(0.1);
        if (useNnDropout) foreach (var site in model.Sites) site.ReplaceWith(dropout);
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
            F.cross_entropy(model.call(x), y).backward();
            optimizer.step();
        }
        if (useNnDropout) foreach (var site in model.Sites) site.ReplaceWith(null);
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

    private static int Trial(PreparedData data, TargetSpec target, int batch, int steps)
    {
        var bare = Stopwatch.StartNew();
        TimeSteps(data, target, batch, steps, model => model.ApplyPattern(FixedPattern(model.Sites.Count), new Generator(7)));
        double bareRate = (steps + 5) * batch / bare.Elapsed.TotalSeconds;
        var outcome = TrialRunner.Run(data, FixedPattern(target.MaskSites), new TrialPlan(target, steps + 5, batch, 1e-3, 7), CancellationToken.None);
        if (outcome is not TrialOutcome.Completed c) { Console.WriteLine($"trial failed: {outcome}"); return ExitCodes.Failed; }
        Console.WriteLine($"bare loop   {bareRate,8:0} img/s");
        Console.WriteLine($"trial loop  {c.Metrics.ImagesPerSecond,8:0} img/s   ratio {c.Metrics.ImagesPerSecond / bareRate:0.000}");
        return ExitCodes.Ok;
    }
}

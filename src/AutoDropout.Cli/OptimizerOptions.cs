using System.CommandLine;
using AutoDropout.Core;

namespace AutoDropout.Cli;

/// <summary>--optimizer adam|sgd, --weight-decay X, --schedule constant|cosine, shared by search start, demo and train.</summary>
public sealed class OptimizerOptions
{
    public Option<string?> Kind { get; } = CliOptions.Text("--optimizer",
        "adam or sgd (default adam; sgd uses momentum 0.9 with Nesterov)", "adam|sgd");

    public Option<double?> WeightDecay { get; } = CliOptions.Double("--weight-decay", "weight decay (default 0)");

    public Option<string?> Schedule { get; } = CliOptions.Text("--schedule",
        "the learning rate over a trial: constant or cosine (default constant)", "constant|cosine");

    public void AddTo(Command command)
    {
        command.Add(Kind);
        command.Add(WeightDecay);
        command.Add(Schedule);
    }

    /// <summary>The defaults unchanged when none of the three is given, else the defaults (or Adam's) with them applied.</summary>
    public OptimizerSettings? From(ParseResult result, OptimizerSettings? defaults)
    {
        var kind = result.GetValue(Kind);
        var schedule = result.GetValue(Schedule);
        var decay = result.GetValue(WeightDecay);
        if (kind is null && schedule is null && decay is null) return defaults;
        var start = defaults ?? OptimizerSettings.Default;
        var settings = start with
        {
            Kind = kind?.ToLowerInvariant() ?? start.Kind,
            Schedule = schedule?.ToLowerInvariant() ?? start.Schedule,
            WeightDecay = decay ?? start.WeightDecay,
        };
        try { settings.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return settings;
    }
}

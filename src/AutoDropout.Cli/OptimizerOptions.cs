using AutoDropout.Core;

namespace AutoDropout.Cli;

/// <summary>--optimizer adam|sgd, --weight-decay X, --schedule constant|cosine, shared by search start and evaluate.</summary>
public static class OptimizerOptions
{
    public const string Usage = "[--optimizer adam|sgd] [--weight-decay X] [--schedule constant|cosine]";

    public static OptimizerSettings? From(Args args, OptimizerSettings? defaults)
    {
        var kind = args.Get("optimizer");
        var schedule = args.Get("schedule");
        var decay = args.Get("weight-decay");
        if (kind is null && schedule is null && decay is null) return defaults;
        var start = defaults ?? OptimizerSettings.Default;
        var settings = start with
        {
            Kind = kind?.ToLowerInvariant() ?? start.Kind,
            Schedule = schedule?.ToLowerInvariant() ?? start.Schedule,
            WeightDecay = args.GetDouble("weight-decay", start.WeightDecay),
        };
        try { settings.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return settings;
    }
}

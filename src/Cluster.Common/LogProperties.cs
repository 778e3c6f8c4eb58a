using Akka.Actor;
using Akka.Event;
using Akka.Logger.Serilog;

namespace AutoDropout.Cluster;

/// <summary>
/// Log adapters whose lines carry named properties (Search, TrialId), fields of JSON log lines. Akka.Logger.Serilog
/// marks its adapter obsolete in favour of ILoggingAdapter.WithContext, which Akka 1.5.74 does not have yet.
/// </summary>
public static class LogProperties
{
#pragma warning disable CS0618
    /// <summary>An actor's log that can carry properties.</summary>
    public static ILoggingAdapter Logger(IActorContext context) => context.GetLogger<SerilogLoggingAdapter>();

    /// <summary>The log with one more property on each line.</summary>
    public static ILoggingAdapter With(this ILoggingAdapter log, string name, object value) => log.ForContext(name, value);
#pragma warning restore CS0618
}

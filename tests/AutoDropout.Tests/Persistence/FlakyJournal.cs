using System.Collections.Immutable;
using Akka;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace AutoDropout.Tests.Persistence;

/// <summary>An in-memory journal whose next writes fail when told to, as a full disk or a lost database would.</summary>
public sealed class FlakyJournal : MemoryJournal
{
    public sealed record FailWrites(int Count);

    public const string Config = """
        akka.persistence.journal.plugin = "akka.persistence.journal.flaky"
        akka.persistence.journal.flaky {
          class = "AutoDropout.Tests.Persistence.FlakyJournal, AutoDropout.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """;

    private int _failing;

    /// <summary>Tells the system's journal to fail its next <paramref name="count"/> writes.</summary>
    public static Task Fail(ActorSystem system, int count) =>
        Akka.Persistence.Persistence.Instance.Apply(system).JournalFor(null).Ask<Done>(new FailWrites(count), TimeSpan.FromSeconds(5));

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (_failing > 0)
        {
            _failing--;
            return Task.FromException<IImmutableList<Exception>>(new IOException("the journal's disk is full"));
        }
        return base.WriteMessagesAsync(messages, cancellationToken);
    }

    protected override bool ReceivePluginInternal(object message)
    {
        if (message is not FailWrites fail) return base.ReceivePluginInternal(message);
        _failing = fail.Count;
        Sender.Tell(Done.Instance);
        return true;
    }
}

namespace AutoDropout.Search;

/// <summary>
/// Group commit for a journal that takes one write at a time: events decided while a write is in flight wait here
/// and go out together as the next write, and what was to follow each decision (a reply, an assignment) runs only
/// once everything decided before it is written. The owner applies events as it decides them, so its state runs
/// ahead of the journal by at most the write in flight and the group that waits; a failed write must discard that
/// state (the owner restarts from its journal), and nothing that followed those events has been seen outside.
/// </summary>
public sealed class WriteGroups<TEvent>
{
    private List<TEvent> _waiting = [];
    private List<Action> _waitingThen = [];
    private List<Action>? _writing; // what follows the write in flight; null when none is in flight

    /// <summary>A write is in flight.</summary>
    public bool Writing => _writing is not null;

    /// <summary>Events that wait for the next write.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>Queues events decided (and applied) now, to be written after those decided before them.</summary>
    public void Add(IReadOnlyList<TEvent> events) => _waiting.AddRange(events);

    /// <summary>
    /// Runs <paramref name="then"/> once every event added so far is written: now, when nothing is written or waits;
    /// after the write in flight, when nothing waits; else after the next write.
    /// </summary>
    public void Then(Action then)
    {
        if (_waiting.Count > 0) _waitingThen.Add(then);
        else if (_writing is not null) _writing.Add(then);
        else then();
    }

    /// <summary>The next write, all that waits, when none is in flight and something waits; it is then in flight.</summary>
    public IReadOnlyList<TEvent>? Start()
    {
        if (_writing is not null || _waiting.Count == 0) return null;
        var group = _waiting;
        _writing = _waitingThen;
        _waiting = [];
        _waitingThen = [];
        return group;
    }

    /// <summary>The write in flight succeeded: what follows it, in the order it was queued, for the caller to run.</summary>
    public IReadOnlyList<Action> Written()
    {
        var then = _writing ?? throw new InvalidOperationException("no write is in flight");
        _writing = null;
        return then;
    }
}

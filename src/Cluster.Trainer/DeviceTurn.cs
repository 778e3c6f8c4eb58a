using AutoDropout.Messages;

namespace AutoDropout.Cluster.Trainer;

/// <summary>
/// Whose turn it is on one device: the trainer (search trials) or the evaluator (evaluation trials). Only the
/// holder asks the controller for work, so a device never holds two leases, and a trial never waits behind another
/// on the device's one training thread while its lease runs.
/// </summary>
public sealed class DeviceTurn
{
    private int _holder = -1;
    private int _waiting = -1;

    /// <summary>Takes the turn if it is free (or already <paramref name="kind"/>'s); otherwise notes that it waits.</summary>
    public bool TryTake(WorkKind kind)
    {
        int previous = Interlocked.CompareExchange(ref _holder, (int)kind, -1);
        if (previous == -1 || previous == (int)kind) return true;
        Volatile.Write(ref _waiting, (int)kind);
        return false;
    }

    /// <summary>Notes that <paramref name="kind"/> wants the turn next, without taking it (it let the other go first).</summary>
    public void Wait(WorkKind kind) => Volatile.Write(ref _waiting, (int)kind);

    /// <summary>Gives the turn back; true when the other kind asked for it meanwhile, so the caller should let it go first.</summary>
    public bool Release(WorkKind kind)
    {
        if (Interlocked.CompareExchange(ref _holder, -1, (int)kind) != (int)kind) return false;
        return Interlocked.Exchange(ref _waiting, -1) is var waiting && waiting != -1 && waiting != (int)kind;
    }
}

using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Cluster.Controller;

/// <summary>
/// Two copies of a search's policy that sample and learn on the thread pool, so the search's actor never waits on
/// either: it hands a copy the live policy's state when the copy is behind, and takes back tokens or a learned state.
/// At most one sampling and one learning run at a time (the actor starts the next once it has handled the last
/// one's result). All calls come from the actor's thread.
/// </summary>
internal sealed class PolicyWorker(SearchSpec spec) : IDisposable
{
    private readonly IPatternPolicy _sampler = SearchPolicies.Create(spec), _learner = SearchPolicies.Create(spec);
    private Task _sampling = Task.CompletedTask, _learning = Task.CompletedTask;

    // the live policy's version each copy is known to equal; the learner's is known only once the live policy took its update
    private int? _samplerAt, _learnerAt;

    /// <param name="liveState">The live policy's state, asked for only when the copy is at another version.</param>
    public Task<int[][]> Sample(ProposalRequest request, Func<byte[]> liveState)
    {
        if (!_sampling.IsCompleted) throw new InvalidOperationException("one sampling at a time");
        var state = _samplerAt != request.PolicyVersion ? liveState() : null;
        _samplerAt = request.PolicyVersion;
        var sampling = Task.Run(() =>
        {
            if (state is not null) _sampler.LoadState(state);
            return _sampler.SampleBatch(request.Seeds);
        });
        _sampling = sampling;
        return sampling;
    }

    /// <summary>Learns <paramref name="update"/> from <paramref name="batch"/> on a copy at the live policy's version
    /// <paramref name="fromVersion"/>; once the live policy takes the result (<see cref="Taken"/>) the copy is ready
    /// for the next update without a reload.</summary>
    public Task<(byte[] State, PolicyUpdateStats Stats)> Learn(PolicyUpdated update, IReadOnlyList<(int[] Tokens, double Reward)> batch,
        int fromVersion, Func<byte[]> liveState)
    {
        if (!_learning.IsCompleted) throw new InvalidOperationException("one update at a time");
        var state = _learnerAt != fromVersion ? liveState() : null;
        _learnerAt = null;
        var learning = Task.Run(() =>
        {
            if (state is not null) _learner.LoadState(state);
            var stats = _learner.Learn(batch);
            if (_learner.Version != update.Version)
                throw new InvalidOperationException($"policy update {update.Version} learned as version {_learner.Version}");
            return (_learner.SaveState(), stats);
        });
        _learning = learning;
        return learning;
    }

    /// <summary>Both copies take the live policy's state before their next run: one failed and may be half-updated.</summary>
    public void Reload() => (_samplerAt, _learnerAt) = (null, null);

    /// <summary>The live policy took the state the learner copy wrote for <paramref name="version"/>.</summary>
    public void Taken(int version) => _learnerAt = version;

    /// <summary>Frees the copies once any work on them has finished.</summary>
    public void Dispose() =>
        Task.WhenAll(_sampling, _learning).ContinueWith(_ =>
        {
            _sampler.Dispose();
            _learner.Dispose();
        }, TaskScheduler.Default);
}

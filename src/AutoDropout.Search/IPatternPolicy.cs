using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// What a search needs from its policy: deterministic samples, deterministic learning, and its state as bytes.
/// The controller's REINFORCE learner and the random-search control (<see cref="RandomPolicy"/>) implement it;
/// tests use cheap stand-ins.
/// </summary>
public interface IPatternPolicy : IDisposable
{
    /// <summary>How many updates the policy has had.</summary>
    int Version { get; }

    /// <summary>The reward baseline, once it has one.</summary>
    double? Baseline { get; }

    /// <summary>The tokens of one pattern; the same state and seed always give the same tokens.</summary>
    int[] Sample(long seed);

    /// <summary>One pattern per seed, each as <see cref="Sample"/> writes it; a policy may write them together, faster.</summary>
    int[][] SampleBatch(IReadOnlyList<long> seeds) => seeds.Select(Sample).ToArray();

    /// <summary>One update on these results, in this order; afterwards <see cref="Version"/> is one higher.</summary>
    PolicyUpdateStats Learn(IReadOnlyList<(int[] Tokens, double Reward)> batch);

    /// <summary>A hash of everything that decides future samples (weights, optimiser state, baseline, version).</summary>
    string StateHash();

    byte[] SaveState();

    void LoadState(byte[] state);
}

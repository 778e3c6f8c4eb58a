using System.Buffers.Binary;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Search;

/// <summary>
/// Random search, the control a learned policy must beat: every token uniform over its vocabulary, drawn from the
/// sample's seed alone (as <see cref="PatternSampler"/> draws), so equal seeds give equal patterns in either kind of
/// search. It keeps the same bookkeeping as the controller (versions, a moving-average baseline, update statistics)
/// so the two kinds of search are run, shown and compared alike.
/// </summary>
public sealed class RandomPolicy(IReadOnlyList<int> vocabularies, int sites, double baselineDecay) : IPatternPolicy
{
    private const int StateFormat = 1;

    /// <summary>A whole pattern's entropy under uniform choices (summed over its tokens, as the controller reports
    /// it): the largest any policy over this space can have, and the same at every update.</summary>
    private readonly double _entropy = sites * vocabularies.Sum(v => Math.Log(v));

    public int Version { get; private set; }
    public double? Baseline { get; private set; }

    public int[] Sample(long seed)
    {
        var random = new Random((int)(seed & int.MaxValue));
        var tokens = new int[sites * vocabularies.Count];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = random.Next(vocabularies[i % vocabularies.Count]);
        return tokens;
    }

    public PolicyUpdateStats Learn(IReadOnlyList<(int[] Tokens, double Reward)> batch)
    {
        if (batch.Count == 0) throw new ArgumentException("an update needs at least one result", nameof(batch));
        double baseline = Baseline ?? batch.Average(b => b.Reward);
        foreach (var (_, reward) in batch) baseline = baselineDecay * baseline + (1 - baselineDecay) * reward;
        Baseline = baseline;
        Version++;
        return new PolicyUpdateStats(Version, batch.Average(b => b.Reward), baseline, _entropy);
    }

    public string StateHash() => Convert.ToHexString(SaveState());

    public byte[] SaveState()
    {
        var bytes = new byte[1 + 4 + 1 + 8];
        bytes[0] = StateFormat;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), Version);
        bytes[5] = Baseline is null ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(6), Baseline ?? 0);
        return bytes;
    }

    public void LoadState(byte[] state)
    {
        if (state.Length != 14 || state[0] != StateFormat) throw new ArgumentException("not the state of a random policy", nameof(state));
        Version = BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(1));
        Baseline = state[5] == 0 ? null : BinaryPrimitives.ReadDoubleLittleEndian(state.AsSpan(6));
    }

    public void Dispose() { }
}

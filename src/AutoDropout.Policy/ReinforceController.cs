using System.Security.Cryptography;
using AutoDropout.Core;
using AutoDropout.Torch;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AutoDropout.Policy;

/// <summary>One sampled pattern as token indices, with the log-probability the policy gave it.</summary>
public sealed record PolicySample(int[] Tokens, double LogProbability);

/// <summary>A result the policy learns from: the tokens it wrote and the reward they earned.</summary>
public sealed record RewardedSample(int[] Tokens, double Reward);

/// <summary>Summary of one REINFORCE update.</summary>
/// <param name="AdvantageScale">What the batch's advantages were divided by: 1 for raw advantages.</param>
public sealed record UpdateReport(
    int Version, double Loss, double MeanReward, double BaselineBefore, double BaselineAfter, double MeanEntropy, double AdvantageScale);

/// <summary>
/// The learning half of the controller, with no actors in it: samples patterns from the policy and updates it with
/// REINFORCE, using a moving-average baseline, advantages divided by a running deviation of the rewards (so rewards
/// on any scale learn alike; or raw, as searches of 0.2 learned) and an entropy bonus, with Adam.
///
/// Everything is deterministic on CPU with a fixed thread count: initial weights come from the seed, each sample's
/// randomness from its own seed, so a controller rebuilt by replaying the same results in the same order ends with
/// bit-identical weights, optimiser state and baseline.
/// </summary>
public sealed class ReinforceController : IDisposable
{
    private readonly PolicyNetwork _network;
    private readonly TorchSharp.Modules.Adam _optimizer;
    private readonly PolicyOptions _options;
    // held for the controller's life: a scalar converted implicitly for one call may be freed while libtorch reads it (Torch.Adam)
    private readonly Scalar _tanhCap, _temperature, _entropyWeight;
    private HostPolicy? _host; // the weights as sampling reads them; null once they change

    /// <summary>
    /// How many bytes of keys and values one batch of sampling may hold: beyond the CPU's cache, every position
    /// streams the whole cache from memory (a WRN pattern holds 100 KB; 256 of them sampled at half the speed of 64).
    /// </summary>
    private const long SamplingCacheBytes = 4 << 20;

    /// <summary>Marks the state format that holds the reward variance; the first format began with the version (never negative).</summary>
    private const int StateFormatWithVariance = -2;

    /// <summary>
    /// Relative to the baseline's size: keeps advantages finite when rewards barely vary (a batch of equal rewards has
    /// zero advantage anyway) without fixing a scale; the absolute floor only guards a baseline of exactly 0.
    /// </summary>
    private const double RelativeEpsilon = 1e-3, AbsoluteEpsilon = 1e-12;

    public ReinforceController(IReadOnlyList<int> vocabularies, int length, PolicyOptions options, long seed)
    {
        options.Validate();
        _options = options;
        _network = TorchRuntime.Seeded(seed, () => new PolicyNetwork(vocabularies, length, options));
        _optimizer = new Torch.Adam(_network.parameters(), options.LearningRate);
        (_tanhCap, _temperature, _entropyWeight) = (options.TanhCap.ToScalar(), options.Temperature.ToScalar(), options.EntropyWeight.ToScalar());
    }

    /// <summary>How many updates the policy has had; a sample is tagged with the version that wrote it.</summary>
    public int Version { get; private set; }

    /// <summary>The moving-average reward baseline; null until the first update.</summary>
    public double? Baseline { get; private set; }

    /// <summary>
    /// Moving average, with the baseline's decay, of each reward's squared distance from the baseline it met; null
    /// until the first update with normalised advantages, and always with raw ones.
    /// </summary>
    public double? RewardVariance { get; private set; }

    /// <summary>Writes one pattern; the same policy state and seed always give the same tokens.</summary>
    public PolicySample Sample(long seed) => SampleBatch([seed])[0];

    /// <summary>
    /// Writes one pattern per seed, all together, on a host copy of the weights (<see cref="HostPolicy"/>): one step
    /// per position for the whole batch, with each block's keys and values cached. Each choice is drawn on the
    /// host from the token's probabilities with a uniform number derived from (seed, position): no generator state
    /// to keep, and a pattern's tokens depend on its seed alone, not on the batch it was written in.
    /// </summary>
    public PolicySample[] SampleBatch(IReadOnlyList<long> seeds)
    {
        if (seeds.Count == 0) return [];
        _host ??= _network.ToHost();
        int chunk = (int)Math.Clamp(SamplingCacheBytes / _host.CacheBytesPerPattern, 1, int.MaxValue);
        return seeds.Chunk(chunk).SelectMany(part => SampleOnHost(_host, part)).ToArray();
    }

    private PolicySample[] SampleOnHost(HostPolicy network, long[] seeds)
    {
        int batch = seeds.Length, length = _network.Length;
        var tokens = new int[batch][];
        for (int b = 0; b < batch; b++) tokens[b] = new int[length];
        var logProbability = new double[batch];
        var ids = Enumerable.Repeat(_network.FirstInputId, batch).ToArray();
        var caches = network.NewCaches(batch);
        for (int t = 0; t < length; t++)
        {
            var logits = network.Step(ids, t, caches);
            int vocabulary = logits.Length / batch;
            for (int b = 0; b < batch; b++)
            {
                var probabilities = HostProbabilities(logits.AsSpan(b * vocabulary, vocabulary));
                double u = (Seeds.Derive(seeds[b], t, SeedStream.PatternSample) >> 11) * (1.0 / (1L << 52));
                int choice = 0;
                double cumulative = probabilities[0];
                while (choice < probabilities.Length - 1 && u >= cumulative) cumulative += probabilities[++choice];
                logProbability[b] += Math.Log(probabilities[choice]);
                tokens[b][t] = choice;
                ids[b] = _network.NextInputId(t, choice);
            }
        }
        return tokens.Select((t, b) => new PolicySample(t, logProbability[b])).ToArray();
    }

    /// <summary>The most likely pattern, written greedily token by token.</summary>
    public int[] Greedy()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _network.eval();
        var tokens = new List<int>(_network.Length);
        for (int t = 0; t < _network.Length; t++)
        {
            var hidden = _network.call(_network.InputIds([tokens.Select(v => (long)v).ToArray()], t + 1))[0, t];
            tokens.Add((int)_network.Logits(hidden, t).argmax().item<long>());
        }
        return tokens.ToArray();
    }

    /// <summary>Probabilities the policy gives to each value of the token at <paramref name="position"/> after <paramref name="prefix"/>.</summary>
    public float[] Probabilities(int[] prefix, int position)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _network.eval();
        var hidden = _network.call(_network.InputIds([prefix.Select(v => (long)v).ToArray()], position + 1))[0, position];
        return F.softmax(ShapeLogits(_network.Logits(hidden, position)), -1).data<float>().ToArray();
    }

    /// <summary>
    /// One REINFORCE step on a batch: advantage = (reward - baseline) / scale, with the baseline as it was before the
    /// batch (the first batch uses its own mean); loss = -mean(advantage * log p) - entropy_weight * mean(entropy);
    /// then the baseline moves towards each reward in order. With normalised advantages the scale is the square root
    /// of the running reward variance after the batch's rewards joined it (so one surprising reward cannot blow an
    /// advantage up), and rewards scaled by any factor give the same advantages: the entropy bonus weighs the same
    /// against them whatever their scale. With raw advantages the scale is 1.
    /// </summary>
    public UpdateReport Update(IReadOnlyList<RewardedSample> batch)
    {
        if (batch.Count == 0) throw new ArgumentException("an update needs at least one result", nameof(batch));
        using var scope = NewDisposeScope();
        _network.train();
        double baselineBefore = Baseline ?? batch.Average(r => r.Reward);
        // the first batch (or the first after a state that did not keep it) starts the variance from its own spread
        double variance = RewardVariance ?? batch.Average(r => (r.Reward - baselineBefore) * (r.Reward - baselineBefore));
        double baseline = baselineBefore;
        foreach (var result in batch)
        {
            double deviation = result.Reward - baseline;
            variance = _options.BaselineDecay * variance + (1 - _options.BaselineDecay) * deviation * deviation;
            baseline = _options.BaselineDecay * baseline + (1 - _options.BaselineDecay) * result.Reward;
        }
        bool normalized = _options.Advantage == PolicyOptions.Normalized;
        double scale = normalized ? Math.Sqrt(variance) + RelativeEpsilon * Math.Abs(baselineBefore) + AbsoluteEpsilon : 1;

        var (logProbability, entropy) = LogProbabilityAndEntropy(batch.Select(r => r.Tokens).ToArray());
        var advantage = tensor(batch.Select(r => (float)((r.Reward - baselineBefore) / scale)).ToArray());
        var loss = advantage.mul(logProbability).mean().neg() - entropy.mean().mul(_entropyWeight);
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
        _host = null;

        Baseline = baseline;
        RewardVariance = normalized ? variance : null;
        Version++;
        return new UpdateReport(Version, loss.item<float>(), batch.Average(r => r.Reward), baselineBefore, baseline,
            entropy.mean().item<float>(), scale);
    }

    /// <summary>A hash of every parameter and optimiser buffer plus the baseline, reward variance and version: equal hashes, equal state.</summary>
    public string StateHash()
    {
        using var scope = NewDisposeScope();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, p) in _network.named_parameters()) hash.AppendData(p.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
        var optimizerState = new MemoryStream();
        _optimizer.save_state_dict(new BinaryWriter(optimizerState));
        hash.AppendData(optimizerState.ToArray());
        hash.AppendData(BitConverter.GetBytes(Baseline ?? double.NaN));
        // raw advantages keep no variance, and their hashes stay those of 0.2
        if (RewardVariance is { } rewardVariance) hash.AppendData(BitConverter.GetBytes(rewardVariance));
        hash.AppendData(BitConverter.GetBytes(Version));
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>
    /// Everything the policy's future depends on — weights, Adam's moments and step counts, baseline, reward
    /// variance, version — as bytes for a snapshot. Sampling has no hidden generator state: each sample is seeded by
    /// its trial.
    /// </summary>
    public byte[] SaveState()
    {
        var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(StateFormatWithVariance);
        writer.Write(Version);
        writer.Write(Baseline.HasValue);
        writer.Write(Baseline ?? 0);
        writer.Write(RewardVariance.HasValue);
        writer.Write(RewardVariance ?? 0);
        _network.save(writer);
        _optimizer.save_state_dict(writer);
        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>
    /// Restores a state written by <see cref="SaveState"/> on a controller built with the same shape and options, in
    /// today's format or the first one (no reward variance: searches of 0.2, which learn from raw advantages).
    /// </summary>
    public void LoadState(byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        int first = reader.ReadInt32();
        bool withVariance = first == StateFormatWithVariance;
        if (!withVariance && first < 0) throw new InvalidDataException($"unknown policy state format {first}");
        Version = withVariance ? reader.ReadInt32() : first;
        bool hasBaseline = reader.ReadBoolean();
        double baseline = reader.ReadDouble();
        Baseline = hasBaseline ? baseline : null;
        RewardVariance = null;
        if (withVariance)
        {
            bool hasVariance = reader.ReadBoolean();
            double variance = reader.ReadDouble();
            RewardVariance = hasVariance ? variance : null;
        }
        _network.load(reader);
        _optimizer.load_state_dict(reader);
        _host = null;
    }

    private (Tensor LogProbability, Tensor Entropy) LogProbabilityAndEntropy(int[][] sequences)
    {
        int length = _network.Length;
        var hidden = _network.call(_network.InputIds(sequences.Select(s => s.Select(v => (long)v).ToArray()).ToArray(), length));
        var chosen = tensor(sequences.SelectMany(s => s.Select(v => (long)v)).ToArray(), [sequences.Length, length]);
        Tensor? logProbability = null, entropy = null;
        for (int t = 0; t < length; t++)
        {
            var logProbs = F.log_softmax(ShapeLogits(_network.Logits(hidden.select(1, t), t)), -1);
            var picked = logProbs.gather(1, chosen.select(1, t).unsqueeze(1)).squeeze(1);
            var stepEntropy = logProbs.exp().mul(logProbs).sum(1).neg();
            logProbability = logProbability is null ? picked : logProbability + picked;
            entropy = entropy is null ? stepEntropy : entropy + stepEntropy;
        }
        return (logProbability!, entropy!);
    }

    /// <summary>The same shaping and softmax as <see cref="ShapeLogits"/>, on the host, for a handful of logits.</summary>
    private double[] HostProbabilities(ReadOnlySpan<float> logits)
    {
        var shaped = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++)
            shaped[i] = _options.TanhCap * Math.Tanh(logits[i] / _options.TanhCap) / _options.Temperature;
        double max = shaped.Max(), sum = 0;
        for (int i = 0; i < shaped.Length; i++) sum += shaped[i] = Math.Exp(shaped[i] - max);
        for (int i = 0; i < shaped.Length; i++) shaped[i] /= sum;
        return shaped;
    }

    private Tensor ShapeLogits(Tensor logits) =>
        logits.div(_tanhCap).tanh().mul(_tanhCap).div(_temperature);

    public void Dispose()
    {
        _optimizer.Dispose();
        _network.Dispose();
        foreach (var scalar in new[] { _tanhCap, _temperature, _entropyWeight }) scalar.Dispose();
    }
}

using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Cluster.Controller;

public enum TrialStatus { Proposed, Leased, Completed, Failed }

public enum SearchStatus { Running, Paused, Stopped, Completed }

public sealed class TrialRecord(int id, DropoutPattern pattern, int policyVersion, long seed)
{
    public int Id { get; } = id;
    public DropoutPattern Pattern { get; } = pattern;
    public int PolicyVersion { get; } = policyVersion;
    public long Seed { get; } = seed;
    public TrialStatus Status { get; set; } = TrialStatus.Proposed;
    public string? Trainer { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public double? Reward { get; set; }
    public TrialMetricsReport? Metrics { get; set; }
    public string? FailureReason { get; set; }
    public int Attempts { get; set; }
    public int? LearnedAtVersion { get; set; }

    public bool IsFinished => Status is TrialStatus.Completed or TrialStatus.Failed;
}

/// <summary>
/// A search's bookkeeping, built only from its events (no actors, no torch): which trials exist and where they are,
/// which finished results the policy has not learned from yet, and the search's status.
/// </summary>
public sealed class SearchState(SearchSpec spec)
{
    /// <summary>An infrastructure failure (not the pattern's fault) is retried this many times before the trial fails.</summary>
    public const int MaxAttempts = 3;

    private readonly SortedDictionary<int, TrialRecord> _trials = new();
    private readonly List<int> _waiting = new(); // proposed and not leased, oldest first
    private readonly List<int> _unlearned = new(); // finished with a reward the policy has not used yet, in order

    public SearchSpec Spec { get; } = spec;
    public bool Paused { get; private set; }
    public int ExtraTrials { get; private set; }

    /// <summary>Trials the search runs in all: the spec's plus any extensions.</summary>
    public int TotalTrials => Spec.Trials + ExtraTrials + Spec.BaselineCount;

    /// <summary>The next reference trial to propose (they come first), or null when all are proposed.</summary>
    public BaselineSpec? NextBaseline
    {
        get
        {
            int proposed = _trials.Values.Count(t => t.Pattern is BaselinePattern);
            return proposed < Spec.BaselineCount ? BaselineSpec.Parse(Spec.Baselines![proposed]) : null;
        }
    }
    public bool Stopped { get; private set; }
    public IReadOnlyCollection<TrialRecord> Trials => _trials.Values;
    public IReadOnlyList<int> Unlearned => _unlearned;
    public int ProposedCount => _trials.Count;
    public int NextTrialId => _trials.Count + 1;
    public int Completed => _trials.Values.Count(t => t.Status == TrialStatus.Completed);
    public int Failed => _trials.Values.Count(t => t.Status == TrialStatus.Failed);
    public int Running => _trials.Values.Count(t => t.Status == TrialStatus.Leased);

    public SearchStatus Status =>
        Stopped ? SearchStatus.Stopped
        : Completed + Failed >= TotalTrials ? SearchStatus.Completed
        : Paused ? SearchStatus.Paused
        : SearchStatus.Running;

    /// <summary>A requeued or proposed trial waiting for a trainer, if any.</summary>
    public int? WaitingTrial => _waiting.Count > 0 ? _waiting[0] : null;

    public bool MayProposeMore => Status == SearchStatus.Running && _trials.Count < TotalTrials;

    public TrialRecord? Find(int trialId) => _trials.GetValueOrDefault(trialId);

    /// <summary>The best learned pattern; reference trials are not candidates.</summary>
    public TrialRecord? Best =>
        _trials.Values.Where(t => t.Status == TrialStatus.Completed && t.Pattern is not BaselinePattern).OrderByDescending(t => t.Reward).ThenBy(t => t.Id).FirstOrDefault();

    /// <summary>Trials whose lease ran out before <paramref name="now"/>.</summary>
    public IEnumerable<TrialRecord> ExpiredLeases(DateTimeOffset now) =>
        _trials.Values.Where(t => t.Status == TrialStatus.Leased && t.LeaseUntil < now);

    public IEnumerable<TrialRecord> LeasedBy(string trainerId) =>
        _trials.Values.Where(t => t.Status == TrialStatus.Leased && t.Trainer == trainerId);

    public void Apply(ISearchEvent e)
    {
        switch (e)
        {
            case TrialProposed p:
                _trials[p.TrialId] = new TrialRecord(p.TrialId, p.Pattern, p.PolicyVersion, p.Seed);
                _waiting.Add(p.TrialId);
                break;
            case TrialLeased l:
                {
                    var t = _trials[l.TrialId];
                    t.Status = TrialStatus.Leased;
                    t.Trainer = l.TrainerId;
                    t.LeaseUntil = l.LeaseUntil;
                    t.Attempts++;
                    _waiting.Remove(l.TrialId);
                    break;
                }
            case TrialRequeued r:
                {
                    var t = _trials[r.TrialId];
                    t.Status = TrialStatus.Proposed;
                    t.Trainer = null;
                    t.LeaseUntil = null;
                    if (!_waiting.Contains(r.TrialId)) _waiting.Add(r.TrialId);
                    break;
                }
            case TrialCompleted c:
                {
                    var t = _trials[c.TrialId];
                    t.Status = TrialStatus.Completed;
                    t.Trainer = c.TrainerId;
                    t.Reward = c.Reward;
                    t.Metrics = c.Metrics;
                    _waiting.Remove(c.TrialId);
                    if (t.Pattern is not BaselinePattern) _unlearned.Add(c.TrialId);
                    break;
                }
            case TrialFailed f:
                {
                    var t = _trials[f.TrialId];
                    t.Status = TrialStatus.Failed;
                    t.Trainer = f.TrainerId;
                    t.FailureReason = f.Reason;
                    t.Reward = f.Reward;
                    _waiting.Remove(f.TrialId);
                    // only the pattern's own failures teach the policy something (a diverged pattern scores 0)
                    if (IsPatternFault(f.Reason) && t.Pattern is not BaselinePattern) _unlearned.Add(f.TrialId);
                    break;
                }
            case PolicyUpdated u:
                foreach (var id in u.TrialIds)
                {
                    _unlearned.Remove(id);
                    _trials[id].LearnedAtVersion = u.Version;
                }
                break;
            case SearchPaused:
                Paused = true;
                break;
            case SearchResumed:
                Paused = false;
                break;
            case SearchStopped:
                Stopped = true;
                break;
            case SearchExtended extended:
                ExtraTrials += extended.AdditionalTrials;
                break;
            case SearchCreated:
                break;
            default:
                throw new ArgumentException($"a search does not know the event {e.GetType().Name}");
        }
    }

    /// <summary>"diverged" is the pattern's fault; anything else (out of memory, errors, cancellation) is the infrastructure's.</summary>
    public static bool IsPatternFault(string reason) => reason == "diverged";

    public const string Cancelled = "cancelled";

    /// <summary>The event a trainer's result turns into, or null when the result is a duplicate or for an unknown trial.</summary>
    public ISearchEvent? EventFor(TrialResult result)
    {
        var trial = Find(result.TrialId);
        if (trial is null || trial.IsFinished) return null;
        if (result.FailureReason is null)
            return new TrialCompleted(result.TrialId, result.TrainerId, result.Reward,
                result.Metrics ?? new TrialMetricsReport(result.Reward, double.NaN, 0, 0, 0));
        // cancelled because the search was paused or stopped: not the trial's fault, and no attempt used up
        if (result.FailureReason == Cancelled)
            return trial.Status == TrialStatus.Leased ? new TrialRequeued(result.TrialId, $"cancelled: {result.FailureMessage}") : null;
        if (IsPatternFault(result.FailureReason))
            return new TrialFailed(result.TrialId, result.TrainerId, result.FailureReason, result.FailureMessage ?? "", 0);
        return trial.Attempts >= MaxAttempts
            ? new TrialFailed(result.TrialId, result.TrainerId, result.FailureReason, result.FailureMessage ?? "", 0)
            : new TrialRequeued(result.TrialId, $"{result.FailureReason}: {result.FailureMessage}");
    }

    public SearchSummary Summary(int policyVersion) =>
        new(Spec.Name, Status.ToString().ToLowerInvariant(), TotalTrials, Completed, Failed, Running, policyVersion,
            Best?.Reward, Best?.Pattern.Hash());

    public IReadOnlyList<TrialView> TrialViews(IReadOnlyDictionary<int, TrialProgress>? progress = null) =>
        _trials.Values.Select(t => new TrialView(t.Id, t.Status.ToString().ToLowerInvariant(), t.Pattern.ToCompact(),
            t.Pattern.Hash(), t.PolicyVersion, t.Reward, t.Trainer, t.FailureReason, t.Metrics,
            t.LearnedAtVersion - 1 - t.PolicyVersion,
            t.Status == TrialStatus.Leased && progress is not null && progress.TryGetValue(t.Id, out var p) && p.TrainerId == t.Trainer ? p : null)).ToArray();

    public SearchSnapshot ToSnapshot(byte[] policyState) =>
        new(Spec,
            _trials.Values.Select(t => new TrialSnapshot(t.Id, t.Pattern, t.PolicyVersion, t.Seed, t.Status.ToString().ToLowerInvariant(),
                t.Trainer, t.LeaseUntil, t.Reward, t.Metrics, t.FailureReason, t.Attempts, t.LearnedAtVersion)).ToArray(),
            _waiting.ToArray(), _unlearned.ToArray(), Paused, Stopped, policyState, ExtraTrials);

    public static SearchState FromSnapshot(SearchSnapshot snapshot)
    {
        var state = new SearchState(snapshot.Spec) { Paused = snapshot.Paused, Stopped = snapshot.Stopped, ExtraTrials = snapshot.ExtraTrials };
        foreach (var t in snapshot.Trials)
            state._trials[t.TrialId] = new TrialRecord(t.TrialId, t.Pattern, t.PolicyVersion, t.Seed)
            {
                Status = Enum.Parse<TrialStatus>(t.Status, ignoreCase: true),
                Trainer = t.Trainer,
                LeaseUntil = t.LeaseUntil,
                Reward = t.Reward,
                Metrics = t.Metrics,
                FailureReason = t.FailureReason,
                Attempts = t.Attempts,
                LearnedAtVersion = t.LearnedAtVersion,
            };
        state._waiting.AddRange(snapshot.Waiting);
        state._unlearned.AddRange(snapshot.Unlearned);
        return state;
    }
}

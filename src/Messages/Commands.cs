using AutoDropout.Core;

namespace AutoDropout.Messages;

/// <summary>Operator commands, sent by the command endpoint of any node to the controller singleton.</summary>
public interface ISearchCommand : IAutoDropoutMessage
{
    string Search { get; }
}

public sealed record StartSearch(SearchSpec Spec) : ISearchCommand
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string Search => Spec.Name;
}

/// <summary>One search with its trials from <paramref name="TrialsFrom"/> on, at most <paramref name="TrialsLimit"/>
/// of them (all when null): remote callers page, as a large search's trials outgrow remoting's frame.</summary>
public sealed record GetSearch(string Search, int TrialsFrom = 0, int? TrialsLimit = null) : ISearchCommand;

public sealed record PauseSearch(string Search) : ISearchCommand;

public sealed record ResumeSearch(string Search) : ISearchCommand;

public sealed record StopSearch(string Search) : ISearchCommand;

public sealed record ExtendSearch(string Search, int AdditionalTrials) : ISearchCommand;

/// <summary>Forget a stopped or completed search: its journal and snapshots are deleted and its name is free again.
/// The registry handles it, not the search, so it is not an <see cref="ISearchCommand"/>.</summary>
public sealed record DeleteSearch(string Search) : IAutoDropoutMessage;

public sealed record ListSearches : IAutoDropoutMessage;

public sealed record CommandAccepted(string Message) : IAutoDropoutMessage;

/// <summary>Asks the controller singleton where it runs and what it serves from.</summary>
public sealed record GetControllerStatus : IAutoDropoutMessage;

/// <param name="Node">The address of the node hosting the singleton.</param>
/// <param name="Journal">The journal's back-end: sqlite or postgres.</param>
/// <param name="JournalLocation">The SQLite file, or PostgreSQL's host, port, database and user: never a password.</param>
/// <param name="JournalId">The id the journal was given on first use; null until the registry has recovered.</param>
/// <param name="NewestSnapshot">When the newest snapshot in the store was saved; null when there is none or it could not be read.</param>
public sealed record ControllerStatus(
    string Node, string Journal, string JournalLocation, string? JournalId, int Searches, int Evaluations, DateTimeOffset? NewestSnapshot)
    : IAutoDropoutMessage;

public sealed record CommandRejected(string Reason) : IAutoDropoutMessage;

/// <param name="Problem">Why a broken or unavailable search cannot say more; null otherwise.</param>
/// <param name="PauseReason">Why a paused search paused itself; null when an operator paused it, or it is not paused.</param>
public sealed record SearchSummary(
    string Name, SearchStatus Status, int Trials, int Completed, int Failed, int Running, int PolicyVersion,
    double? BestReward, string? BestPatternHash, string? Problem = null, string? PauseReason = null);

public sealed record SearchList(IReadOnlyList<SearchSummary> Searches) : IAutoDropoutMessage;

/// <param name="Staleness">How many policy updates happened between the version that wrote this pattern and the
/// update that learned from its reward (0: learned by the next update; null: not learned from yet).</param>
/// <param name="Progress">The last progress report of a leased trial's trainer, if any.</param>
/// <param name="Baseline">For a reference trial, the hand-made regulariser it trained with ("dropout:0.1"); null for a pattern.</param>
/// <param name="FailureMessage">Why a failed trial failed, as its trainer (or the controller, when it gave up) said it;
/// null for a trial that did not fail, or whose reason was recorded without a message.</param>
public sealed record TrialView(
    int TrialId, TrialStatus Status, string PatternCompact, string PatternHash, int PolicyVersion, double? Reward,
    string? Trainer, FailureReason? FailureReason, TrialMetricsReport? Metrics, int? Staleness, TrialProgress? Progress = null,
    string? Baseline = null, string? FailureMessage = null);

/// <param name="Updates">Every policy update so far, oldest first.</param>
public sealed record SearchDetails(
    SearchSummary Summary, SearchSpec Spec, IReadOnlyList<TrialView> Trials, AutoDropout.Core.DropoutPattern? BestPattern,
    double? Baseline, string PolicyHash, IReadOnlyList<PolicyUpdateStats>? Updates = null, int TrialsFrom = 0, int? TrialsTotal = null)
    : IAutoDropoutMessage;

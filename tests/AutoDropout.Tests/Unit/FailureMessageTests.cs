using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Tests.Unit;

/// <summary>Why trials failed, kept and shown; and a search whose first trials all fail alike pausing itself.</summary>
public class FailureMessageTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const string Missing = "/data/fmnist: no such directory";

    private sealed class FixedPolicy : IPatternPolicy
    {
        public int Version { get; private set; }
        public double? Baseline => null;
        public int[] Sample(long seed) => new int[16]; // a valid 2-site cnn pattern
        public PolicyUpdateStats Learn(IReadOnlyList<(int[] Tokens, double Reward)> batch) => new(++Version, 0, 0, 0);
        public string StateHash() => Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        public byte[] SaveState() => [(byte)Version];
        public void LoadState(byte[] state) => Version = state[0];
        public void Dispose() { }
    }

    private static SearchModel Started(SearchSpec spec, List<ISearchEvent> journal)
    {
        var model = new SearchModel(_ => new FixedPolicy());
        Run(model, new Start(spec), journal);
        return model;
    }

    private static Decision Run(SearchModel model, SearchCommand command, List<ISearchEvent> journal)
    {
        var decision = model.Decide(command);
        foreach (var e in decision.Events) model.Apply(e);
        journal.AddRange(decision.Events);
        return decision;
    }

    private static int Lease(SearchModel model, List<ISearchEvent> journal) =>
        ((TrialLeased)Run(model, new Offer("t1", T0), journal).Events[^1]).TrialId;

    private static TrialResult Failure(int trial, FailureReason reason, string message) => new("s", trial, "t1", 0, null, reason, message);

    /// <summary>Leases the next trial and fails it (an infrastructure failure: once per attempt); the last decision.</summary>
    private static Decision FailNext(SearchModel model, List<ISearchEvent> journal, FailureReason reason, string message)
    {
        int trial = Lease(model, journal);
        int attempts = reason.IsPatternFault() ? 1 : SearchState.MaxAttempts;
        Decision last = Decision.Nothing;
        for (int a = 1; a <= attempts; a++)
        {
            if (a > 1) Assert.Equal(trial, Lease(model, journal));
            last = Run(model, new Report(Failure(trial, reason, message)), journal);
        }
        Assert.Equal(TrialStatus.Failed, model.State!.Trials[trial].Status);
        return last;
    }

    [Fact]
    public void A_message_is_cut_to_one_line_of_at_most_300_characters()
    {
        Assert.Equal("", FailureReasons.OneLine(null));
        Assert.Equal("", FailureReasons.OneLine(" \n "));
        Assert.Equal("Could not find a part of the path '/x'. at Foo()", FailureReasons.OneLine("Could not find a part of the path '/x'.\n   at Foo()\r\n"));
        var cut = FailureReasons.OneLine(new string('x', 1000));
        Assert.Equal(FailureReasons.MaxMessageLength, cut.Length);
        Assert.EndsWith("...", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torch_error_keeps_its_message_without_the_native_call_stack()
    {
        var failed = AutoDropout.Training.TrialOutcome.FromException(new InvalidOperationException(
            "Given input size: (64x1x1). Calculated output size: (64x0x0). Output size is too small\nException raised from pool2d_shape_check at Pool.h:160 (most recent call first):\nframe #0: c10::Error::Error()"));
        Assert.Equal((FailureReason.Error, "Given input size: (64x1x1). Calculated output size: (64x0x0). Output size is too small"), (failed.Reason, failed.Message));
    }

    [Fact]
    public void A_trials_failure_message_is_persisted_in_one_line_and_shown_in_its_view()
    {
        var journal = new List<ISearchEvent>();
        using var model = Started(new SearchSpec("s", Trials: 6), journal);
        var diverged = Assert.IsType<TrialFailed>(FailNext(model, journal, FailureReason.Diverged, "loss became NaN\nat step 3").Events.Single());
        Assert.Equal("loss became NaN at step 3", diverged.Message);
        // an infrastructure failure gives up after its attempts, and says what the last one said
        var gaveUp = Assert.IsType<TrialFailed>(FailNext(model, journal, FailureReason.Error, Missing + new string('!', 400)).Events.Single());
        Assert.StartsWith($"gave up after {SearchState.MaxAttempts} attempts; last: error: {Missing}", gaveUp.Message, StringComparison.Ordinal);
        Assert.True(gaveUp.Message.Length <= FailureReasons.MaxMessageLength);

        var views = SearchViews.Trials(model.State!);
        Assert.Equal(["loss became NaN at step 3", gaveUp.Message], views.Select(v => v.FailureMessage));
        Assert.Contains(Missing, SearchViews.Describe(gaveUp), StringComparison.Ordinal);

        // a requeued or running trial has no failure message
        int third = Lease(model, journal);
        Run(model, new Report(Failure(third, FailureReason.OutOfMemory, "CUDA out of memory")), journal);
        Assert.Null(SearchViews.Trials(model.State!).Single(v => v.TrialId == third).FailureMessage);
    }

    [Fact]
    public void A_search_whose_first_trials_all_fail_alike_pauses_itself_saying_why_and_only_then()
    {
        var journal = new List<ISearchEvent>();
        using var model = Started(new SearchSpec("s", Trials: 6), journal);
        for (int i = 1; i < SearchState.AutoPauseAfter; i++)
            Assert.DoesNotContain(FailNext(model, journal, FailureReason.Error, Missing).Events, e => e is SearchPaused);
        var last = FailNext(model, journal, FailureReason.Error, Missing);

        // persisted in the same write as the failure that decided it
        Assert.Equal([typeof(TrialFailed), typeof(SearchPaused)], last.Events.Select(e => e.GetType()));
        var reason = ((SearchPaused)last.Events[1]).Reason!;
        Assert.StartsWith($"the first {SearchState.AutoPauseAfter} trials all failed (error): gave up after", reason, StringComparison.Ordinal);
        Assert.Contains(Missing, reason, StringComparison.Ordinal);
        Assert.Equal(SearchStatus.Paused, model.State!.Status);
        Assert.Equal(reason, SearchViews.Summary(model.State).PauseReason);
        Assert.Empty(model.Decide(new Offer("t1", T0)).Events); // no trial is started while it waits

        // resumed (the data fixed, say): the reason goes, and later failures never pause it again
        Run(model, new Resume(), journal);
        Assert.Null(model.State.PauseReason);
        Assert.Null(SearchViews.Summary(model.State).PauseReason);
        Assert.DoesNotContain(FailNext(model, journal, FailureReason.Error, Missing).Events, e => e is SearchPaused);
        Assert.Equal(SearchStatus.Running, model.State.Status);

        // replay is exact: the same events fold into the same state, the reason included
        using var replayed = SearchModel.Replay(journal, _ => new FixedPolicy());
        Assert.Equal(model.State.Status, replayed.State!.Status);
        Assert.Equal(SearchViews.Summary(model.State), SearchViews.Summary(replayed.State));
        Assert.Equal(SearchViews.Trials(model.State).Select(v => v.FailureMessage), SearchViews.Trials(replayed.State).Select(v => v.FailureMessage));
    }

    public static TheoryData<string> NotAlike() => new() { "different messages", "a diverged pattern", "all diverged", "a completed trial" };

    [Theory]
    [MemberData(nameof(NotAlike))]
    public void A_search_does_not_pause_itself_when_its_first_trials_did_not_all_fail_alike(string first)
    {
        var journal = new List<ISearchEvent>();
        using var model = Started(new SearchSpec("s", Trials: 6), journal);
        switch (first)
        {
            case "different messages":
                FailNext(model, journal, FailureReason.Error, "other");
                break;
            case "a diverged pattern":
                FailNext(model, journal, FailureReason.Diverged, Missing);
                break;
            case "all diverged": // the pattern's fault: the policy learns from it
                FailNext(model, journal, FailureReason.Diverged, Missing);
                FailNext(model, journal, FailureReason.Diverged, Missing);
                FailNext(model, journal, FailureReason.Diverged, Missing);
                Assert.Equal(SearchStatus.Running, model.State!.Status);
                return;
            case "a completed trial":
                Run(model, new Report(new TrialResult("s", Lease(model, journal), "t1", 0.5, null, null, null)), journal);
                break;
        }
        while (model.State!.Completed + model.State.Failed < SearchState.AutoPauseAfter + 1)
            Assert.DoesNotContain(FailNext(model, journal, FailureReason.Error, Missing).Events, e => e is SearchPaused);
        Assert.Equal(SearchStatus.Running, model.State.Status);
    }

    [Fact]
    public void A_search_with_no_trials_left_completes_instead_of_pausing()
    {
        var journal = new List<ISearchEvent>();
        using var model = Started(new SearchSpec("s", Trials: SearchState.AutoPauseAfter), journal);
        for (int i = 0; i < SearchState.AutoPauseAfter; i++) FailNext(model, journal, FailureReason.Error, Missing);
        Assert.DoesNotContain(journal, e => e is SearchPaused);
        Assert.Equal(SearchStatus.Completed, model.State!.Status);
    }

    [Fact]
    public void An_old_journal_whose_pause_has_no_reason_replays_as_an_operators_pause()
    {
        var old = (SearchPaused)MessageCodec.FromBinary("{}"u8.ToArray(), "search-paused-v1");
        Assert.Null(old.Reason);
        using var replayed = SearchModel.Replay([new SearchCreated(new SearchSpec("s", Trials: 4)), old], _ => new FixedPolicy());
        Assert.Equal(SearchStatus.Paused, replayed.State!.Status);
        Assert.Null(SearchViews.Summary(replayed.State).PauseReason);
    }

    [Fact]
    public void A_snapshot_keeps_failure_messages_and_the_pause_reason_and_an_older_one_reads_without_them()
    {
        var journal = new List<ISearchEvent>();
        using var model = Started(new SearchSpec("s", Trials: 6), journal);
        for (int i = 0; i < SearchState.AutoPauseAfter; i++) FailNext(model, journal, FailureReason.Error, Missing);
        var snapshot = model.ToSnapshot();
        Assert.Equal("search-snapshot-v3", MessageCodec.Manifest(snapshot));
        var restored = SearchState.FromSnapshot((SearchSnapshot)MessageCodec.FromBinary(MessageCodec.ToBinary(snapshot), "search-snapshot-v3"));
        Assert.Equal(SearchViews.Summary(model.State!), SearchViews.Summary(restored));
        Assert.Equal(SearchViews.Trials(model.State!).Select(v => v.FailureMessage), SearchViews.Trials(restored).Select(v => v.FailureMessage));
        Assert.NotNull(restored.PauseReason);

        // the same bytes under the previous manifest (which had neither field) read with none
        var json = System.Text.Encoding.UTF8.GetString(MessageCodec.ToBinary(snapshot with { PauseReason = null, Trials = [.. snapshot.Trials.Select(t => t with { FailureMessage = null })] }))
            .Replace(",\"pause_reason\":null", "", StringComparison.Ordinal).Replace(",\"failure_message\":null", "", StringComparison.Ordinal);
        Assert.DoesNotContain("failure_message", json, StringComparison.Ordinal);
        var older = SearchState.FromSnapshot((SearchSnapshot)MessageCodec.FromBinary(System.Text.Encoding.UTF8.GetBytes(json), "search-snapshot-v2"));
        Assert.Equal(SearchStatus.Paused, older.Status);
        Assert.Null(older.PauseReason);
        Assert.All(SearchViews.Trials(older), v => Assert.Null(v.FailureMessage));
    }
}

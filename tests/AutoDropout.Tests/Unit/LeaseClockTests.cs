using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Tests.Unit;

public class LeaseClockTests
{
    private const int LeaseSeconds = 600;
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(30);

    private static TrialRecord Leased(int id, string trainer, DateTimeOffset leasedAt) =>
        new(id, new BaselinePattern(BaselineSpec.None), 0, id)
        {
            Status = TrialStatus.Leased,
            Trainer = trainer,
            LeaseUntil = leasedAt.AddSeconds(LeaseSeconds),
            Attempts = 1,
        };

    private static TrialProgress Beat(int id, string trainer, int step, int steps = 100) => new("s", id, trainer, step, steps, 0.5);

    private static List<string> Expired(LeaseClock clock, DateTimeOffset now, params TrialRecord[] leased) =>
        clock.Expired(leased, now, LeaseSeconds).Select(e => $"{e.Trial.Id}: {e.Why}").ToList();

    [Fact]
    public void A_lease_never_heard_from_ends_after_the_silence_as_its_assignment_was_lost()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        Assert.Empty(Expired(clock, T0.AddSeconds(29), trial));
        Assert.Contains("a never reported on its lease: no heartbeat in 31 s", Assert.Single(Expired(clock, T0.AddSeconds(31), trial)));
    }

    [Fact]
    public void A_lease_shorter_than_the_silence_ends_at_its_lease_seconds()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0) with { LeaseUntil = T0.AddSeconds(10) };
        Assert.Empty(clock.Expired([trial], T0.AddSeconds(9), 10));
        Assert.Contains("lease of a expired: no progress within 10 s", Assert.Single(clock.Expired([trial], T0.AddSeconds(11), 10).Select(e => e.Why)));
    }

    [Fact]
    public void A_lease_ends_when_its_heartbeats_stop_long_before_its_lease_seconds()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        clock.Heard(Beat(1, "a", 10), T0.AddSeconds(20));
        Assert.Empty(Expired(clock, T0.AddSeconds(49), trial));
        Assert.Contains("a stopped reporting: no heartbeat for 31 s", Assert.Single(Expired(clock, T0.AddSeconds(51), trial)));
    }

    [Fact]
    public void Heartbeats_keep_a_long_trial_past_its_lease_seconds_while_its_steps_advance()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        // 100 steps at 10 s a step: 1,000 s, well past the 600 s lease
        for (int s = 1; s <= 99; s++)
        {
            var now = T0.AddSeconds(10 * s);
            clock.Heard(Beat(1, "a", s), now);
            Assert.Empty(Expired(clock, now.AddSeconds(5), trial));
        }
    }

    [Fact]
    public void A_trainer_that_beats_but_makes_no_progress_loses_its_lease_once_three_times_its_projection_has_passed()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        // step 50 of 100 after 400 s projects 800 s; stuck there, heartbeats still coming: 3 x 800 + 30 s
        clock.Heard(Beat(1, "a", 50), T0.AddSeconds(400));
        for (int t = 410; t <= 2420; t += 10) clock.Heard(Beat(1, "a", 50), T0.AddSeconds(t));
        Assert.Empty(Expired(clock, T0.AddSeconds(2425), trial));
        clock.Heard(Beat(1, "a", 50), T0.AddSeconds(2430));
        Assert.Contains("stalled at step 50 of 100", Assert.Single(Expired(clock, T0.AddSeconds(2431), trial)));
    }

    [Fact]
    public void Progress_never_shortens_a_lease_below_its_lease_seconds()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        // a fast start projects 10 s in all, then a long validation pass, heartbeats still coming
        clock.Heard(Beat(1, "a", 100), T0.AddSeconds(10));
        for (int t = 20; t < LeaseSeconds; t += 10) clock.Heard(Beat(1, "a", 100), T0.AddSeconds(t));
        Assert.Empty(Expired(clock, T0.AddSeconds(LeaseSeconds - 5), trial));
    }

    [Fact]
    public void Heartbeats_without_a_step_hold_a_lease_only_for_its_lease_seconds()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        // the trainer's actor beats while its thread never gets through a step (stuck loading data, say)
        for (int t = 5; t <= LeaseSeconds + 5; t += 5) clock.Heard(Beat(1, "a", 0, 0), T0.AddSeconds(t));
        Assert.Empty(Expired(clock, T0.AddSeconds(LeaseSeconds - 1), trial));
        Assert.Contains("a made no training step within the lease's 600 s", Assert.Single(Expired(clock, T0.AddSeconds(LeaseSeconds + 6), trial)));
    }

    [Fact]
    public void Another_trainers_heartbeat_does_not_hold_the_lease()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "b", T0);
        clock.Heard(Beat(1, "a", 10), T0.AddSeconds(LeaseSeconds)); // the trial's previous holder, late
        Assert.Single(Expired(clock, T0.AddSeconds(LeaseSeconds + 1), trial));
    }

    [Fact]
    public void After_a_restart_every_lease_has_the_silence_to_be_heard_again()
    {
        var clock = new LeaseClock(Silence);
        var old = Leased(1, "a", T0.AddSeconds(-5000)); // its lease ran out while the controller was down
        var recovered = T0;
        clock.Recovered(recovered);
        Assert.Empty(Expired(clock, recovered.AddSeconds(29), old));
        clock.Heard(Beat(1, "a", 10), recovered.AddSeconds(20));
        Assert.Empty(Expired(clock, recovered.AddSeconds(45), old));
        var silent = Leased(2, "b", T0.AddSeconds(-5000));
        Assert.Single(Expired(clock, recovered.AddSeconds(31), silent));
    }

    [Fact]
    public void Forgetting_a_trial_drops_its_heartbeats()
    {
        var clock = new LeaseClock(Silence);
        clock.Heard(Beat(1, "a", 10), T0);
        Assert.True(clock.Latest.ContainsKey(1));
        clock.Forget(1);
        Assert.Empty(clock.Latest);
    }

    [Fact]
    public void The_decider_requeues_by_heartbeat_and_counts_the_attempt()
    {
        var clock = new LeaseClock(Silence);
        var trial = Leased(1, "a", T0);
        clock.Heard(Beat(1, "a", 10), T0.AddSeconds(5));
        var decision = TrialLifecycle.Expire([trial], new SearchCommand.ExpireLeases(T0.AddSeconds(40), clock), LeaseSeconds);
        var requeued = Assert.IsType<TrialRequeued>(Assert.Single(decision.Events));
        Assert.Equal(RequeueCause.LeaseExpired, requeued.Cause);
        // without heartbeats, the lease's own deadline
        Assert.Empty(TrialLifecycle.Expire([trial], new SearchCommand.ExpireLeases(T0.AddSeconds(40)), LeaseSeconds).Events);
    }
}

using AutoDropout.Search;

namespace AutoDropout.Tests.Unit;

public class WriteGroupsTests
{
    [Fact]
    public void With_nothing_written_or_waiting_what_follows_runs_at_once()
    {
        var writes = new WriteGroups<string>();
        var ran = new List<string>();
        writes.Then(() => ran.Add("reply"));
        Assert.Equal(["reply"], ran);
        Assert.Null(writes.Start());
    }

    [Fact]
    public void Decisions_made_during_a_write_go_out_together_as_the_next_write_in_their_order()
    {
        var writes = new WriteGroups<string>();
        var ran = new List<string>();
        writes.Add(["leased 1"]);
        writes.Then(() => ran.Add("assign 1"));
        Assert.Equal(["leased 1"], writes.Start());
        Assert.True(writes.Writing);
        Assert.Null(writes.Start()); // one write at a time

        writes.Add(["completed 1"]);
        writes.Then(() => ran.Add("ack 1"));
        writes.Add(["leased 2", "proposed 3"]);
        writes.Then(() => ran.Add("assign 2"));
        Assert.Empty(ran);
        Assert.Equal(3, writes.Waiting);

        foreach (var then in writes.Written()) then();
        Assert.Equal(["assign 1"], ran);
        Assert.Equal(["completed 1", "leased 2", "proposed 3"], writes.Start());
        Assert.Equal(0, writes.Waiting);
        foreach (var then in writes.Written()) then();
        Assert.Equal(["assign 1", "ack 1", "assign 2"], ran);
        Assert.False(writes.Writing);
    }

    [Fact]
    public void An_answer_with_no_events_waits_only_for_what_was_decided_before_it()
    {
        var writes = new WriteGroups<string>();
        var ran = new List<string>();
        writes.Add(["leased 1"]);
        writes.Start();
        writes.Then(() => ran.Add("read after the write in flight"));
        writes.Add(["completed 1"]);
        writes.Then(() => ran.Add("read after the group that waits"));

        foreach (var then in writes.Written()) then();
        Assert.Equal(["read after the write in flight"], ran);
        writes.Start();
        foreach (var then in writes.Written()) then();
        Assert.Equal(["read after the write in flight", "read after the group that waits"], ran);
    }

    [Fact]
    public void A_write_never_in_flight_cannot_be_written()
    {
        Assert.Throws<InvalidOperationException>(() => new WriteGroups<string>().Written());
    }
}

using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

/// <summary>The pure pieces of the operator verbs: pbm's layout, membership changes, trial selection and export, the REPL's completion.</summary>
public sealed class OperatorVerbTests
{
    private static ClusterMemberView Member(int port, string status, string role = "trainer", bool unreachable = false, bool leader = false) =>
        new($"akka.tcp://autodropout@127.0.0.1:{port}", status, [role], unreachable, leader, "0.2.0");

    private static ClusterView View(params ClusterMemberView[] members) => new(members[0].Address, members);

    [Fact]
    public void Cluster_show_prints_one_aligned_line_per_member_then_the_count()
    {
        var lines = Membership.ShowLines(View(Member(4053, "Up", "seed", leader: true), Member(40001, "Up"), Member(40002, "Leaving", unreachable: true))).ToList();
        Assert.Equal(
        [
            "akka.tcp://autodropout@127.0.0.1:4053  | [seed]    | Up (leader)           | 0.2.0",
            "akka.tcp://autodropout@127.0.0.1:40001 | [trainer] | Up                    | 0.2.0",
            "akka.tcp://autodropout@127.0.0.1:40002 | [trainer] | Leaving (unreachable) | 0.2.0",
            "Count: 3 nodes",
        ], lines);
    }

    [Fact]
    public void Membership_changes_name_akka_s_events_in_address_order()
    {
        var before = View(Member(4053, "Up", "seed", leader: true), Member(40001, "Up"), Member(40002, "Up"));
        var after = View(Member(4053, "Up", "seed", leader: true), Member(40001, "Leaving"), Member(40002, "Up", unreachable: true), Member(40003, "Joining"));
        var changes = Membership.Changes(before, after).Select(c => $"{c.Event} {c.Address[^5..]}");
        Assert.Equal(["MemberLeft 40001", "UnreachableMember 40002", "MemberJoined 40003"], changes);

        var gone = Membership.Changes(after, View(Member(4053, "Up", "seed", leader: true), Member(40002, "Up"), Member(40003, "Up")));
        Assert.Equal(["MemberRemoved 40001", "ReachableMember 40002", "MemberUp 40003"], gone.Select(c => $"{c.Event} {c.Address[^5..]}"));
        Assert.Empty(Membership.Changes(after, after));
        Assert.Equal(["MemberUp", "MemberUp", "MemberUp"], Membership.Initial(before).Select(c => c.Event));
    }

    [Fact]
    public void A_tail_line_and_its_json_carry_the_event_the_address_and_the_roles()
    {
        var change = new MemberChange("MemberRemoved", "akka.tcp://autodropout@127.0.0.1:40001", "Removed", ["trainer"]);
        var at = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        Assert.Equal("[03:04:05] MemberRemoved akka.tcp://autodropout@127.0.0.1:40001 [trainer]", Membership.Line(at, change));
        using var json = System.Text.Json.JsonDocument.Parse(Membership.Json(at, change));
        Assert.Equal("MemberRemoved", json.RootElement.GetProperty("event").GetString());
        Assert.Equal("trainer", json.RootElement.GetProperty("roles")[0].GetString());
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("7", 7)]
    public void Durations_read_as_the_trainers_write_them(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Membership.ParseDuration(text));

    [Theory]
    [InlineData("soon")]
    [InlineData("-3s")]
    [InlineData("")]
    public void A_bad_duration_is_a_usage_error(string text) => Assert.Throws<UsageException>(() => Membership.ParseDuration(text));

    [Fact]
    public void A_leave_or_down_body_names_an_address_or_nothing()
    {
        Assert.Null(CommandEndpoint.MembershipAddress(""));
        Assert.Null(CommandEndpoint.MembershipAddress("{}"));
        Assert.Null(CommandEndpoint.MembershipAddress("{\"address\": null}"));
        Assert.Equal("127.0.0.1:4053", CommandEndpoint.MembershipAddress("{\"address\": \"127.0.0.1:4053\"}"));
        Assert.Throws<FormatException>(() => CommandEndpoint.MembershipAddress("{\"address\": 3}"));
        Assert.Throws<FormatException>(() => CommandEndpoint.MembershipAddress("[1]"));
        Assert.Throws<FormatException>(() => CommandEndpoint.MembershipAddress("{"));
    }

    private static TrialView Trial(int id, TrialStatus status, double? reward, string? baseline = null, string? message = null) =>
        new(id, status, $"s{id} t1", $"hash{id}", 0, reward, "t", status == TrialStatus.Failed ? FailureReason.Error : null,
            reward is { } r ? new TrialMetricsReport(r, 0.5, 100, 1.5, 80) : null, status == TrialStatus.Completed ? 1 : null,
            Baseline: baseline, FailureMessage: message);

    private static readonly TrialView[] Trials =
    [
        Trial(1, TrialStatus.Completed, 0.5), Trial(2, TrialStatus.Failed, null, message: "disk gone, \"really\""),
        Trial(3, TrialStatus.Completed, 0.75), Trial(4, TrialStatus.Leased, null), Trial(5, TrialStatus.Completed, 0.9, baseline: "dropout:0.1"),
        Trial(6, TrialStatus.Completed, 0.75),
    ];

    [Fact]
    public void Trials_filter_by_status_sort_by_reward_best_first_and_keep_the_top()
    {
        Assert.Equal([5, 3, 6], TrialViews.Select(Trials, TrialStatus.Completed, "reward", 3).Select(t => t.TrialId));
        Assert.Equal([4], TrialViews.Select(Trials, TrialViews.ParseStatus("running"), null, null).Select(t => t.TrialId));
        Assert.Equal([1, 2, 3, 4, 5, 6], TrialViews.Select(Trials.AsEnumerable().Reverse(), null, "id", null).Select(t => t.TrialId));
        // trials without a reward sort last
        Assert.Equal(4, TrialViews.Select(Trials, null, "reward", null)[^1].TrialId);
        Assert.Throws<UsageException>(() => TrialViews.ParseStatus("done-ish"));
        Assert.Throws<UsageException>(() => TrialViews.Select(Trials, null, "speed", null));
        Assert.Throws<UsageException>(() => TrialViews.Select(Trials, null, null, 0));
    }

    [Fact]
    public void The_best_trial_is_the_best_completed_pattern_never_a_baseline_and_the_earliest_on_a_tie()
    {
        var details = new SearchDetails(new SearchSummary("s", SearchStatus.Running, 6, 4, 1, 1, 0, 0.9, null), new SearchSpec("s"), Trials, null, null, "h");
        Assert.Equal(3, TrialViews.Best(details)!.TrialId);
        Assert.Null(TrialViews.Best(details with { Trials = [Trials[1], Trials[3]] }));
    }

    [Fact]
    public void The_csv_export_has_a_row_per_trial_with_quoted_messages_and_invariant_numbers()
    {
        var lines = TrialViews.Csv(Trials).TrimEnd('\n').Split('\n');
        Assert.Equal(7, lines.Length);
        Assert.Equal(string.Join(",", TrialViews.CsvColumns), lines[0]);
        Assert.StartsWith("1,completed,0.5,0,1,t,,0.5,,0.5,,100,1.5,80,,,hash1,s1 t1", lines[1], StringComparison.Ordinal);
        Assert.Contains(",error,\"disk gone, \"\"really\"\"\",hash2,", lines[2], StringComparison.Ordinal);
        Assert.Contains(",dropout:0.1,", lines[5], StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_export_round_trips_every_trial()
    {
        var back = System.Text.Json.JsonSerializer.Deserialize(TrialViews.JsonArray(Trials), MessageJsonContext.Default.IReadOnlyListTrialView)!;
        Assert.Equal(Trials, back, (a, b) => a.TrialId == b.TrialId && a.Reward == b.Reward && a.FailureMessage == b.FailureMessage);
    }

    [Fact]
    public void The_repl_splits_words_as_a_shell_does()
    {
        Assert.Equal(["search", "show", "my search", "--json"], ReplCompletion.Split("search  show 'my search' --json "));
        Assert.Equal(["a", "b\"c"], ReplCompletion.Split("a 'b\"c'"));
        Assert.Empty(ReplCompletion.Split("   "));
        Assert.Throws<UsageException>(() => ReplCompletion.Split("search show \"open"));
    }

    [Fact]
    public void Tab_completes_palettes_verbs_options_and_the_endpoint_s_search_names()
    {
        var root = CliApp.Create();
        Assert.Equal(["cluster", "controller"], ReplCompletion.Candidates(root, "c").Where(c => c.StartsWith('c')));
        Assert.Equal(["show"], ReplCompletion.Candidates(root, "cluster sh"));
        Assert.Equal(["down", "down-unreachable"], ReplCompletion.Candidates(root, "cluster do"));
        Assert.Contains("--json", ReplCompletion.Candidates(root, "cluster show --"));
        Assert.Contains("--status", ReplCompletion.Candidates(root, "search trials --s"));
        var searches = ReplCompletion.Candidates(root, "search show ", path => path == "search show" ? ["alpha", "beta"] : []);
        Assert.Equal(["alpha", "beta"], searches);
        Assert.Empty(ReplCompletion.Candidates(root, "search show alpha ", _ => ["alpha"]));
        Assert.Equal(["exit"], ReplCompletion.Candidates(root, "ex"));

        Assert.Equal("cluster show ", ReplCompletion.Complete("cluster sh", ["show"]));
        Assert.Equal("cluster down", ReplCompletion.Complete("cluster do", ["down", "down-unreachable"]));
        Assert.Equal("cluster x", ReplCompletion.Complete("cluster x", []));
    }

    [Theory]
    [InlineData("clustr show", "'clustr' (did you mean 'cluster'?)")]
    [InlineData("cluster shwo", "'shwo' (did you mean 'show'?)")]
    [InlineData("search trails s", "'trails', 's' (did you mean 'trials'?)")]
    [InlineData("search tial s", "'tial', 's' (did you mean 'tail'?)")]
    [InlineData("cluster show --jsn", "--jsn (did you mean '--json'?)")]
    [InlineData("--endpoint 127.0.0.1:1 serch list", "'serch' (did you mean 'search'?)")]
    public async Task An_unknown_palette_verb_or_option_suggests_the_nearest(string line, string expected)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = await CliApp.Run(line.Split(' '), output, error);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_word_far_from_every_name_gets_no_suggestion()
    {
        Assert.Empty(CliApp.Nearest("frobnicate", ["search", "cluster", "controller"]));
        Assert.Equal("", CliApp.Suggest("zzz", ["show", "tail"]));
    }

    [Fact]
    public void Controller_status_names_the_journal_without_its_password()
    {
        Assert.Equal(("sqlite", "/var/lib/autodropout/autodropout.db"), ControllerNode.DescribeJournal("SQLite.MS", "Data Source=/var/lib/autodropout/autodropout.db"));
        var (kind, location) = ControllerNode.DescribeJournal("PostgreSQL.15", "Host=db.internal;Port=5432;Database=autodropout;Username=ad;Password=hunter2");
        Assert.Equal("postgres", kind);
        Assert.Equal("db.internal:5432/autodropout as ad", location);
        Assert.DoesNotContain("hunter2", location, StringComparison.Ordinal);

        var status = new ControllerStatus("akka.tcp://autodropout@10.0.0.5:4054", "sqlite", "/x.db", "abc", 3, 1, new DateTimeOffset(2026, 1, 2, 3, 0, 0, TimeSpan.Zero));
        var lines = ControllerCommands.StatusLines(status, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)).ToList();
        Assert.Equal("singleton:  akka.tcp://autodropout@10.0.0.5:4054", lines[0]);
        Assert.Equal("journal:    sqlite /x.db (id abc)", lines[1]);
        Assert.Equal("snapshot:   newest 4 min 5 s ago (2026-01-02 03:00:00 UTC)", lines[2]);
        Assert.Equal("searches:   3 loaded, 1 evaluation jobs", lines[3]);
        Assert.Equal("snapshot:   none", ControllerCommands.StatusLines(status with { NewestSnapshot = null }, DateTimeOffset.UtcNow).ElementAt(2));
    }
}

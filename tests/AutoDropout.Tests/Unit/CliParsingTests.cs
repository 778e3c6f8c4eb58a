using AutoDropout.Cli;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

/// <summary>The command line parsed in process: help, usage errors, exit codes and the defaults each verb reads.</summary>
public sealed class CliParsingTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = CliApp.Run(args, output, error).GetAwaiter().GetResult();
        return (code, output.ToString(), error.ToString());
    }

    private static string OneLine(string text)
    {
        var lines = text.TrimEnd().Split('\n');
        Assert.Single(lines);
        return lines[0];
    }

    [Theory]
    [InlineData("demo", "--trials --json --steps --trainers --data --work-dir --timeout --name --spec --dashboard")]
    [InlineData("search start", "NAME --trials --steps --epochs --target --seed --batch-size --lr --policy-batch --lease-seconds --data --context --reward-scale --baselines --spec --optimizer --weight-decay --schedule --no-data-check --endpoint --token --json")]
    [InlineData("search list", "--endpoint --token --json")]
    [InlineData("search show", "NAME --endpoint --json")]
    [InlineData("search pause", "NAME --endpoint --token")]
    [InlineData("search resume", "NAME --endpoint --token")]
    [InlineData("search stop", "NAME --endpoint --token")]
    [InlineData("search extend", "NAME --trials --endpoint --token")]
    [InlineData("search delete", "NAME --endpoint --token --json")]
    [InlineData("cluster show", "--endpoint --json")]
    [InlineData("cluster tail", "--count --for --interval --endpoint --json")]
    [InlineData("cluster leave", "ADDRESS --timeout --endpoint --token --json")]
    [InlineData("cluster down", "ADDRESS --endpoint --token --json")]
    [InlineData("cluster down-unreachable", "--endpoint --token --json")]
    [InlineData("search trials", "NAME --status --sort --top --endpoint --json")]
    [InlineData("search best", "NAME --endpoint --json")]
    [InlineData("search tail", "NAME --interval --endpoint --json")]
    [InlineData("search export", "NAME --format --out --endpoint --json")]
    [InlineData("controller status", "--endpoint --token --json")]
    [InlineData("repl", "host:port --endpoint --token --endpoint-cert")]
    [InlineData("controller verify", "NAME --db --persistence --endpoint --token --endpoint-cert --json")]
    [InlineData("train", "--baseline --pattern --target --steps --epochs --seed --data --on-test --optimizer --weight-decay --schedule --context --reward-scale")]
    [InlineData("pattern sample", "--space --target --seed --json")]
    [InlineData("pattern render", "PATTERN --out --target --seed --input --length")]
    [InlineData("data subset", "--from --out --train --test")]
    [InlineData("data info", "--data")]
    [InlineData("node", "seed controller trainer")]
    [InlineData("node trainer", "--seed-nodes --cmd-port --devices --config")]
    [InlineData("node controller", "--db --persistence --cmd-port")]
    [InlineData("bench", "step trial soak controller")]
    public void Every_verb_has_help_that_names_its_options(string verb, string expected)
    {
        var (code, output, error) = Run([.. verb.Split(' '), "--help"]);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal("", error);
        Assert.Contains($"autodropout {verb}", output);
        foreach (var name in expected.Split(' ')) Assert.Contains(name, output);
    }

    [Fact]
    public void Version_prints_the_solution_version_and_the_commit_it_was_built_from()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Matches(@"^autodropout [0-9]+\.[0-9]+\.[0-9]+\+([0-9a-f]{12}|unknown)$", output.Trim());
        Assert.Equal($"autodropout {AutoDropout.Cluster.ProductVersion.Full}", output.Trim());
    }

    [Fact]
    public void Nodes_of_the_same_minor_version_are_compatible_and_others_are_not_before_1_0()
    {
        Assert.True(AutoDropout.Cluster.ProductVersion.Compatible("0.2.0", "0.2.7"));
        Assert.False(AutoDropout.Cluster.ProductVersion.Compatible("0.2.0", "0.3.0"));
        Assert.True(AutoDropout.Cluster.ProductVersion.Compatible("1.2.0", "1.5.1"));
        Assert.False(AutoDropout.Cluster.ProductVersion.Compatible("1.2.0", "2.0.0"));
        Assert.False(AutoDropout.Cluster.ProductVersion.Compatible("0.2.0", "assembly-version"));
    }

    [Fact]
    public void No_arguments_print_usage_and_exit_2_and_help_exits_0()
    {
        var (code, output, _) = Run();
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("search", output);
        Assert.Contains("Exit codes", output);

        var help = Run("--help");
        Assert.Equal(ExitCodes.Ok, help.Code);
        Assert.Equal(output, help.Output);
        // --help anywhere after a verb, as before
        Assert.Equal(ExitCodes.Ok, Run("node", "trainer", "--devices", "cpu", "--help").Code);
    }

    [Theory]
    [InlineData("frobnicate", "'frobnicate'")]
    [InlineData("search frobnicate", "'frobnicate'")]
    [InlineData("search start s --bogus 3", "unknown option(s): --bogus")]
    [InlineData("search list --trials 3", "--trials")]
    [InlineData("demo --endpoint 127.0.0.1:9110", "--endpoint")]
    [InlineData("controller verify s --trials 3", "--trials")]
    [InlineData("pattern sample extra", "'extra'")]
    [InlineData("train --context 16", "--context applies to language models")]
    [InlineData("search start s --trials many", "--trials: 'many' is not a whole number")]
    [InlineData("search start s --lr fast", "--lr: 'fast' is not a number")]
    [InlineData("search", "autodropout search --help")]
    public void Unknown_verbs_options_and_bad_values_exit_2_with_one_line(string line, string expected)
    {
        var (code, output, error) = Run(line.Split(' '));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        var message = OneLine(error);
        Assert.StartsWith("autodropout: ", message);
        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData("controller verify", "NAME")]
    [InlineData("search show", "search show needs a search name")]
    [InlineData("search stop --json", "search stop needs a search name")]
    [InlineData("search delete", "search delete needs a search name")]
    [InlineData("search start", "search start needs a search name")]
    [InlineData("pattern render --out x.png", "PATTERN")]
    [InlineData("pattern render s3", "--out")]
    [InlineData("data subset", "--out")]
    [InlineData("search extend s", "search extend needs --trials N")]
    public void A_missing_required_argument_exits_2_and_says_what_is_missing(string line, string expected)
    {
        var (code, _, error) = Run(line.Split(' '));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, OneLine(error));
    }

    [Fact]
    public void Bad_input_is_one_line_without_a_stack_trace()
    {
        var (code, _, error) = Run("pattern", "render", "s3 t8 r2 rot30 sx0.2 sy0 c0 res0 | s2 tt", "--out", Path.Combine(Path.GetTempPath(), "never.png"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("site 1", OneLine(error));

        var missing = Run("pattern", "render", "missing.json", "--out", "x.png");
        Assert.Equal(ExitCodes.Failed, missing.Code);
        Assert.Contains("missing.json", OneLine(missing.Error));
    }

    [Theory]
    [InlineData("search list")]
    [InlineData("search show s")]
    [InlineData("search pause s")]
    [InlineData("cluster show")]
    [InlineData("cluster tail")]
    [InlineData("cluster down 127.0.0.1:4053")]
    [InlineData("search trials s")]
    [InlineData("search tail s")]
    [InlineData("controller status")]
    public void An_endpoint_nobody_listens_on_exits_3_with_one_line_naming_the_address(string command)
    {
        var (code, _, error) = Run([.. command.Split(' '), "--endpoint", "127.0.0.1:1", "--token", "t"]);
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.StartsWith("autodropout: cannot reach 127.0.0.1:1: ", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public void Search_start_checks_the_data_here_before_sending_the_spec_unless_told_not_to()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"autodropout-no-data-{Guid.NewGuid():N}");
        var (code, _, error) = Run("search", "start", "s", "--data", missing, "--endpoint", "127.0.0.1:1", "--token", "t");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"data check: {missing}: no such directory", OneLine(error));
        Assert.Contains("--no-data-check", error);

        // the trainers' hosts have it, this one does not: the spec goes to the endpoint (here, nobody)
        (code, _, error) = Run("search", "start", "s", "--data", missing, "--no-data-check", "--endpoint", "127.0.0.1:1", "--token", "t");
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("cannot reach 127.0.0.1:1", OneLine(error));
    }

    [Fact]
    public void The_demo_refuses_data_it_cannot_train_on_before_it_starts_any_node()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"autodropout-no-data-{Guid.NewGuid():N}");
        var workDir = Path.Combine(Path.GetTempPath(), $"autodropout-demo-{Guid.NewGuid():N}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, output, error) = Run("demo", "--data", missing, "--work-dir", workDir);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"data check: {missing}: no such directory", OneLine(error));
        Assert.Equal("", output);
        Assert.False(Directory.Exists(workDir)); // no node was started: none wrote its log there
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("demo --json")]
    [InlineData("search start s --json")]
    [InlineData("search list --json")]
    [InlineData("search show s --json")]
    [InlineData("search pause s --json")]
    [InlineData("search resume s --json")]
    [InlineData("search stop s --json")]
    [InlineData("search extend s --trials 2 --json")]
    [InlineData("cluster show --json")]
    [InlineData("cluster tail --count 2 --for 30s --json")]
    [InlineData("cluster leave --timeout 10s --json")]
    [InlineData("cluster leave 127.0.0.1:4053 --json")]
    [InlineData("cluster down 127.0.0.1:4053 --json")]
    [InlineData("cluster down-unreachable --json")]
    [InlineData("search trials s --status completed --sort reward --top 3 --json")]
    [InlineData("search best s --json")]
    [InlineData("search tail s --json")]
    [InlineData("search export s --format csv --out x.csv --json")]
    [InlineData("controller status --json")]
    [InlineData("controller verify s --json")]
    [InlineData("pattern sample --json")]
    [InlineData("--json search list")]
    public void Json_is_accepted_where_it_was(string line) => Assert.Empty(CliApp.Parse(line.Split(' ')).Errors);

    [Theory]
    [InlineData("pattern render s3 --out x.png --json")]
    [InlineData("data info --json")]
    [InlineData("train --json")]
    public void Json_is_refused_where_it_never_was(string line) => Assert.NotEmpty(CliApp.Parse(line.Split(' ')).Errors);

    [Theory]
    [InlineData("--endpoint 10.0.0.5:9110 search list")]
    [InlineData("--endpoint=10.0.0.5:9110 search list")]
    [InlineData("10.0.0.5:9110 search list")]
    [InlineData("search --endpoint 10.0.0.5:9110 list")]
    [InlineData("search list --endpoint 10.0.0.5:9110")]
    [InlineData("10.0.0.5:9110 controller verify s")]
    public void The_endpoint_may_come_before_or_after_the_palette(string line)
    {
        var parsed = CliApp.Parse(line.Split(' '));
        Assert.Empty(parsed.Errors);
        Assert.Equal("10.0.0.5:9110", parsed.GetValue<string?>("--endpoint"));
    }

    [Fact]
    public void Search_start_defaults_are_the_specs_defaults()
    {
        Assert.Equal(new SearchSpec("s"), SearchCommands.StartSpec(CliApp.Parse(["search", "start", "s"])));
        Assert.Equal(new SearchSpec("s"), SearchCommands.StartSpec(CliApp.Parse(["search", "start", "--name", "s"])));

        var spec = SearchCommands.StartSpec(CliApp.Parse(["search", "start", "s", "--trials", "50", "--steps", "200", "--lr", "0.01",
            "--optimizer", "SGD", "--baselines", "dropout:0.1, dropblock:3:0.9"]));
        Assert.Equal(new SearchSpec("s", Trials: 50, TrainSteps: 200, LearningRate: 0.01,
            Optimizer: new OptimizerSettings(OptimizerSettings.Sgd), Baselines: spec.Baselines), spec);
        Assert.Equal(["dropout:0.1", "dropblock:3:0.9"], spec.Baselines);

        var lm = SearchCommands.StartSpec(CliApp.Parse(["search", "start", "lm", "--target", "lm-2-64-4", "--data", "corpus", "--context", "16"]));
        Assert.Equal((SearchSpec.TransformerSpace, SearchSpec.TextDataset, "corpus", 16, 1.0),
            (lm.Space, lm.Dataset, lm.DataDirectory, lm.TextOrDefault.Context, lm.TextOrDefault.RewardScale));
    }

    [Fact]
    public void Search_start_options_override_a_spec_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{"name": "ignored", "trials": 30, "train_steps": 60, "seed": 9}""");
        try
        {
            var spec = SearchCommands.StartSpec(CliApp.Parse(["search", "start", "s", "--spec", file, "--trials", "5"]));
            Assert.Equal(("s", 5, 60, 9L), (spec.Name, spec.Trials, spec.TrainSteps, spec.Seed));
        }
        finally { File.Delete(file); }
        Assert.Throws<UsageException>(() => SearchCommands.StartSpec(CliApp.Parse(["search", "start", "s", "--trials", "0"])));
    }

    [Fact]
    public void Demo_defaults_are_todays()
    {
        var demo = DemoCommand.Read(CliApp.Parse(["demo"]));
        Assert.Equal(new DemoCommand.Settings(new SearchSpec("demo") with { DataDirectory = "embedded", PolicyBatch = 4 }), demo);
        Assert.Equal((2, 900, false, false), (demo.Trainers, demo.TimeoutSeconds, demo.Json, demo.Dashboard));
        Assert.True(DemoCommand.Read(CliApp.Parse(["demo", "--dashboard"])).Dashboard);
        Assert.Null(demo.WorkDir);

        var ci = DemoCommand.Read(CliApp.Parse(["demo", "--trials", "4", "--json", "--policy-batch", "2", "--trainers", "1"]));
        Assert.Equal((4, 2, 1, true), (ci.Spec.Trials, ci.Spec.PolicyBatch, ci.Trainers, ci.Json));
    }

    [Fact]
    public void Evaluate_defaults_are_todays()
    {
        var options = TrainOptions.Read(CliApp.Parse(["train"]));
        Assert.Equal(new TrainOptions(), options);
        Assert.Equal(("cnn", 1, 1, 1e-3, false), (options.Target, options.Seed, options.Threads, options.LearningRate, options.OnTest));
        // the step and batch defaults depend on the target family, so they are applied once the target is known
        Assert.Null(options.Steps);
        Assert.Null(options.BatchSize);
        Assert.Null(options.Optimizer);

        var lm = TrainOptions.Read(CliApp.Parse(["train", "--target", "lm-2-64-4", "--data", "ptb", "--context", "16", "--reward-scale", "80",
            "--on-test", "--schedule", "cosine", "--pattern", "s2 t8 hidden on"]));
        Assert.Equal(new TrainOptions("lm-2-64-4", Pattern: "s2 t8 hidden on", OnTest: true, Data: "ptb",
            Optimizer: new OptimizerSettings(Schedule: OptimizerSettings.Cosine), Context: 16, RewardScale: 80), lm);
    }

    [Fact]
    public void Train_maps_a_pattern_found_on_another_target_to_its_target()
    {
        // a distinct size per site, so the mapping is visible in the trial's pattern
        var found = string.Join(" | ", Enumerable.Range(1, 13).Select(i => $"s{i} t2 r1 rot0 sx0 sy0 c1 res0"));
        var options = TrainOptions.Read(CliApp.Parse(["train", "--target", "wrn-28-2", "--pattern", found, "--pattern-from", "wrn-16-2"]));
        Assert.Equal("wrn-16-2", options.PatternFrom);

        var spec = TrainCommand.Spec(options);
        Assert.Equal("wrn-28-2", spec.Target);
        Assert.Equal(PatternTransfer.Map(ConvPattern.ParseCompact(found), "wrn-16-2", "wrn-28-2"), spec.Regulariser);
        Assert.Equal(25, spec.Regulariser.SiteCount);
        Assert.Equal([1, 2, 1, 2, 3, 4, 3, 4], ((ConvPattern)spec.Regulariser).Sites.Take(8).Select(s => s.Size));

        // without --pattern-from the pattern must fit --target as it is
        Assert.Throws<PatternException>(() => TrainCommand.Spec(options with { PatternFrom = null }));
        Assert.Contains("different sites", Assert.Throws<UsageException>(() => TrainCommand.Spec(options with { PatternFrom = "cnn" })).Message,
            StringComparison.Ordinal);
        Assert.Throws<UsageException>(() => TrainCommand.Spec(options with { Pattern = null }));
    }

    [Fact]
    public void Node_options_are_parsed_by_the_role_and_bench_gets_every_token_after_its_name()
    {
        var parsed = CliApp.Parse(["node", "seed", "--port", "4053", "--cmd-port", "-1", "--ready-file", "r.json", "--token-file=t"]);
        Assert.Empty(parsed.Errors);
        var options = AutoDropout.Cluster.NodeCommandLine.Options(parsed);
        Assert.Equal((4053, -1, "r.json", "t"), (options.Port, options.CommandPort, options.ReadyFile, options.TokenFile));
        Assert.Null(options.Host); // not given: the environment, then the HOCON files decide

        Assert.Empty(CliApp.Parse(["bench", "soak", "--trials", "3", "--no-trim"]).Errors);
    }
}

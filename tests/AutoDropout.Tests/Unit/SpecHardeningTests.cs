using System.Net;
using System.Text;
using Akka.Actor;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Tests.Unit;

/// <summary>Specs an operator can get wrong: too large, not buildable, numbers that overflow, nulls and unknown fields.</summary>
public sealed class SpecHardeningTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = CliApp.Run(args, output, error).GetAwaiter().GetResult();
        return (code, output.ToString(), error.ToString());
    }

    private static string Json(object message) => Encoding.UTF8.GetString(MessageCodec.ToBinary(message));

    private static SearchCreated Created(string json) =>
        (SearchCreated)MessageCodec.FromBinary(Encoding.UTF8.GetBytes(json), MessageCodec.Manifest(new SearchCreated(new SearchSpec("s"))));

    private static readonly SearchSpec Lm = new("s", Target: "lm-2-64-4", Space: SearchSpec.TransformerSpace, Dataset: SearchSpec.TextDataset, DataDirectory: "corpus");

    public static TheoryData<SearchSpec, string> TooLarge() => new()
    {
        { new SearchSpec("s", Target: "wrn-100000-1"), "depth at most 100" },
        { new SearchSpec("s", Target: "wrn-106-1"), "depth at most 100" },
        { new SearchSpec("s", Target: "wrn-28-21"), "widen factor at most 20" },
        { Lm with { Target = "lm-25-64-4" }, "at most 24 layers" },
        { Lm with { Target = "lm-2-8192-4" }, "width at most 4096" },
        { Lm with { Target = "lm-2-4096-128" }, "at most 64 heads" },
        { Lm with { Text = new TextOptions(Context: 4097) }, "text.context" },
        { new SearchSpec("s", Trials: 100_001), "trials" },
        { new SearchSpec("s", TrainSteps: 1_000_001), "train_steps" },
        { new SearchSpec("s", TrainEpochs: 1001), "train_epochs" },
        { new SearchSpec("s", BatchSize: 8193), "batch_size" },
        { new SearchSpec("s", PolicyBatch: 1025), "policy_batch" },
        { new SearchSpec("s", LeaseSeconds: int.MaxValue), "lease_seconds" },
        { new SearchSpec("s", Policy: new PolicyOptions(Width: 512, Heads: 2)), "policy.width" },
        { new SearchSpec("s", Policy: new PolicyOptions(Layers: 9)), "policy.layers" },
        { new SearchSpec("s", Policy: new PolicyOptions(Width: 256, Heads: 64)), "policy.heads" },
        { new SearchSpec("s", Grid: ConvSearchSpace.Default with { Sizes = [.. Enumerable.Range(1, 65)] }), "grid.sizes: at most 64 values" },
        { new SearchSpec("s", Grid: ConvSearchSpace.Default with { Strides = [1, 100_000] }), "grid.strides" },
        { new SearchSpec("s", Baselines: [.. Enumerable.Repeat("none", 101)]), "baselines: at most 100" },
        { new SearchSpec("s", Baselines: ["dropblock:99999999999:0.9"]), "block size is at most 4096" },
    };

    [Theory]
    [MemberData(nameof(TooLarge))]
    public void A_spec_beyond_a_limit_is_refused_naming_the_field(SearchSpec spec, string expected)
    {
        var e = Assert.Throws<ArgumentException>(spec.Validate);
        Assert.Contains(expected, e.Message);
        var decision = SearchDecider.Decide(null, new SearchCommand.Start(spec), null);
        Assert.Empty(decision.Events); // refused before anything is persisted
        Assert.Equal(RejectionKind.Invalid, decision.Rejected!.Kind);
    }

    [Fact]
    public void The_limits_themselves_are_allowed()
    {
        new SearchSpec("s", Target: "wrn-100-20", Trials: 100_000, TrainSteps: 1_000_000, BatchSize: 8192, PolicyBatch: 1024,
            LeaseSeconds: 7 * 24 * 3600, TrainEpochs: 1000, Policy: new PolicyOptions(Layers: 8, Width: 256, Heads: 32)).Validate();
        (Lm with { Target = "lm-24-4096-64", Text = new TextOptions(Context: 4096) }).Validate();
        new SearchSpec("s", Target: "wrn-28-10").Validate();
    }

    [Fact]
    public void A_search_persisted_before_the_limits_still_replays()
    {
        var old = new SearchSpec("old", Target: "wrn-106-1", Trials: 200_000, BatchSize: 10_000);
        using var model = SearchModel.Replay([Created(Json(new SearchCreated(old)))],
            spec => new RandomPolicy(spec.PatternSpace.VocabularySizes(), spec.MaskSites, 0.9));
        Assert.Equal(old.Target, model.State!.Spec.Target);
        Assert.Equal(103, model.State.Spec.MaskSites);
    }

    [Fact]
    public void An_extension_past_the_trial_limit_is_refused()
    {
        using var model = new SearchModel(spec => new RandomPolicy(spec.PatternSpace.VocabularySizes(), spec.MaskSites, 0.9));
        foreach (var e in model.Decide(new SearchCommand.Start(new SearchSpec("s", Trials: 10))).Events) model.Apply(e);
        var decision = model.Decide(new SearchCommand.Extend(int.MaxValue));
        Assert.Empty(decision.Events);
        Assert.Contains("at most 100000", decision.Rejected!.Reason);
        Assert.Single(model.Decide(new SearchCommand.Extend(99_990)).Events);
    }

    [Fact]
    public void A_spec_whose_policy_cannot_be_built_is_refused_and_not_persisted()
    {
        using var model = new SearchModel(_ => throw new ArgumentOutOfRangeException("length", "the policy cannot be this long"));
        var decision = model.Decide(new SearchCommand.Start(new SearchSpec("s")));
        Assert.Empty(decision.Events);
        Assert.Equal(RejectionKind.Invalid, decision.Rejected!.Kind);
        Assert.Contains("policy: cannot be built", decision.Rejected.Reason);
        Assert.Null(model.State);
    }

    [Fact]
    public void The_policy_built_to_check_a_spec_is_the_one_the_search_uses()
    {
        int built = 0;
        using var model = new SearchModel(spec => { built++; return new RandomPolicy(spec.PatternSpace.VocabularySizes(), spec.MaskSites, 0.9); });
        foreach (var e in model.Decide(new SearchCommand.Start(new SearchSpec("s"))).Events) model.Apply(e);
        Assert.NotNull(model.Policy);
        Assert.Equal(1, built);
    }

    [Theory]
    [InlineData("wrn-99999999999-1", "depth 99999999999 is too large")]
    [InlineData("wrn-28-99999999999", "widen factor 99999999999 is too large")]
    public void A_target_number_too_large_for_its_type_is_a_bad_name(string target, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => TargetSpec.Parse(target));
        Assert.Contains(expected, e.Message);
        Assert.Contains("too large", Assert.Throws<ArgumentException>(() => LanguageModelSpec.Parse("lm-99999999999-64-4")).Message);
    }

    [Theory]
    [InlineData("search start s --target wrn-99999999999-1", "depth 99999999999 is too large")]
    [InlineData("search start s --target lm-2-99999999999-4 --data corpus", "width 99999999999 is too large")]
    [InlineData("search start s --target wrn-100000-1", "depth at most 100")]
    [InlineData("search start s --trials 99999999999", "--trials: 99999999999 is too large")]
    [InlineData("search start s --seed 99999999999999999999", "--seed: 99999999999999999999 is too large")]
    [InlineData("train --target wrn-99999999999-1", "too large")]
    [InlineData("pattern sample --target wrn-99999999999-1", "too large")]
    public void Numbers_too_large_on_the_command_line_exit_2_with_one_line(string line, string expected)
    {
        var (code, output, error) = Run(line.Split(' '));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        var lines = error.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("autodropout: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [Theory]
    [InlineData("""{"name": "s", "target": null}""", "$.target")]
    [InlineData("""{"name": "s", "dataset": null}""", "$.dataset")]
    [InlineData("""{"name": "s", "policy": {"kind": null}}""", "$.policy.kind")]
    [InlineData("""{"name": "s", "trails": 30}""", "'trails'")]
    [InlineData("""{"name": "s", "policy": {"widht": 64}}""", "'widht'")]
    [InlineData("""{"name": "s", "trials": 99999999999}""", "$.trials")]
    public void Spec_input_is_strict_and_names_the_field(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => SpecInput.ReadSearchSpec(json));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_spec_search_show_prints_is_valid_spec_input()
    {
        var spec = new SearchSpec("s", Seed: long.MaxValue, Baselines: ["dropout:0.1"], Policy: new PolicyOptions(Kind: PolicyOptions.Random));
        var details = Json(new SearchCreated(spec));
        using var document = System.Text.Json.JsonDocument.Parse(details);
        Assert.Equal(spec with { Baselines = null }, SpecInput.ReadSearchSpec(document.RootElement.GetProperty("spec").GetRawText()) with { Baselines = null });
        Assert.Equal(long.MaxValue, SpecInput.ReadSearchSpec(ControlClient.SpecJson(spec)).Seed);
    }

    [Fact]
    public void A_persisted_spec_with_a_field_unknown_today_still_reads()
    {
        var json = Json(new SearchCreated(new SearchSpec("s")));
        var withExtra = json.Replace("\"name\":\"s\"", "\"name\":\"s\",\"from_the_future\":1", StringComparison.Ordinal);
        Assert.NotEqual(json, withExtra);
        Assert.Equal("s", Created(withExtra).Spec.Name);
    }

    [Fact]
    public void A_64_bit_seed_in_a_spec_file_or_on_the_command_line_is_kept_exactly()
    {
        var file = Path.Combine(Path.GetTempPath(), $"autodropout-spec-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(file, """{"seed": 9223372036854775807, "trials": 3}""");
            var spec = SearchCommands.StartSpec(CliApp.Parse(["search", "start", "s", "--spec", file]));
            Assert.Equal(long.MaxValue, spec.Seed);
            Assert.Equal(3, spec.Trials);
            Assert.Equal(5_000_000_000, SearchCommands.StartSpec(CliApp.Parse(["search", "start", "s", "--seed", "5000000000"])).Seed);

            File.WriteAllText(file, """{"trails": 3}""");
            var (code, _, error) = Run("search", "start", "s", "--spec", file);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("'trails'", error);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task The_endpoint_answers_400_naming_the_field_for_a_null_or_unknown_one()
    {
        using var system = ActorSystem.Create("endpoint-spec-test");
        using var endpoint = new CommandEndpoint(system, ActorRefs.Nobody, "127.0.0.1", 0, new CommandTokens("t", "r"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "t");
        async Task<(HttpStatusCode, string)> Post(string path, string body)
        {
            using var response = await http.PostAsync(new Uri($"http://127.0.0.1:{endpoint.Port}/{path}"), new StringContent(body, Encoding.UTF8, "application/json"));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var (status, text) = await Post("v1/searches", """{"name": "s", "target": null}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("$.target", text);
        (status, text) = await Post("v1/searches", """{"name": "s", "trails": 3}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("trails", text);
        (status, text) = await Post("v1/searches", """{"name": "s", "target": "wrn-100000-1"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("depth at most 100", text);
        (status, text) = await Post("v1/evaluations", """{"search": "s", "seedz": 3}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("seedz", text);
        await system.Terminate();
    }
}

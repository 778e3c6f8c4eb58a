using AutoDropout.Core;
using AutoDropout.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class BaselineTests
{
    [Fact]
    public void DropBlock_gamma_follows_its_formula()
    {
        // (1 - 0.9) / 7^2 * 28^2 / (28 - 7 + 1)^2
        Assert.Equal(0.1 / 49 * 784 / 484, DropBlock.Gamma(0.9, 7, 28, 28), 12);
        Assert.Equal(0.0, DropBlock.Gamma(1.0, 3, 14, 14));
    }

    [Theory]
    [InlineData(3, 0.9)]
    [InlineData(5, 0.8)]
    [InlineData(4, 0.9)]
    public void DropBlock_drops_about_one_minus_keep_prob_in_blocks_and_keeps_the_mean(int block, double keep)
    {
        using var g = new Generator(3);
        using var dropBlock = new DropBlock(block, keep, g);
        dropBlock.train();
        using var x = ones(64, 16, 28, 28);
        using var y = dropBlock.call(x);
        Assert.Equal(x.shape, y.shape);
        double kept = y.gt(0).to_type(float32).mean().item<float>();
        Assert.InRange(kept, keep - 0.04, keep + 0.04);
        Assert.Equal(1.0, y.mean().item<float>(), 3);
    }

    [Fact]
    public void DropBlock_keep_prob_is_scheduled_from_one_to_its_target()
    {
        using var g = new Generator(1);
        using var dropBlock = new DropBlock(3, 0.8, g) { Progress = 0 };
        Assert.Equal(1.0, dropBlock.KeepProbability);
        dropBlock.Progress = 0.5;
        Assert.Equal(0.9, dropBlock.KeepProbability, 12);
        dropBlock.Progress = 1;
        Assert.Equal(0.8, dropBlock.KeepProbability, 12);
    }

    [Theory]
    [InlineData("dropout:0.3")]
    [InlineData("spatial:0.2")]
    [InlineData("dropblock:5:0.9")]
    public void Every_baseline_is_the_identity_at_evaluation_and_drops_in_training(string text)
    {
        using var g = new Generator(2);
        using var module = BaselineSpec.Parse(text).CreateModule(g);
        using var x = rand(8, 6, 14, 14, generator: g).add(0.1);
        module.eval();
        var evaluated = module.call(x); // may be x itself: not disposed here
        Assert.True(evaluated.eq(x).all().item<bool>());
        module.train();
        using var trained = module.call(x);
        Assert.True(trained.eq(0).any().item<bool>());
    }

    [Theory]
    [InlineData("dropblock:0:0.9")]
    [InlineData("dropout:1.5")]
    [InlineData("cutout:3")]
    [InlineData("dropblock:5")]
    public void Bad_baselines_are_refused(string text) => Assert.Throws<ArgumentException>(() => BaselineSpec.Parse(text));

    [Fact]
    public void An_unknown_kind_is_an_error_that_names_the_known_ones()
    {
        var message = Assert.Throws<ArgumentException>(() => BaselineSpec.Parse("cutout:3")).Message;
        foreach (var known in new[] { "none", "dropout:P", "spatial:P", "dropblock:SIZE:KEEP" }) Assert.Contains(known, message);
        Assert.Throws<ArgumentException>(() => BaselineSpec.None.CreateModule(new Generator(1)));
    }

    [Theory]
    [InlineData("none", RegulariserKind.None)]
    [InlineData("dropout:0.1", RegulariserKind.Dropout)]
    [InlineData("spatial:0.1", RegulariserKind.Spatial)]
    [InlineData("dropblock:3:0.9", RegulariserKind.DropBlock)]
    public void Typed_forms_parse_to_their_kind_and_print_back_as_typed(string text, RegulariserKind kind)
    {
        var baseline = BaselineSpec.Parse(text);
        Assert.Equal(kind, baseline.Kind);
        Assert.Equal(text, baseline.ToString());
        // persisted baseline trials name their baseline in this form
        Assert.Equal($"{{\"space\":\"baseline\",\"baseline\":\"{text}\"}}", DropoutPatternJsonConverter.Serialize(new BaselinePattern(baseline)));
    }

    [Theory]
    [InlineData("dropblock:3:0.9@late", RegulariserKind.DropBlock, BaselinePlacement.Late)]
    [InlineData("dropout:0.3@late", RegulariserKind.Dropout, BaselinePlacement.Late)]
    [InlineData("spatial:0.2@late", RegulariserKind.Spatial, BaselinePlacement.Late)]
    public void A_late_placement_parses_and_prints_back(string text, RegulariserKind kind, BaselinePlacement placement)
    {
        var baseline = BaselineSpec.Parse(text);
        Assert.Equal((kind, placement), (baseline.Kind, baseline.Placement));
        Assert.Equal(text, baseline.ToString());
        Assert.Equal(baseline, BaselineSpec.Parse(baseline.ToString()));
        Assert.Equal($"baseline {text}", new BaselinePattern(baseline).ToCompact());
        Assert.False(baseline.FitsLanguageModels);
    }

    [Theory]
    [InlineData("dropblock:3:0.9@all", "dropblock:3:0.9")]
    [InlineData("dropout:0.3@all", "dropout:0.3")]
    [InlineData("none@all", "none")]
    public void An_every_site_placement_prints_as_before_placements_existed(string text, string printed)
    {
        var baseline = BaselineSpec.Parse(text);
        Assert.Equal(BaselinePlacement.All, baseline.Placement);
        Assert.Equal(printed, baseline.ToString());
        Assert.Equal(BaselineSpec.Parse(printed), baseline);
        Assert.Equal(new BaselinePattern(BaselineSpec.Parse(printed)).Hash(), new BaselinePattern(baseline).Hash());
    }

    [Theory]
    [InlineData("dropblock:3:0.9@early")]
    [InlineData("dropout:0.1@late@all")]
    [InlineData("none@late")]
    public void Bad_placements_are_refused(string text) => Assert.Throws<ArgumentException>(() => BaselineSpec.Parse(text));

    /// <summary>Which sites of a freshly built target a baseline put a module at.</summary>
    private static int[] SitesWithModules(string target, string baseline)
    {
        using var model = MaskedTarget.Build(TargetSpec.Parse(target), 3, 10);
        using var g = new Generator(1);
        model.ApplyBaseline(BaselineSpec.Parse(baseline), g);
        return Enumerable.Range(0, model.Sites.Count).Where(i => model.Sites[i].Replacement is not null).ToArray();
    }

    [Fact]
    public void A_late_baseline_goes_to_the_last_two_groups_of_a_wide_resnet_and_the_last_site_of_the_cnn()
    {
        // WRN-16-2: 2 blocks per group, 2 sites per block, then the final BN: groups 1, 2, 3 hold sites 0-3, 4-7, 8-12
        using (var wrn = MaskedTarget.Build(TargetSpec.Parse("wrn-16-2"), 3, 10))
            Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3], wrn.SiteGroups);
        Assert.Equal(Enumerable.Range(4, 9), SitesWithModules("wrn-16-2", "dropblock:3:0.9@late"));
        Assert.Equal(Enumerable.Range(0, 13), SitesWithModules("wrn-16-2", "dropblock:3:0.9"));
        Assert.Equal([1], SitesWithModules("cnn", "dropblock:3:0.9@late"));
        Assert.Equal([0, 1], SitesWithModules("cnn", "dropout:0.3@all"));
    }

    [Fact]
    public void A_target_trains_with_a_baseline_at_every_site()
    {
        var (train, validation) = FashionMnist.LoadEmbedded().Train.SplitValidation(0.1, 1);
        using var data = new PreparedData(train, validation, CPU);
        var plan = new TrialPlan(20, 64, 2e-3, 5, new BaselinePattern(BaselineSpec.Parse("dropblock:3:0.9")));
        var completed = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn")), plan, CancellationToken.None));
        Assert.InRange(completed.Metrics.ValidationAccuracy, 0.4, 1.0);
        // "none" is no dropout: the same numbers as no regulariser at all
        var none = TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn")), new TrialPlan(3, 64, 2e-3, 5, new BaselinePattern(BaselineSpec.None)), CancellationToken.None);
        var nothing = TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn")), new TrialPlan(3, 64, 2e-3, 5), CancellationToken.None);
        Assert.Equal(Assert.IsType<TrialOutcome.Completed>(nothing).Metrics.FinalTrainLoss, Assert.IsType<TrialOutcome.Completed>(none).Metrics.FinalTrainLoss);
    }
}

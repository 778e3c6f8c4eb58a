using AutoDropout.Core;
using AutoDropout.Torch;
using AutoDropout.Training;

namespace AutoDropout.Tests.Unit;

/// <summary>The one place a trial spec becomes data and a plan, and the layering that keeps torch out of actors.</summary>
public class TrialPlannerTests
{
    private static readonly DeviceChoice Cpu = TorchRuntime.ParseDevice("cpu");

    private static TrialSpec Images(DropoutPattern? regulariser = null) =>
        new("cnn", "fashion-mnist", "embedded", new TrialBudget(7), 64, 1e-3, regulariser ?? new BaselinePattern(BaselineSpec.None),
            ValidationFraction: 0.1, SplitSeed: 1, TrialSeed: 5);

    [Fact]
    public void An_epoch_budget_becomes_steps_for_the_data_held_and_a_step_budget_stays()
    {
        var spec = Images();
        using var data = Assert.IsType<ImageTrialData>(TrialPlanner.LoadData(spec, Cpu));
        Assert.Equal(7, TrialPlanner.Plan(spec, data).Plan.Steps);
        var byEpochs = TrialPlanner.Plan(spec with { Budget = new TrialBudget(7, Epochs: 1.5) }, data).Plan;
        Assert.Equal(TrainingBudget.StepsFor(1.5, data.Prepared.TrainCount, 64), byEpochs.Steps);
        Assert.Equal((64, 1e-3, 5L), (byEpochs.BatchSize, byEpochs.LearningRate, byEpochs.Seed));
    }

    [Fact]
    public void A_spec_trains_exactly_as_the_loop_does_with_the_same_plan()
    {
        var pattern = ConvSearchSpace.Default.Decode(Enumerable.Range(0, 16).Select(i => i % 2).ToArray());
        var spec = Images(pattern);
        using var data = Assert.IsType<ImageTrialData>(TrialPlanner.LoadData(spec, Cpu));
        var planned = Assert.IsType<TrialOutcome.Completed>(TrialPlanner.Plan(spec, data).Run(CancellationToken.None));
        var direct = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(new ImageClassifierTrial(data.Prepared, TargetSpec.Parse("cnn")),
            new TrialPlan(7, 64, 1e-3, 5, pattern), CancellationToken.None));
        Assert.Equal(direct.Metrics with { ItemsPerSecond = 0, WallSeconds = 0 }, planned.Metrics with { ItemsPerSecond = 0, WallSeconds = 0 });
        Assert.Equal(planned.Metrics.ValidationAccuracy, planned.Metrics.Reward);
        Assert.Null(planned.Metrics.ValidationPerplexity);
    }

    [Fact]
    public void Another_dataset_at_the_path_or_a_pattern_of_the_other_space_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => TrialPlanner.LoadData(Images() with { Dataset = "cifar-10" }, Cpu));
        var spec = Images(TransformerPattern.ParseCompact("s2 t8 hidden on | s1 t4 head off"));
        using var data = TrialPlanner.LoadData(spec, Cpu);
        Assert.Contains("ConvNet patterns", Assert.Throws<ArgumentException>(() => TrialPlanner.Plan(spec, data)).Message);
        Assert.Throws<ArgumentException>(() => TrialPlanner.Plan(spec with { Target = "lm-1-32-4" }, data));
    }

    [Fact]
    public void Specs_share_loaded_data_only_when_they_agree_on_it()
    {
        var spec = Images();
        Assert.Equal(TrialPlanner.DataKey(spec), TrialPlanner.DataKey(spec with { TrialSeed = 9, Budget = new TrialBudget(1) }));
        Assert.NotEqual(TrialPlanner.DataKey(spec), TrialPlanner.DataKey(spec with { SplitSeed = 2 }));
        Assert.NotEqual(TrialPlanner.DataKey(spec), TrialPlanner.DataKey(spec with { ScoreOnTest = true }));
    }

    [Fact]
    public void The_controller_carries_no_training_code_and_actor_projects_no_torch()
    {
        static IEnumerable<string> References(Type type) => type.Assembly.GetReferencedAssemblies().Select(a => a.Name!);
        Assert.DoesNotContain("AutoDropout.Training", References(typeof(AutoDropout.Policy.ReinforceController)));
        Assert.DoesNotContain("AutoDropout.Training", References(typeof(AutoDropout.Cluster.Controller.SearchManager)));
        Assert.DoesNotContain("TorchSharp", References(typeof(AutoDropout.Cluster.Controller.SearchManager)));
        Assert.DoesNotContain("TorchSharp", References(typeof(AutoDropout.Cluster.Trainer.TrainingWorker)));
    }
}

using AutoDropout.Core;
using AutoDropout.Torch;
using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

public class TrainingTests
{
    private static readonly Lazy<(ImageSet Train, ImageSet Validation)> Data =
        new(() => FashionMnist.LoadEmbedded().Train.SplitValidation(0.1, 1));

    [Fact]
    public void A_short_trial_with_a_pattern_learns_far_beyond_chance_and_is_reproducible()
    {
        using var data = new PreparedData(Data.Value.Train, Data.Value.Validation, CPU);
        var target = TargetSpec.Parse("cnn");
        var pattern = ConvSearchSpace.Default.Decode(Enumerable.Range(0, 16).Select(i => i % 2).ToArray());
        var plan = new TrialPlan(30, 64, 2e-3, Seed: 5, pattern);

        var first = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(new ImageClassifierTrial(data, target), plan, CancellationToken.None));
        var second = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(new ImageClassifierTrial(data, target), plan, CancellationToken.None));
        Assert.InRange(first.Metrics.ValidationAccuracy, 0.5, 1.0);
        Assert.Equal(first.Metrics.ValidationAccuracy, second.Metrics.ValidationAccuracy);
        Assert.Equal(first.Metrics.FinalTrainLoss, second.Metrics.FinalTrainLoss);
        Assert.InRange(Assert.NotNull(first.Metrics.TrainAccuracy), 0.5, 1.0);
        Assert.Equal(first.Metrics.TrainAccuracy, second.Metrics.TrainAccuracy);
    }

    [Fact]
    public void The_train_accuracy_sample_is_fixed_as_large_as_the_validation_split_and_capped()
    {
        var sample = ImageClassifierTrial.TrainSample(50_000, 1_500);
        Assert.Equal(1_500, sample.Length);
        Assert.Equal(sample.Length, sample.Distinct().Count());
        Assert.All(sample, i => Assert.InRange(i, 0, 49_999));
        Assert.Equal(sample.Order(), sample);
        Assert.Equal(sample, ImageClassifierTrial.TrainSample(50_000, 1_500));
        Assert.NotEqual(Enumerable.Range(0, 1_500).Select(i => (long)i), sample); // a sample, not the first images

        Assert.Equal(ImageClassifierTrial.MaxTrainSample, ImageClassifierTrial.TrainSample(50_000, 20_000).Length);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), ImageClassifierTrial.TrainSample(300, 1_000));
    }

    [Fact]
    public void The_train_accuracy_is_the_accuracy_on_the_sampled_training_images()
    {
        using var data = new PreparedData(Data.Value.Train, Data.Value.Validation, CPU);
        using var model = TorchRuntime.Seeded(3, () => MaskedTarget.Build(TargetSpec.Parse("cnn"), data.InputChannels, data.Classes));
        using var index = tensor(ImageClassifierTrial.TrainSample(data.TrainCount, data.Validation.Images.shape[0]));
        using var images = data.Train.Images.index_select(0, index);
        using var labels = data.Train.Labels.index_select(0, index);
        Assert.Equal(ImageClassifierTrial.Evaluate(model, (images, labels), 100), ImageClassifierTrial.TrainAccuracy(model, data, 100));
    }

    [Fact]
    public void Sgd_with_weight_decay_and_a_cosine_schedule_learns()
    {
        using var data = new PreparedData(Data.Value.Train, Data.Value.Validation, CPU);
        var plan = new TrialPlan(30, 64, 0.05, Seed: 5,
            Optimizer: new OptimizerSettings(OptimizerSettings.Sgd, 5e-4, OptimizerSettings.Cosine));
        var completed = Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn")), plan, CancellationToken.None));
        Assert.InRange(completed.Metrics.ValidationAccuracy, 0.5, 1.0);
    }

    [Fact]
    public void The_cosine_schedule_falls_from_the_base_rate_to_zero()
    {
        var cosine = new OptimizerSettings(Schedule: OptimizerSettings.Cosine);
        Assert.Equal(0.1, cosine.LearningRateAt(0.1, 0, 100), 12);
        Assert.Equal(0.05, cosine.LearningRateAt(0.1, 50, 100), 12);
        Assert.InRange(cosine.LearningRateAt(0.1, 99, 100), 0, 1e-4);
        var rates = Enumerable.Range(0, 100).Select(s => cosine.LearningRateAt(0.1, s, 100)).ToArray();
        Assert.True(rates.Zip(rates.Skip(1), (before, after) => after < before).All(falls => falls));
        Assert.Equal(0.1, OptimizerSettings.Default.LearningRateAt(0.1, 99, 100));
        Assert.Contains("optimizer", Assert.Throws<ArgumentException>(() => new OptimizerSettings("lion").Validate()).Message);
        Assert.Contains("schedule", Assert.Throws<ArgumentException>(() => new OptimizerSettings(Schedule: "step").Validate()).Message);
    }

    [Fact]
    public void Cancelling_stops_a_trial_before_its_next_step()
    {
        using var data = new PreparedData(Data.Value.Train, Data.Value.Validation, CPU);
        using var cancel = new CancellationTokenSource();
        int lastStep = 0;
        var outcome = TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn")), new TrialPlan(1000, 32, 1e-3, Seed: 1), cancel.Token,
            (step, _) => { lastStep = step; if (step == 3) cancel.Cancel(); });
        var failed = Assert.IsType<TrialOutcome.Failed>(outcome);
        Assert.Equal((FailureReason.Cancelled, 3), (failed.Reason, lastStep));
    }

    [Fact]
    public void An_exploding_learning_rate_ends_the_trial_as_diverged()
    {
        using var data = new PreparedData(Data.Value.Train, Data.Value.Validation, CPU);
        var outcome = TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn")), new TrialPlan(40, 64, 1e30, Seed: 1), CancellationToken.None);
        var failed = Assert.IsType<TrialOutcome.Failed>(outcome);
        Assert.Equal(FailureReason.Diverged, failed.Reason);
    }

    [Fact]
    public void A_tiny_wide_resnet_with_a_pattern_and_sgd_lowers_its_loss()
    {
        using var data = new PreparedData(Data.Value.Train, Data.Value.Validation, CPU);
        var target = TargetSpec.Parse("wrn-10-1");
        var pattern = ConvSearchSpace.Default.Decode(Enumerable.Range(0, target.MaskSites * 8).Select(i => i % 2).ToArray());
        var losses = new List<double>();
        var plan = new TrialPlan(24, 32, 0.05, Seed: 3, pattern, EvalBatchSize: 200,
            Optimizer: new OptimizerSettings(OptimizerSettings.Sgd, 5e-4, OptimizerSettings.Cosine));
        Assert.IsType<TrialOutcome.Completed>(TrialLoop.Run(new ImageClassifierTrial(data, target), plan, CancellationToken.None, (_, loss) => losses.Add(loss)));
        Assert.True(losses.TakeLast(6).Average() < losses.Take(6).Average() - 0.3,
            $"loss should fall: first {losses.Take(6).Average():0.00}, last {losses.TakeLast(6).Average():0.00}");
    }

    [Fact]
    public void An_epoch_budget_becomes_enough_steps_to_see_every_example()
    {
        Assert.Equal(43, TrainingBudget.StepsFor(1, 5400, 128)); // 42.2 rounded up
        Assert.Equal(85, TrainingBudget.StepsFor(2, 5400, 128));
        Assert.Equal(1, TrainingBudget.StepsFor(0.001, 10, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingBudget.StepsFor(0, 10, 128));
    }

    [Fact]
    public void A_tiny_wide_resnet_takes_a_pattern_on_every_site()
    {
        using var model = TorchRuntime.Seeded(1, () => MaskedTarget.Build(TargetSpec.Parse("wrn-10-1"), 1, 10));
        Assert.Equal(7, model.Sites.Count);
        using var g = new Generator(1);
        model.ApplyPattern(ConvSearchSpace.Default.Decode(Enumerable.Range(0, 7 * 8).Select(i => i % 2).ToArray()), g);
        model.train();
        using var output = model.call(randn(4, 1, 28, 28, generator: g));
        Assert.Equal(new long[] { 4, 10 }, output.shape);
        Assert.Throws<PatternException>(() => { model.ApplyPattern(ConvSearchSpace.Default.Decode(new int[8]), g); });
    }
}

using System.Globalization;
using AutoDropout.Core;
using AutoDropout.Training;
using static TorchSharp.torch;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// Exact numbers from short trials of every kind, recorded once: any change to the trial loop that moves a single
/// draw, batch or operation order shows up here as a changed double.
/// </summary>
public class TrialReproducibilityTests
{
    private static readonly Lazy<(ImageSet Train, ImageSet Validation)> Images =
        new(() => FashionMnist.LoadEmbedded().Train.SplitValidation(0.1, 1));

    private static void Same(string recorded, string now)
    {
        if (recorded != now) Assert.Fail($"recorded {recorded}\nnow      {now}");
    }

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Record(TrialOutcome outcome, List<double> losses) => outcome switch
    {
        TrialOutcome.Completed { Metrics: { ValidationPerplexity: { } ppl } m } =>
            $"ppl={R(ppl)} acc={R(m.ValidationAccuracy)} reward={R(m.Reward)} loss={R(m.FinalTrainLoss)} steps={m.Steps} sum={R(losses.Sum())}",
        TrialOutcome.Completed { Metrics: var m } when m.Reward == m.ValidationAccuracy =>
            $"acc={R(m.ValidationAccuracy)} loss={R(m.FinalTrainLoss)} steps={m.Steps} sum={R(losses.Sum())}",
        _ => $"failed {outcome}",
    };

    private static string Cnn(ConvPattern? pattern, BaselineSpec? baseline, OptimizerSettings? optimizer, AugmentationOptions? augmentation)
    {
        using var data = new PreparedData(Images.Value.Train, Images.Value.Validation, CPU);
        var losses = new List<double>();
        var plan = new TrialPlan(12, 32, 2e-3, 5, baseline is null ? pattern : new BaselinePattern(baseline), optimizer, EvalBatchSize: 500);
        return Record(TrialLoop.Run(new ImageClassifierTrial(data, TargetSpec.Parse("cnn"), augmentation), plan, CancellationToken.None,
            (_, loss) => losses.Add(loss)), losses);
    }

    private static string Lm(TransformerPattern? pattern, BaselineSpec? dropout)
    {
        var random = new Random(3);
        long[] Stream(int n) => Enumerable.Range(0, n).Select(i => (long)(i % 4 == 3 ? 17 : random.Next(17))).ToArray();
        using var data = TokenStreams.FromIds(Stream(6000), Stream(800), 18, CPU);
        var losses = new List<double>();
        var plan = new TrialPlan(20, 8, 3e-3, 4, dropout is null ? pattern : new BaselinePattern(dropout),
            new OptimizerSettings(OptimizerSettings.Adam, 1e-4, OptimizerSettings.Cosine));
        return Record(TrialLoop.Run(new LanguageModelTrial(data, LanguageModelSpec.Parse("lm-1-32-4"), 16, rewardScale: 2.0), plan,
            CancellationToken.None, (_, loss) => losses.Add(loss)), losses);
    }

    [Fact]
    public void A_conv_pattern_trial_with_augmentation_gives_the_recorded_numbers()
    {
        var pattern = ConvSearchSpace.Default.Decode(Enumerable.Range(0, 16).Select(i => i % 8 < 6 ? i % 3 : i % 2).ToArray());
        Same("acc=0.42833333333333334 loss=1.1646790504455566 steps=12 sum=25.602781295776367", Cnn(pattern, null, null, new AugmentationOptions(2, true)));
    }

    [Fact]
    public void A_dropblock_baseline_trial_gives_the_recorded_numbers() =>
        Same("acc=0.55 loss=0.8237656354904175 steps=12 sum=20.320528984069824", Cnn(null, BaselineSpec.Parse("dropblock:3:0.8"), null, null));

    [Fact]
    public void A_spatial_baseline_trial_with_sgd_and_cosine_gives_the_recorded_numbers() =>
        Same("acc=0.2833333333333333 loss=2.1278421878814697 steps=12 sum=26.01617932319641", Cnn(null, BaselineSpec.Parse("spatial:0.2"),
            new OptimizerSettings(OptimizerSettings.Sgd, 5e-4, OptimizerSettings.Cosine), null));

    [Fact]
    public void A_language_model_pattern_trial_gives_the_recorded_numbers()
    {
        var pattern = TransformerPattern.ParseCompact(string.Join(" | ", Enumerable.Repeat("s2 t4 channel on", 8)));
        Same("ppl=15.740919432833492 acc=0.25510204081632654 reward=0.1270573811481598 loss=2.8458099365234375 steps=20 sum=57.113402128219604", Lm(pattern, null));
    }

    [Fact]
    public void A_language_model_dropout_baseline_trial_gives_the_recorded_numbers() => Same("ppl=14.825209523383755 acc=0.25510204081632654 reward=0.13490534463242537 loss=2.7129955291748047 steps=20 sum=54.97410249710083", Lm(null, BaselineSpec.Parse("dropout:0.1")));
}

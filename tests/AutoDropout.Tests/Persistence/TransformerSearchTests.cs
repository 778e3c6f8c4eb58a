using Akka.Actor;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Trainer;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Torch;
using AutoDropout.Training;

namespace AutoDropout.Tests.Persistence;

/// <summary>A search over the Transformer space: spec checks, the controller writing Transformer patterns, and a
/// trainer training a language model on a corpus in PTB's layout.</summary>
public sealed class TransformerSearchTests : SqliteTestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly string _corpus = Directory.CreateTempSubdirectory("corpus-").FullName;

    public TransformerSearchTests() : base("lm")
    {
        // a toy language with structure: the object depends on subject and verb
        var random = new Random(1);
        string Sentences(int count) => string.Join("\n", Enumerable.Range(0, count).Select(_ =>
        {
            int subject = random.Next(5), verb = random.Next(5);
            return $"s{subject} v{verb} o{(subject + verb) % 7}";
        }));
        File.WriteAllText(Path.Combine(_corpus, "ptb.train.txt"), Sentences(1500));
        File.WriteAllText(Path.Combine(_corpus, "ptb.valid.txt"), Sentences(200));
    }

    private SearchSpec Spec(string name) => new(name, Target: "lm-1-32-4", Dataset: SearchSpec.TextDataset, DataDirectory: _corpus,
        Trials: 2, TrainSteps: 40, BatchSize: 8, LearningRate: 3e-3, PolicyBatch: 2, Space: SearchSpec.TransformerSpace,
        Policy: new PolicyOptions(Layers: 1, Width: 16), Text: new TextOptions(Context: 16));

    [Fact]
    public void Transformer_specs_are_checked_field_by_field()
    {
        Spec("ok").Validate();
        Assert.StartsWith("target:", Assert.Throws<ArgumentException>(() => (Spec("x") with { Target = "cnn" }).Validate()).Message);
        Assert.StartsWith("dataset:", Assert.Throws<ArgumentException>(() => (Spec("x") with { Dataset = "fashion-mnist" }).Validate()).Message);
        Assert.StartsWith("data_directory:", Assert.Throws<ArgumentException>(() => (Spec("x") with { DataDirectory = null }).Validate()).Message);
        Assert.StartsWith("text.context:", Assert.Throws<ArgumentException>(() => (Spec("x") with { Text = new TextOptions(1) }).Validate()).Message);
        Assert.Contains("transformer space", Assert.Throws<ArgumentException>(() => new SearchSpec("x", Target: "lm-1-32-4").Validate()).Message);
        Assert.StartsWith("space:", Assert.Throws<ArgumentException>(() => (Spec("x") with { Space = "rnn" }).Validate()).Message);
        Assert.StartsWith("train_epochs:", Assert.Throws<ArgumentException>(() => (Spec("x") with { TrainEpochs = 0 }).Validate()).Message);
    }

    [Fact]
    public async Task The_controller_writes_transformer_patterns_and_a_trainer_scores_them_by_perplexity()
    {
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StartSearch(Spec("lm-search")), Wait));
        var trainer = CreateTestProbe();
        var trainerId = trainer.Ref.Path.ToString(); // real trainers use their actor path as their id
        trainer.Send(manager, new RequestWork(trainerId, "cpu"));
        var work = await trainer.ExpectMsgAsync<WorkAssignment>(Wait);
        var pattern = Assert.IsType<TransformerPattern>(work.Trial.Regulariser);
        Assert.Equal(TransformerSites.Count(1), pattern.Sites.Length);
        Assert.Equal(16, work.Trial.Text?.Context);

        using var worker = new TrainingWorker(TorchRuntime.ParseDevice("cpu"));
        var result = await worker.Run(work, trainerId, CancellationToken.None);
        Assert.Null(result.FailureReason);
        Assert.NotNull(result.Metrics?.ValidationPerplexity);
        Assert.Equal(1 / result.Metrics!.ValidationPerplexity!.Value, result.Reward, 10);
        Assert.InRange(result.Metrics.ValidationPerplexity.Value, 1, 12); // 17 words + <eos> + <unk>: uniform is 19

        trainer.Send(manager, result);
        await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
        var details = await manager.Ask<SearchDetails>(new GetSearch("lm-search"), Wait);
        Assert.Equal(result.Reward, details.Trials[0].Reward);
        Assert.Equal(pattern, details.BestPattern);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Directory.Delete(_corpus, recursive: true);
    }
}

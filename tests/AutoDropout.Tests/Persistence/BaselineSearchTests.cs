using Akka.Actor;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Trainer;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Tests.Support;
using AutoDropout.Torch;
using AutoDropout.Training;

namespace AutoDropout.Tests.Persistence;

/// <summary>Hand-made regularisers as reference trials of a search: trained first, with the same budget, never
/// learned from and never the best pattern.</summary>
public sealed class BaselineSearchTests : SqliteTestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    public BaselineSearchTests() : base("baselines") { }

    [Fact]
    public void Baselines_in_a_spec_are_checked_by_name()
    {
        new SearchSpec("ok", Baselines: ["dropout:0.1", "dropblock:3:0.9"]).Validate();
        Assert.StartsWith("baselines:", Assert.Throws<ArgumentException>(() => new SearchSpec("x", Baselines: ["dropconnect:0.1"]).Validate()).Message);
        var text = new SearchSpec("x", Target: "lm-1-32-4", Dataset: SearchSpec.TextDataset, DataDirectory: ".", Space: SearchSpec.TransformerSpace,
            Baselines: ["spatial:0.1"]);
        Assert.StartsWith("baselines:", Assert.Throws<ArgumentException>(() => text.Validate()).Message);
    }

    [Fact]
    public async Task Reference_trials_come_first_are_trained_and_are_neither_learned_from_nor_best()
    {
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        var spec = new SearchSpec("refs", Trials: 2, TrainSteps: 5, BatchSize: 32, PolicyBatch: 2, DataDirectory: "embedded",
            Policy: new PolicyOptions(Layers: 1, Width: 16), Baselines: ["dropout:0.1", "dropblock:3:0.9"]);
        Assert.IsType<CommandAccepted>(await manager.Ask<object>(new StartSearch(spec), Wait));
        var trainer = CreateTestProbe();
        var trainerId = trainer.Ref.Path.ToString(); // real trainers use their actor path as their id

        async Task<WorkAssignment> Lease()
        {
            trainer.Send(manager, new RequestWork(trainerId, "cpu"));
            return await trainer.ExpectMsgAsync<WorkAssignment>(Wait);
        }
        async Task Report(WorkAssignment work, double reward)
        {
            trainer.Send(manager, new TrialResult("refs", work.TrialId, trainerId, reward, new TrialMetricsReport(reward, 0.5, 1, 1, 5), null, null));
            await trainer.ExpectMsgAsync<TrialResultAck>(Wait);
        }

        var dropout = await Lease();
        Assert.Equal(new BaselinePattern(BaselineSpec.Parse("dropout:0.1")), dropout.Trial.Regulariser);
        using (var worker = new TrainingWorker(TorchRuntime.ParseDevice("cpu")))
        {
            var trained = await worker.Run(dropout, "trainer-a", CancellationToken.None); // a real training run with the baseline
            Assert.Null(trained.FailureReason);
            Assert.InRange(trained.Reward, 0.2, 1.0);
        }
        await Report(dropout, 0.99);
        var dropblock = await Lease();
        Assert.Equal("baseline dropblock:3:0.9", dropblock.Trial.Regulariser.ToCompact());
        await Report(dropblock, 0.98);

        var details = await manager.Ask<SearchDetails>(new GetSearch("refs"), Wait);
        Assert.Equal(0, details.Summary.PolicyVersion); // two results in, but neither teaches the policy
        Assert.Null(details.BestPattern);
        Assert.Equal(4, details.Summary.Trials);

        var first = await Lease();
        var second = await Lease();
        Assert.IsType<ConvPattern>(first.Trial.Regulariser);
        await Report(first, 0.5);
        await Report(second, 0.6);
        details = await SearchWait.Until(manager, "refs", d => d.Summary.PolicyVersion == 1);
        Assert.Equal(1, details.Summary.PolicyVersion);
        Assert.Equal(second.Trial.Regulariser, details.BestPattern); // 0.6, although the baselines scored higher
        Assert.Equal(SearchStatus.Completed, details.Summary.Status);
    }
}

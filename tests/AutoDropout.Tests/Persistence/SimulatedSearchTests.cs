using Akka.Actor;
using AutoDropout.Cluster.Controller;
using AutoDropout.Cluster.Trainer;
using AutoDropout.Core;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Persistence;

/// <summary>A whole search run by simulated trainers against the real controller and a SQLite journal.</summary>
public sealed class SimulatedSearchTests() : SqliteTestKit("simulated-search")
{
    [Fact]
    public async Task Four_simulated_trainers_finish_a_search_and_every_trial_is_scored_once_by_the_synthetic_reward()
    {
        var spec = new SearchSpec("simulated", Trials: 40, PolicyBatch: 4, Seed: 3, TrainSteps: 10);
        var manager = Sys.ActorOf(SearchManager.Props(), "search-manager");
        await manager.Ask<CommandAccepted>(new StartSearch(spec), TimeSpan.FromSeconds(20));
        for (int i = 0; i < 4; i++)
        {
            Func<ITrialRunner> runner = () => new SimulatedRunner($"sim:{i}", SimulatedTrialTime.Parse("20ms-60ms"), noise: 0);
            var name = $"trainer-{i}";
            Sys.ActorOf(TrainerActor.Props(manager, $"akka://{Sys.Name}/user/{name}", runner,
                TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1)), name);
        }

        SearchDetails details;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(250);
            details = await manager.Ask<SearchDetails>(new GetSearch("simulated"), TimeSpan.FromSeconds(20));
        } while (details.Summary.Status != SearchStatus.Completed && DateTime.UtcNow < deadline);

        Assert.Equal(SearchStatus.Completed, details.Summary.Status);
        Assert.Equal(40, details.Trials.Count(t => t.Status == TrialStatus.Completed));
        Assert.All(details.Trials, t => Assert.NotNull(t.Staleness)); // every result learned from (updates of 4 or more)
        Assert.InRange(details.Summary.PolicyVersion, 1, 10);
        Assert.All(details.Trials, t => Assert.InRange(t.Reward!.Value, 0, 1));
        Assert.Equal(4, details.Trials.Select(t => t.Trainer).Distinct().Count());
    }
}

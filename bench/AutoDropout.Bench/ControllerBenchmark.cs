using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Policy;
using AutoDropout.Torch;

namespace AutoDropout.Bench;

/// <summary>
/// `autodropout bench controller`: time to sample a pattern and to update on a batch of 8, and the time to recover
/// a search with many completed trials from snapshot + journal tail, on SQLite (or PostgreSQL with --persistence).
/// </summary>
public static class ControllerBenchmark
{
    /// <param name="db">A SQLite file or a connection string; null: a temporary SQLite file, deleted afterwards.</param>
    public static async Task<int> Run(TargetSpec target, int trials, PersistenceBackend backend, string? db)
    {
        var journal = db ?? Path.Combine(Path.GetTempPath(), $"autodropout-bench-{Guid.NewGuid():N}.db");
        TorchRuntime.UseThreads(1);

        using (var policy = new ReinforceController(ConvSearchSpace.Default.VocabularySizes(), target.MaskSites * TokenTypes.PerSite, new PolicyOptions(), 1))
        {
            // warm-up long enough for the tiered JIT to finish with the sampling path, as in a running controller
            var warmUp = Stopwatch.StartNew();
            for (int i = 0; warmUp.Elapsed < TimeSpan.FromSeconds(3); i++) policy.SampleBatch(Enumerable.Range(i * 4, 1 + i % 4).Select(s => (long)s).ToArray());
            int tokens = target.MaskSites * TokenTypes.PerSite;
            var clock = Stopwatch.StartNew();
            var samples = Enumerable.Range(0, 200).Select(i => policy.Sample(1000 + i)).ToArray();
            double sampleMs = clock.Elapsed.TotalMilliseconds / samples.Length;
            Console.WriteLine($"{target.Name}: {tokens} tokens per pattern");
            Console.WriteLine($"sample one pattern        {sampleMs,8:0.00} ms   {1000 / sampleMs,8:0} patterns/s");
            foreach (int size in new[] { 16, 64, 256 })
            {
                policy.SampleBatch(Enumerable.Range(0, size).Select(i => (long)i).ToArray()); // warm-up at this size
                int batches = Math.Max(2, 2000 / size);
                clock.Restart();
                for (int b = 0; b < batches; b++) policy.SampleBatch(Enumerable.Range(0, size).Select(i => 5000L + b * size + i).ToArray());
                double perPattern = clock.Elapsed.TotalMilliseconds / (batches * size);
                Console.WriteLine($"sample in batches of {size,-4} {perPattern,8:0.00} ms   {1000 / perPattern,8:0} patterns/s   (aim >= 500/s)");
            }
            clock.Restart();
            for (int u = 0; u < 25; u++)
                policy.Update(samples.Skip(u * 8).Take(8).Select(s => new RewardedSample(s.Tokens, s.Tokens.Sum() % 10 / 10.0)).ToArray());
            double updateMs = clock.Elapsed.TotalMilliseconds / 25;
            Console.WriteLine($"update on a batch of 8    {updateMs,8:0.00} ms   (target < 50 ms)");
        }

        var config = NodeConfig.Local(ControllerNode.PersistenceConfig(backend, journal));
        var name = $"bench-{Guid.NewGuid():N}"[..14];
        var spec = new SearchSpec(name, Target: target.Name, Trials: trials, PolicyBatch: 8);
        var write = Stopwatch.StartNew();
        using (var system = ActorSystem.Create("bench-write", config))
        {
            var manager = system.ActorOf(SearchManager.Props(), "search-manager");
            await manager.Ask<CommandAccepted>(new StartSearch(spec), TimeSpan.FromSeconds(30));
            // one long-lived "trainer" (an Ask's temporary actor would die and lose its lease each time)
            var trainer = Inbox.Create(system);
            var trainerId = trainer.Receiver.Path.ToString(); // the controller takes results only from the trainer they name
            var wait = TimeSpan.FromSeconds(30);
            for (int i = 0; i < trials; i++)
            {
                trainer.Send(manager, new RequestWork(trainerId, "cpu"));
                var work = (WorkAssignment)await trainer.ReceiveAsync(wait);
                double reward = Seeds.Derive(7, work.TrialId, SeedStream.Trial) % 1000 / 1000.0;
                trainer.Send(manager, new TrialResult(name, work.TrialId, trainerId, reward, new TrialMetricsReport(reward, 0.5, 1000, 1, 10), null, null));
                await trainer.ReceiveAsync(wait);
            }
            await system.Terminate();
        }
        Console.WriteLine($"wrote {trials} trials (propose, lease, complete, {trials / 8} updates) in {write.Elapsed.TotalSeconds:0.0} s: " +
                          $"{write.Elapsed.TotalMilliseconds / trials:0.00} ms per trial");

        using (var system = ActorSystem.Create("bench-recover", config))
        {
            var manager = system.ActorOf(SearchManager.Props(), "search-manager");
            var clock = Stopwatch.StartNew();
            var details = await manager.Ask<SearchDetails>(new GetSearch(name), TimeSpan.FromMinutes(5));
            Console.WriteLine($"recovered {details.Summary.Completed} completed trials, policy v{details.Summary.PolicyVersion}, " +
                              $"from snapshot + journal tail on {backend}: {clock.Elapsed.TotalSeconds:0.00} s   (target < 2 s)");
            await system.Terminate();
        }
        if (backend == PersistenceBackend.Sqlite && db is null)
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(journal + suffix);
        return BenchCommands.Ok;
    }
}

using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;
using static AutoDropout.Search.SearchCommand;

namespace AutoDropout.Tests.Unit;

public class RandomPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static RandomPolicy NewPolicy(SearchSpec spec) =>
        new(spec.PatternSpace.VocabularySizes(), spec.MaskSites, spec.PolicyOrDefault.BaselineDecay);

    [Fact]
    public void A_seed_names_the_pattern_that_pattern_sample_draws_and_tokens_are_uniform()
    {
        var spec = new SearchSpec("r", Target: "wrn-16-2");
        using var policy = NewPolicy(spec);
        Assert.Equal(PatternSampler.Sample(spec.PatternSpace, spec.MaskSites, 12345).ToCompact(),
            spec.PatternSpace.DecodePattern(policy.Sample(12345)).ToCompact());
        Assert.Equal(policy.Sample(7), policy.Sample(7));

        // every value of the first site's size token, about equally often
        int vocabulary = spec.PatternSpace.VocabularySizes()[0];
        var counts = new int[vocabulary];
        const int Draws = 4000;
        for (long seed = 0; seed < Draws; seed++) counts[policy.Sample(Seeds.Derive(3, seed, SeedStream.PatternSample))[0]]++;
        double expected = (double)Draws / vocabulary;
        Assert.All(counts, c => Assert.InRange(c, expected * 0.8, expected * 1.2));
    }

    [Fact]
    public void Learning_keeps_the_controllers_bookkeeping_and_never_changes_the_samples()
    {
        var spec = new SearchSpec("r", PolicyBatch: 2, Policy: new PolicyOptions(Kind: PolicyOptions.Random));
        using var policy = NewPolicy(spec);
        var before = policy.Sample(99);
        var stats = policy.Learn([(before, 0.5), (before, 0.7)]);
        Assert.Equal(1, policy.Version);
        Assert.Equal(0.6, stats.MeanReward, 12);
        Assert.Equal(before, policy.Sample(99));
        // a whole pattern's entropy, in the controller's units: every token uniform over its vocabulary
        Assert.Equal(spec.MaskSites * spec.PatternSpace.VocabularySizes().Sum(v => Math.Log(v)), stats.MeanEntropy, 9);

        using var restored = NewPolicy(spec);
        restored.LoadState(policy.SaveState());
        Assert.Equal(policy.StateHash(), restored.StateHash());
        Assert.Equal(policy.Baseline, restored.Baseline);
        Assert.Throws<ArgumentException>(() => restored.LoadState([1, 2, 3]));
    }

    [Fact]
    public void A_random_search_records_updates_and_a_snapshot_restores_them()
    {
        var spec = new SearchSpec("r", Trials: 6, PolicyBatch: 2, Policy: new PolicyOptions(Kind: PolicyOptions.Random));
        spec.Validate();
        var journal = new List<ISearchEvent>();
        using var model = new SearchModel(NewPolicy);
        void Run(SearchCommand command)
        {
            foreach (var e in model.Decide(command).Events) { model.Apply(e); journal.Add(e); }
        }
        Run(new Start(spec));
        for (int i = 0; i < 6; i++)
        {
            Run(new Offer("t1", T0));
            int trial = model.State!.Leased.Single();
            Run(new Report(new TrialResult("r", trial, "t1", 0.1 * trial, null, null, null)));
            if (SearchDecider.UpdateDue(model.State) is { } due) Run(new RecordUpdate(due));
        }
        Assert.Equal(SearchStatus.Completed, model.State!.Status);
        Assert.Equal([1, 2, 3], model.State.Updates.Select(u => u.Version));
        Assert.Equal(0.15, model.State.Updates[0].MeanReward, 12);

        using var replayed = SearchModel.Replay(journal, NewPolicy);
        Assert.Equal(model.Policy!.StateHash(), replayed.Policy!.StateHash());
        using var restored = new SearchModel(NewPolicy);
        restored.Restore(model.ToSnapshot());
        Assert.Equal(model.State.Updates, restored.State!.Updates);
        Assert.Equal(model.Policy.StateHash(), restored.Policy!.StateHash());
    }

    [Fact]
    public void An_unknown_policy_kind_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new SearchSpec("r", Policy: new PolicyOptions(Kind: "greedy")).Validate());
        Assert.Contains("policy.kind", e.Message, StringComparison.Ordinal);
    }
}

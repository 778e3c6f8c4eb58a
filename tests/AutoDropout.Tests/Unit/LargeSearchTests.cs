using System.Text.Json;
using Akka.Actor;
using AutoDropout.Cluster;
using AutoDropout.Cluster.Controller;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// A search of 20,000 trials through the command endpoint: one reply holding every trial would not fit remoting's
/// frame between nodes (4 MiB), so the endpoint asks for pages and answers the search whole.
/// </summary>
public sealed class LargeSearchTests : Akka.TestKit.Xunit2.TestKit
{
    private const int Trials = 20_000, FrameLimit = 4 * 1024 * 1024;

    /// <summary>A search of <paramref name="trials"/> completed trials of random patterns (the dashboard's tests use it too).</summary>
    internal static SearchModel LargeSearch(int trials = Trials)
    {
        var spec = new SearchSpec("large", Trials: trials, PolicyBatch: trials + 1, Policy: new PolicyOptions(Kind: PolicyOptions.Random));
        var model = new SearchModel(SearchPolicies.Create);
        model.Apply(new SearchCreated(spec));
        var random = new Random(1);
        var vocabularies = spec.PatternSpace.VocabularySizes();
        var until = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int id = 1; id <= trials; id++)
        {
            var tokens = Enumerable.Range(0, spec.MaskSites * spec.PatternSpace.TokensPerSite).Select(t => random.Next(vocabularies[t % vocabularies.Count])).ToArray();
            double reward = 0.5 + random.NextDouble() / 4;
            model.Apply(new TrialProposed(id, spec.PatternSpace.DecodePattern(tokens), 0, id));
            model.Apply(new TrialLeased(id, "akka.tcp://autodropout@10.0.0.1:4053/user/trainer-0", until));
            model.Apply(new TrialCompleted(id, "akka.tcp://autodropout@10.0.0.1:4053/user/trainer-0", reward,
                new TrialMetricsReport(reward, 0.4, 900, 30, 80, TrainAccuracy: 0.9)));
        }
        return model;
    }

    /// <summary>A controller that answers what the real one answers, and refuses a reply that would not fit the frame.</summary>
    internal sealed class PagingController : ReceiveActor
    {
        public PagingController(SearchModel model)
        {
            Receive<GetSearch>(get =>
            {
                var details = SearchViews.Details(model, null, get.TrialsFrom, get.TrialsLimit);
                int bytes = MessageCodec.ToBinary(details).Length;
                Sender.Tell(bytes < FrameLimit ? details : new CommandRejected($"a reply of {bytes} bytes does not fit the frame"));
            });
        }
    }

    [Fact]
    public async Task A_search_of_20000_trials_is_served_whole_in_pages_that_fit_the_frame()
    {
        using var model = LargeSearch();
        Assert.True(MessageCodec.ToBinary(SearchViews.Details(model)).Length > FrameLimit, "the whole search should not fit one frame");

        var controller = Sys.ActorOf(Props.Create(() => new PagingController(model)));
        using var endpoint = new CommandEndpoint(Sys, controller, "127.0.0.1", 0, new CommandTokens("token", "read"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "read");
        using var response = await http.GetAsync($"http://127.0.0.1:{endpoint.Port}/v1/searches/large");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body.Length > 300 ? body[..300] : body);

        var details = JsonSerializer.Deserialize(body, MessageJsonContext.Default.SearchDetails)!;
        Assert.Equal(Enumerable.Range(1, Trials), details.Trials.Select(t => t.TrialId));
        Assert.Equal(Trials, details.TrialsTotal);
        Assert.Equal(Trials, details.Summary.Completed);
        int page = MessageCodec.ToBinary(SearchViews.Details(model, null, 0, CommandEndpoint.TrialPage)).Length;
        Assert.True(page < FrameLimit / 2, $"a page of {CommandEndpoint.TrialPage} trials is {page} bytes");
    }
}

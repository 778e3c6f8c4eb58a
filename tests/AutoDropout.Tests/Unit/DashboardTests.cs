using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cluster;
using AutoDropout.Messages;
using AutoDropout.Search;

namespace AutoDropout.Tests.Unit;

/// <summary>
/// The dashboard's routes in process, in front of a controller that serves one large search: the token cookie
/// (set once from the address, good for reads, never for changes), the embedded files, and the event stream.
/// </summary>
public sealed class DashboardTests : Akka.TestKit.Xunit2.TestKit
{
    private const string Operator = "operator-token", Reader = "read-token";
    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.loglevel = WARNING
        """);

    public DashboardTests() : base(ClusterConfig) { }

    /// <summary>Answers what a controller with one search and no evaluations answers; anything else is accepted.</summary>
    internal sealed class OneSearchController : ReceiveActor
    {
        public OneSearchController(SearchModel model)
        {
            Receive<ListSearches>(_ => Sender.Tell(new SearchList([SearchViews.Summary(model.State!)])));
            Receive<ListEvaluations>(_ => Sender.Tell(new EvaluationList([])));
            Receive<GetSearch>(get => Sender.Tell(get.Search == model.State!.Spec.Name
                ? SearchViews.Details(model, null, get.TrialsFrom, get.TrialsLimit) : new CommandRejected($"no such search: {get.Search}")));
            ReceiveAny(m => Sender.Tell(new CommandAccepted($"done: {m.GetType().Name}")));
        }
    }

    private CommandEndpoint Endpoint(SearchModel model) =>
        new(Sys, Sys.ActorOf(Props.Create(() => new OneSearchController(model))), "127.0.0.1", 0, new CommandTokens(Operator, Reader));

    private static HttpClient Browser(CommandEndpoint endpoint, string? cookie = null)
    {
        var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{endpoint.Port}"),
        };
        if (cookie is not null) http.DefaultRequestHeaders.Add("Cookie", cookie);
        return http;
    }

    [Fact]
    public async Task The_page_needs_the_token_once_in_its_address_and_then_keeps_it_in_a_strict_http_only_cookie()
    {
        using var model = LargeSearchTests.LargeSearch(10);
        using var endpoint = Endpoint(model);
        using var anonymous = Browser(endpoint);

        using (var page = await anonymous.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
            Assert.Contains("?token=", await page.Content.ReadAsStringAsync());
        }
        using (var wrong = await anonymous.GetAsync("/?token=wrong"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.False(wrong.Headers.Contains("Set-Cookie"));
        }

        using var login = await anonymous.GetAsync($"/?token={Reader}");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/", login.Headers.Location!.OriginalString);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"{Dashboard.CookieName}={Reader};", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var browser = Browser(endpoint, $"{Dashboard.CookieName}={Reader}");
        using var html = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'self'", html.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("/dashboard/app.js", await html.Content.ReadAsStringAsync());

        using var script = await browser.GetAsync("/dashboard/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/dashboard/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/dashboard/nothing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/dashboard/app.js")).StatusCode);
    }

    [Fact]
    public async Task The_cookie_is_good_for_reads_and_never_for_a_change_even_when_it_holds_the_operator_token()
    {
        using var model = LargeSearchTests.LargeSearch(10);
        using var endpoint = Endpoint(model);
        foreach (var token in new[] { Reader, Operator })
        {
            using var browser = Browser(endpoint, $"{Dashboard.CookieName}={token}");
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/v1/searches")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/v1/searches/large")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/v1/searches/large/stop", new StringContent("{}"))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.DeleteAsync("/v1/searches/large")).StatusCode);
        }
        using var forged = Browser(endpoint, $"{Dashboard.CookieName}=wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/v1/searches")).StatusCode);
    }

    [Fact]
    public async Task The_event_stream_sends_a_search_of_10000_trials_at_once_and_then_only_what_changed()
    {
        using var model = LargeSearchTests.LargeSearch(10_000);
        using var endpoint = Endpoint(model);
        using var browser = Browser(endpoint, $"{Dashboard.CookieName}={Reader}");
        browser.Timeout = TimeSpan.FromSeconds(30);

        var clock = Stopwatch.StartNew();
        using var response = await browser.GetAsync("/v1/events?search=large", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var overview = await NextEvent(reader);
        Assert.Equal("overview", overview.Name);
        Assert.Equal("large", overview.Data.GetProperty("searches")[0].GetProperty("name").GetString());

        var first = await NextEvent(reader);
        var loaded = clock.Elapsed;
        Assert.Equal("search", first.Name);
        Assert.Equal(10_000, first.Data.GetProperty("trials_total").GetInt32());
        Assert.Equal(10_000, first.Data.GetProperty("trials").GetArrayLength());
        Assert.True(loaded < TimeSpan.FromSeconds(3), $"the first search event took {loaded}");

        // nothing changed: the next poll sends nothing, so the stream stays quiet past the interval
        var next = NextEvent(reader);
        Assert.NotSame(next, await Task.WhenAny(next, Task.Delay(Dashboard.Interval * 2)));
    }

    [Fact]
    public async Task An_open_stream_does_not_hold_the_nodes_shutdown()
    {
        using var model = LargeSearchTests.LargeSearch(10);
        var endpoint = Endpoint(model);
        using var browser = Browser(endpoint, $"{Dashboard.CookieName}={Reader}");
        using var response = await browser.GetAsync("/v1/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("overview", (await NextEvent(reader)).Name);

        var clock = Stopwatch.StartNew();
        endpoint.Dispose();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the endpoint took {clock.Elapsed} to stop");
    }

    [Fact]
    public void The_feed_reads_again_only_from_the_first_trial_that_may_still_change()
    {
        var feed = new TrialFeed();
        TrialView Trial(int id, TrialStatus status, int? staleness = null) =>
            new(id, status, $"p{id}", $"h{id}", 0, status == TrialStatus.Completed ? 0.5 : null, null, null, null, staleness);

        var changed = feed.Take(0, [Trial(1, TrialStatus.Completed, 0), Trial(2, TrialStatus.Completed), Trial(3, TrialStatus.Leased)]);
        Assert.Equal(3, changed.Count);
        Assert.Equal(1, feed.From); // trial 2 is not learned from yet: its staleness will change

        changed = feed.Take(1, [Trial(2, TrialStatus.Completed), Trial(3, TrialStatus.Completed, 0), Trial(4, TrialStatus.Proposed)]);
        Assert.Equal([3, 4], changed.Select(t => t.Id));
        changed = feed.Take(1, [Trial(2, TrialStatus.Completed, 1), Trial(3, TrialStatus.Completed, 0), Trial(4, TrialStatus.Proposed)]);
        Assert.Equal([2], changed.Select(t => t.Id));
        Assert.Equal(3, feed.From);
        Assert.Equal(4, feed.Count);
    }

    private static async Task<(string Name, JsonElement Data)> NextEvent(StreamReader reader)
    {
        string? name = null, data = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line["data: ".Length..];
            else if (line.Length == 0 && name is not null && data is not null) return (name, JsonDocument.Parse(data).RootElement.Clone());
        }
        throw new EndOfStreamException("the stream ended");
    }
}

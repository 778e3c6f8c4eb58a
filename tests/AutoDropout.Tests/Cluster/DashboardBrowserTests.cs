using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using AutoDropout.Cli;
using AutoDropout.Cluster;
using AutoDropout.Core;
using AutoDropout.Messages;
using AutoDropout.Tests.Unit;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace AutoDropout.Tests.Cluster;

/// <summary>
/// The dashboard in a real headless browser (the system's chromium, driven by Playwright; skipped where none is
/// installed): a live search on a local cluster of simulated trainers, and the load time of a 10,000-trial search.
/// Screenshots go to the test output's artefacts/dashboard folder.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("autodropout-dashboard-").FullName;

    public static string Artefacts => Path.Combine(AppContext.BaseDirectory, "artefacts", "dashboard");

    private static readonly string[] BrowserNames = ["chromium", "chromium-browser"];

    private static string? Chromium() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .SelectMany(dir => BrowserNames.Select(name => Path.Combine(dir, name)))
        .FirstOrDefault(File.Exists);

    private static async Task<(IPlaywright, IBrowser)> Launch()
    {
        var chromium = Chromium();
        Skip.If(chromium is null, "no chromium installed (apt-get install chromium)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        return (playwright, browser);
    }

    /// <summary>A page that records every console error and uncaught exception.</summary>
    private static async Task<(IPage, List<string>)> Open(IBrowser browser)
    {
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add($"{message.Text} {message.Location}"); };
        page.PageError += (_, error) => errors.Add(error);
        return (page, errors);
    }

    private async Task Screenshot(IPage page, string name, bool fullPage = true)
    {
        Directory.CreateDirectory(Artefacts);
        var file = Path.Combine(Artefacts, name + ".png");
        await page.ScreenshotAsync(new() { Path = file, FullPage = fullPage });
        output.WriteLine($"screenshot: {file}");
    }

    [SkippableFact]
    public async Task The_pages_load_and_the_search_view_follows_trials_as_they_complete()
    {
        var (playwright, browser) = await Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var cluster = await LocalCluster.Start(_work, trainers: 1, Ready, trainerArgs: ["--simulate", "2", "--trial-time", "400ms"]);
        using var client = new ControlClient(cluster.Endpoint, cluster.Token);
        await client.Post("v1/searches", ControlClient.SpecJson(new SearchSpec("live", Trials: 40, PolicyBatch: 4)),
            MessageJsonContext.Default.CommandAccepted);

        var (page, errors) = await Open(browser);
        var home = $"http://{cluster.Endpoint}/";
        await page.GotoAsync($"{home}?token={cluster.ReadToken}");
        Assert.Equal(home, page.Url); // the token left the address
        await page.Locator("#members tbody tr").Nth(2).WaitForAsync();
        await page.Locator("#searches a", new() { HasText = "live" }).WaitForAsync();
        Assert.Equal(3, await page.Locator("#members tbody tr").CountAsync());
        // each simulated trainer with its device and, once the search leases to it, its trial
        await page.Locator("#trainers td", new() { HasText = "live #" }).First.WaitForAsync();
        Assert.Equal(2, await page.Locator("#trainers tbody tr", new() { HasText = "sim:" }).CountAsync());
        await Screenshot(page, "overview");

        await page.Locator("#searches a", new() { HasText = "live" }).ClickAsync();
        await page.Locator("#trials tbody tr").First.WaitForAsync();
        await page.EvaluateAsync("() => { window.notReloaded = true; }");
        int before = await Completed(page);
        await page.WaitForFunctionAsync($"() => parseInt(document.getElementById('search-completed').textContent) > {before}",
            null, new() { Timeout = 60_000 });
        await page.WaitForFunctionAsync("() => document.getElementById('search-status').textContent === 'completed'",
            null, new() { Timeout = 120_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page reloaded");
        Assert.Equal(40, await Completed(page));
        Assert.True(await page.Locator("#entropy-chart").IsVisibleAsync());

        // sorting by reward puts the best trial first
        await page.Locator("#trials th[data-key=reward]").ClickAsync();
        // a live update may redraw the table as the click lands: the header shows the sort that took
        for (int retry = 0; retry < 3 && !await page.Locator("#trials th[data-key=reward].sorted-desc").IsVisibleAsync(); retry++)
        {
            await Task.Delay(500);
            if (!await page.Locator("#trials th[data-key=reward].sorted-desc").IsVisibleAsync()) await page.Locator("#trials th[data-key=reward]").ClickAsync();
        }
        await page.Locator("#trials th[data-key=reward].sorted-desc").WaitForAsync();
        var best = await page.Locator("#search-best").TextContentAsync();
        Assert.Equal(best, await page.Locator("#trials tbody tr").First.Locator("td").Nth(2).TextContentAsync());
        // the best pattern's masks, drawn by the trainer node: a picture, not a broken image
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#best img.masks'); return i && i.complete && i.naturalWidth > 100; }",
            null, new() { Timeout = 60_000 });
        await Screenshot(page, "search");

        // against a random-search control: its lines join the reward chart, picked by a link
        await client.Post("v1/searches", ControlClient.SpecJson(new SearchSpec("control", Trials: 8, PolicyBatch: 4, Policy: new PolicyOptions(Kind: PolicyOptions.Random))),
            MessageJsonContext.Default.CommandAccepted);
        await page.Locator("#compare a", new() { HasText = "control" }).ClickAsync();
        await page.WaitForFunctionAsync("() => parseInt(document.body.dataset.controlPoints || '0') > 0", null, new() { Timeout = 60_000 });
        Assert.EndsWith("#/search/live?vs=control", page.Url);
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await Screenshot(page, "dashboard", fullPage: false); // the README's picture

        // an evaluation of the two best: its table fills in, one dot per finished seed
        await client.Post("v1/evaluations", JsonSerializer.Serialize(new EvaluationRequest("live", Top: 2, Seeds: 3),
            SpecJsonContext.Default.EvaluationRequest), MessageJsonContext.Default.CommandAccepted);
        await page.GotoAsync($"{home}#/evaluation/live-eval");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#evaluation svg circle').length >= 6",
            null, new() { Timeout = 120_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page reloaded");
        await Screenshot(page, "evaluation");
        Assert.Empty(errors);
        cluster.Stop();
    }

    private static async Task<int> Completed(IPage page) =>
        int.Parse((await page.Locator("#search-completed").TextContentAsync())!.Split('/')[0].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task A_search_of_10000_trials_loads_within_a_second_or_so()
    {
        var (playwright, browser) = await Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var system = ActorSystem.Create("dashboard", ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.loglevel = WARNING
            """));
        using var model = LargeSearchTests.LargeSearch(10_000);
        var controller = system.ActorOf(Props.Create(() => new DashboardTests.OneSearchController(model)));
        using var endpoint = new CommandEndpoint(system, controller, "127.0.0.1", 0, new CommandTokens("operator", "read"));

        var (page, errors) = await Open(browser);
        // when the stream's first search event arrives, to tell the node's share of the load time from the page's
        await page.AddInitScriptAsync("""
            const listen = EventSource.prototype.addEventListener;
            EventSource.prototype.addEventListener = function (name, handler) {
              return listen.call(this, name, name !== "search" ? handler : (e) => { window.firstSearch ??= performance.now(); handler(e); });
            };
            """);
        var home = $"http://127.0.0.1:{endpoint.Port}/";
        await page.GotoAsync($"{home}?token=read");
        await page.Locator("#searches a").WaitForAsync();
        var clock = Stopwatch.StartNew();
        var start = await page.EvaluateAsync<double>("() => performance.now()");
        await page.GotoAsync($"{home}#/search/large");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#trials tbody tr').length === 50 && document.body.dataset.points",
            null, new() { Timeout = 30_000 });
        var loaded = clock.Elapsed;
        var firstData = await page.EvaluateAsync<double>("() => window.firstSearch") - start;
        output.WriteLine($"10,000 trials: loaded and drawn in {loaded.TotalMilliseconds:0} ms, the data arrived after {firstData:0} ms");
        Assert.True(loaded < TimeSpan.FromSeconds(5), $"took {loaded}");
        Assert.InRange(int.Parse((await page.EvaluateAsync<string>("() => document.body.dataset.points"))!, System.Globalization.CultureInfo.InvariantCulture), 100, 1600);
        Assert.Contains("page 1 of 200", await page.Locator(".pager").TextContentAsync());
        await Screenshot(page, "large-search");
        Assert.Empty(errors);
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); }
        catch (IOException) { }
    }
}

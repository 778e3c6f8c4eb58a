using System.CommandLine;
using System.Text.Json.Serialization.Metadata;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>`autodropout report SEARCH --out DIR`: fetches a search (and a control and an evaluation) from a node and writes its report.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var endpoint = new EndpointOptions();
        var command = new Command("report",
            "write a search's report into a directory: report.md, report.html and PNG plots (rewards, policy updates, the top patterns' masks, an evaluation's seeds)");
        var search = new Argument<string>("SEARCH") { Description = "the search to report" };
        var output = new Option<string>("--out") { Description = "the directory to write into (created when missing)", HelpName = "DIR", Required = true };
        var control = CliOptions.Text("--control", "a control search (e.g. --policy random) drawn on the same plots", "SEARCH");
        var evaluation = CliOptions.Text("--evaluation", "an evaluation job whose table and seed dots the report shows", "NAME");
        command.Add(search);
        foreach (var option in (Option[])[output, control, evaluation, endpoint.Endpoint, endpoint.Token, endpoint.Certificate]) command.Add(option);
        command.SetAction(async (result, _) =>
        {
            var directory = result.GetValue(output)!;
            if (File.Exists(directory)) throw new UsageException($"--out {directory} is a file; give a directory");
            using var client = endpoint.Client(result);
            var details = await Fetch(client, "search", result.GetValue(search)!, "v1/searches", MessageJsonContext.Default.SearchDetails);
            var controlDetails = result.GetValue(control) is { } c ? await Fetch(client, "search", c, "v1/searches", MessageJsonContext.Default.SearchDetails) : null;
            var evaluationDetails = result.GetValue(evaluation) is { } e
                ? await Fetch(client, "evaluation", e, "v1/evaluations", MessageJsonContext.Default.EvaluationDetails)
                : null;
            var document = SearchReport.Write(details, controlDetails, evaluationDetails, directory);
            result.InvocationConfiguration.Output.WriteLine(
                $"wrote {Path.Combine(directory, SearchReport.HtmlFile)} and {SearchReport.MarkdownFile} with {document.Images.Count()} pictures");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<T> Fetch<T>(ControlClient client, string kind, string name, string route, JsonTypeInfo<T> type)
    {
        try
        {
            return await client.Get($"{route}/{Uri.EscapeDataString(name)}", type);
        }
        catch (ControlException e) when (e.ExitCode == ExitCodes.NotFound)
        {
            throw new ControlException(e.ExitCode, $"{kind} '{name}' not found at {client.Endpoint}: {e.Message}");
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AutoDropout.Cluster;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>Talks to a node's command endpoint.</summary>
public sealed class ControlClient(string endpoint, string? token) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{endpoint}/"), Timeout = TimeSpan.FromSeconds(30) };

    public string Endpoint { get; } = endpoint;

    public Task<T> Get<T>(string path, JsonTypeInfo<T> type) => Send(new HttpRequestMessage(HttpMethod.Get, path), type);

    public Task<T> Delete<T>(string path, JsonTypeInfo<T> type)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Send(request, type);
    }

    public Task<T> Post<T>(string path, string? jsonBody, JsonTypeInfo<T> type)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(jsonBody ?? "{}", Encoding.UTF8, "application/json"),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Send(request, type);
    }

    private async Task<T> Send<T>(HttpRequestMessage request, JsonTypeInfo<T> type)
    {
        HttpResponseMessage response;
        try { response = await _http.SendAsync(request); }
        catch (HttpRequestException e) { throw new ControlException(ExitCodes.Unreachable, $"cannot reach {Endpoint}: {e.Message}"); }
        catch (TaskCanceledException) { throw new ControlException(ExitCodes.Unreachable, $"{Endpoint} did not answer in time"); }
        var body = await response.Content.ReadAsStringAsync();
        if (response.IsSuccessStatusCode) return JsonSerializer.Deserialize(body, type)!;
        string reason;
        try { reason = JsonSerializer.Deserialize(body, MessageJsonContext.Default.CommandRejected)?.Reason ?? body; }
        catch (JsonException) { reason = body; }
        int code = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => ExitCodes.Unauthorised,
            HttpStatusCode.NotFound => ExitCodes.NotFound,
            HttpStatusCode.ServiceUnavailable => ExitCodes.Unreachable,
            _ => ExitCodes.Rejected,
        };
        throw new ControlException(code, reason);
    }

    public static string SpecJson(SearchSpec spec) => JsonSerializer.Serialize(spec, SpecJsonContext.Default.SearchSpec);

    public void Dispose() => _http.Dispose();
}

public sealed class ControlException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AutoDropout.Cluster;
using AutoDropout.Messages;

namespace AutoDropout.Cli;

/// <summary>
/// Talks to a node's command endpoint, sending the token with every request. With a trusted certificate it speaks
/// HTTPS and accepts only an endpoint that presents that certificate or one it issued (<see cref="ClusterTls.Trusts"/>).
/// </summary>
public sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string? _token;

    /// <param name="endpoint">host:port, or a URL (https://host:port for an endpoint with a certificate a CA on this host trusts).</param>
    public ControlClient(string endpoint, string? token, X509Certificate2? trusted = null)
    {
        Endpoint = endpoint;
        _token = token;
        var handler = new SocketsHttpHandler();
        if (trusted is not null)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ClusterTls.Trusts(trusted, certificate, errors);
        var address = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : $"{(trusted is null ? "http" : "https")}://{endpoint}";
        _http = new HttpClient(handler) { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Endpoint { get; }

    public Task<T> Get<T>(string path, JsonTypeInfo<T> type) => Send(new HttpRequestMessage(HttpMethod.Get, path), type);

    public Task<T> Delete<T>(string path, JsonTypeInfo<T> type) => Send(new HttpRequestMessage(HttpMethod.Delete, path), type);

    public Task<T> Post<T>(string path, string? jsonBody, JsonTypeInfo<T> type) =>
        Send(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(jsonBody ?? "{}", Encoding.UTF8, "application/json") }, type);

    private async Task<T> Send<T>(HttpRequestMessage request, JsonTypeInfo<T> type)
    {
        if (_token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
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
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.Unauthorised,
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

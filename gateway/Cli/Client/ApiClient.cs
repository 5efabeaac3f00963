using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace LoxiLb.Edge5G.Cli.Client;

/// <summary>The daemon refused a request: the problem details' title and detail.</summary>
public sealed class ApiProblemException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>The daemon could not be reached (connection refused, timeout, no route).</summary>
public sealed class ApiUnreachableException(string message) : Exception(message);

/// <summary>
/// A small HTTP client of the edge5g REST API (/api/v1): JSON in and out, the bearer token
/// when one is given, and refusals turned into <see cref="ApiProblemException"/>.
/// </summary>
public sealed class ApiClient : IDisposable
{
    public const string DefaultAddress = "127.0.0.1:11111";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public ApiClient(string address, string? token, HttpMessageHandler? handler = null)
    {
        if (!TryBaseAddress(address, out var baseAddress))
            throw new ArgumentException($"--api: '{address}' is not ADDRESS:PORT", nameof(address));
        Address = address;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { BaseAddress = baseAddress, Timeout = Timeout };
        if (!string.IsNullOrEmpty(token))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>What --api was given (shown in errors).</summary>
    public string Address { get; }

    /// <summary>"ADDR:PORT", "[IPv6]:PORT", "host:port" or a full http(s):// URL.</summary>
    public static bool TryBaseAddress(string? text, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var candidate = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")
            || parsed.PathAndQuery != "/" || (!text.Contains("://", StringComparison.Ordinal) && parsed.IsDefaultPort))
            return false;
        uri = parsed;
        return true;
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonElement> PostAsync(string path, object body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, cancellationToken);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
            request.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), Json), Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ApiUnreachableException(Unreachable(e));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ApiUnreachableException($"the edge5g API at {Address} did not answer within {Timeout.TotalSeconds:0} s");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new ApiProblemException((int)response.StatusCode, Problem(response, text));
            if (string.IsNullOrWhiteSpace(text))
                return default;
            try
            {
                using var doc = JsonDocument.Parse(text);
                return doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new ApiProblemException((int)response.StatusCode, $"the API at {Address} answered {path} with something that is not JSON ({e.Message})");
            }
        }
    }

    private string Unreachable(HttpRequestException e)
    {
        var socket = e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
        var why = socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused (is `edge5g run` running and listening there?)",
            SocketError.TimedOut => "connection timed out",
            SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to it",
            SocketError.HostNotFound or SocketError.NoData => "the host name does not resolve",
            _ => socket?.Message ?? e.Message,
        };
        return $"cannot reach the edge5g API at {Address}: {why}";
    }

    /// <summary>"title: detail" of an RFC 7807 body, or the HTTP status when the body is not one.</summary>
    private static string Problem(HttpResponseMessage response, string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
                var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
                if (title is not null || detail is not null)
                    return string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
            }
        }
        catch (JsonException)
        {
            // not a problem details body
        }
        var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        return string.IsNullOrWhiteSpace(text) ? status : $"{status}: {text.Trim()}";
    }

    public void Dispose() => _http.Dispose();
}

using System.Net;
using System.Text;
using System.Text.Json;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>An answer of the API: status, media type, the body as text and (when JSON) parsed.</summary>
public sealed record ApiAnswer(HttpStatusCode Status, string? MediaType, string Text, JsonElement Json, string? Location)
{
    public string Title => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
    public string Detail => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";

    public override string ToString() => $"{(int)Status} {MediaType}: {Text}";
}

/// <summary>Small synchronous helpers over HttpClient for the API tests.</summary>
public static class Http
{
    public static ApiAnswer Get(this HttpClient client, string path) => client.Send(HttpMethod.Get, path);

    public static ApiAnswer Delete(this HttpClient client, string path) => client.Send(HttpMethod.Delete, path);

    public static ApiAnswer Post(this HttpClient client, string path, string json) => client.Send(HttpMethod.Post, path, json);

    public static ApiAnswer Put(this HttpClient client, string path, string json) => client.Send(HttpMethod.Put, path, json);

    public static ApiAnswer Send(this HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = client.SendAsync(request).GetAwaiter().GetResult();
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        JsonElement parsed = default;
        if (text.Length > 0 && text.TrimStart() is ['{' or '[', ..])
        {
            using var doc = JsonDocument.Parse(text);
            parsed = doc.RootElement.Clone();
        }
        return new ApiAnswer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, text, parsed, response.Headers.Location?.ToString());
    }

    /// <summary>Asserts an RFC 7807 body with this status and title; returns it.</summary>
    public static ApiAnswer AssertProblem(this ApiAnswer answer, HttpStatusCode status, string title)
    {
        Assert.True(answer.Status == status, $"expected {(int)status}, got {answer}");
        Assert.Equal("application/problem+json", answer.MediaType);
        Assert.Equal(title, answer.Title);
        Assert.Equal((int)status, answer.Json.GetProperty("status").GetInt32());
        return answer;
    }

    public static ApiAnswer AssertStatus(this ApiAnswer answer, HttpStatusCode status)
    {
        Assert.True(answer.Status == status, $"expected {(int)status}, got {answer}");
        return answer;
    }
}

using System.Net;
using LoxiLb.Edge5G.Api;
using LoxiLb.Edge5G.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace LoxiLb.Edge5G.Host;

/// <summary>
/// Builds the `edge5g run` process: the generic host (configuration, logging, systemd
/// notify and graceful stop), the datapath runtime, the PFCP node, the REST API with its
/// OpenAPI document, and /metrics.
/// </summary>
public static class Daemon
{
    /// <summary>
    /// Configuration in rising precedence: the file (YAML or JSON), EDGE5G_* environment
    /// variables ("__" nests: EDGE5G_Pfcp__Address), then command-line overrides.
    /// </summary>
    public static WebApplication Build(string? configFile, IReadOnlyDictionary<string, string?> overrides, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.Sources.Clear();
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new OptionsValidationException(nameof(GatewayOptions), typeof(GatewayOptions),
                    [$"--config: the configuration file '{configFile}' does not exist"]);
            if (configFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
            else
                builder.Configuration.AddYamlFile(Path.GetFullPath(configFile), optional: false);
        }
        builder.Configuration.AddEnvironmentVariables("EDGE5G_");
        builder.Configuration.AddInMemoryCollection(overrides);

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        // Request-by-request logs of ASP.NET Core are noise for an operator; warnings still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.AddSystemd();
        builder.Services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GatewayRuntime>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayRuntime>());
        builder.Services.AddSingleton<PfcpService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PfcpService>());
        builder.Services.AddSingleton<GtpuPathService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GtpuPathService>());
        builder.Services.AddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));

        var apiListen = builder.Configuration["Api:Listen"] ?? new ApiOptions().Listen;
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (GatewayOptionsValidator.TryParseEndpoint(apiListen, out var endpoint))
                k.Listen(endpoint!);
        });

        var app = builder.Build();
        var token = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Api.Token;
        if (!string.IsNullOrEmpty(token))
            app.Use(async (context, next) =>
            {
                if (context.Request.Headers.Authorization.ToString() != $"Bearer {token}")
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    await Results.Problem(title: "unauthorized", detail: "a bearer token is required", statusCode: 401).ExecuteAsync(context);
                    return;
                }
                await next();
            });
        app.UseExceptionHandler();
        app.MapOpenApi();
        ApiEndpoints.Map(app);
        var metrics = app.Services.GetRequiredService<GatewayMetrics>();
        app.MapMetrics("/metrics", metrics.Registry);
        return app;
    }

    /// <summary>Runs until SIGTERM/SIGINT; configuration problems are printed one per line (exit 2).</summary>
    public static async Task<int> RunAsync(string? configFile, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        WebApplication? app = null;
        try
        {
            app = Build(configFile, overrides);
            await app.StartAsync(cancellationToken);
        }
        catch (OptionsValidationException e)
        {
            Console.Error.WriteLine("edge5g run: invalid configuration:");
            foreach (var failure in e.Failures)
                Console.Error.WriteLine($"  {failure}");
            return 2;
        }
        catch (Exception e) when (e is Bpf.BpfException or Datapath.Compiler.RuleException or IOException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"edge5g run: {e.Message}");
            // A service that failed after the datapath attached (e.g. PFCP could not bind) must
            // not leave it behind: stop what started, so KeepOnStop=false detaches and unpins.
            if (app is not null)
            {
                try
                {
                    await app.StopAsync(CancellationToken.None);
                    await app.DisposeAsync();
                }
                catch (Exception cleanup) when (cleanup is not OutOfMemoryException)
                {
                    Console.Error.WriteLine($"edge5g run: stopping after the failed start: {cleanup.Message}");
                }
            }
            return 1;
        }
        await app.WaitForShutdownAsync(cancellationToken);
        await app.DisposeAsync();
        return 0;
    }
}

using System.Net;
using LoxiLb.Edge5G.Gtpu;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoxiLb.Edge5G.Host;

/// <summary>
/// GTP-U path management: Echo Requests to the peers the sessions' tunnels lead to (gNBs,
/// other UPFs), and a PFCP Node Report to the SMFs when a path fails or recovers. Off when
/// Gtp:EchoInterval is 0, or when our N3 address cannot be bound (logged).
/// </summary>
public sealed partial class GtpuPathService(IOptions<GatewayOptions> options, GatewayRuntime runtime, PfcpService pfcp,
    ILogger<GtpuPathService> log) : IHostedService, IDisposable
{
    private GtpuPathMonitor? _monitor;

    public GtpuPathMonitor? Monitor => _monitor;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var gtp = options.Value.Gtp;
        if (gtp.EchoInterval <= 0 || runtime.Addresses is not { } addresses)
            return Task.CompletedTask;
        var settings = new GtpuPathOptions(TimeSpan.FromSeconds(gtp.EchoInterval), TimeSpan.FromSeconds(gtp.EchoTimeout), gtp.EchoRetries);
        try
        {
            _monitor = new GtpuPathMonitor(addresses.All, Peers, settings,
                peer =>
                {
                    LogPathFailed(log, peer.ToString(), gtp.EchoRetries);
                    pfcp.Node?.ReportUserPlanePath(peer, failed: true);
                },
                peer =>
                {
                    LogPathRecovered(log, peer.ToString());
                    pfcp.Node?.ReportUserPlanePath(peer, failed: false);
                });
        }
        catch (InvalidOperationException e)
        {
            LogPathsUnwatched(log, e.Message);
            return Task.CompletedTask;
        }
        _monitor.Start();
        return Task.CompletedTask;
    }

    /// <summary>The remote ends of every session's tunnels (FARs with outer header creation).</summary>
    private IEnumerable<IPAddress> Peers() =>
        runtime.Sessions.Sessions.SelectMany(c => c.Session.Fars)
            .Select(f => f.Forwarding?.OuterHeader?.Peer).OfType<IPAddress>().Distinct().ToArray();

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _monitor?.Dispose();
        _monitor = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _monitor?.Dispose();

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "GTP-U path to {Peer} failed: {Retries} Echo Requests unanswered; the SMFs are told (Node Report, UPFR)")]
    private static partial void LogPathFailed(ILogger logger, string peer, int retries);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "GTP-U path to {Peer} answers again; the SMFs are told (Node Report, UPRR)")]
    private static partial void LogPathRecovered(ILogger logger, string peer);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "GTP-U paths are not watched: {Reason}")]
    private static partial void LogPathsUnwatched(ILogger logger, string reason);
}

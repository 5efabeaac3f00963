using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Pfcp.Node;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoxiLb.Edge5G.Host;

/// <summary>
/// Runs the N4 node on top of the started datapath, feeds it the datapath's events, and saves
/// the session state (debounced) so a restarted daemon can adopt it.
/// </summary>
public sealed partial class PfcpService(IOptions<GatewayOptions> options, GatewayRuntime runtime, ILoggerFactory logs) : IHostedService, IDisposable
{
    private PfcpNode? _node;
    private UdpGtpuSender? _gtpu;
    private Timer? _saver;

    public PfcpNode? Node => _node;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!string.IsNullOrEmpty(o.Pfcp.Address))
        {
            _gtpu = new UdpGtpuSender();
            _node = new PfcpNode(PfcpNodeSettings.From(o.Pfcp), runtime.Sessions, runtime.Datapath.Tables, logs.CreateLogger<PfcpNode>(),
                gtpu: _gtpu);
            runtime.DatapathEvent += _node.OnDatapathEvent;
            runtime.BufferedPacket += r => _node.OnBufferedPacket(r);
            if (runtime.Adopted && LoadNodeState() is { } saved)
                LogRestored(logs.CreateLogger<PfcpService>(), _node.Restore(saved), saved.Associations.Length);
            _node.Start();
        }
        // Save the session state every second when it changed (PFCP and the REST API both change it).
        var last = -1;
        _saver = new Timer(_ =>
        {
            var now = runtime.Sessions.Version;
            if (now == last)
                return;
            last = now;
            runtime.SaveState();
            SaveNodeState();
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    private string NodeStatePath => Path.Combine(options.Value.Datapath.StateDirectory, "pfcp.json");

    private PfcpNodeRecord? LoadNodeState()
    {
        try
        {
            return File.Exists(NodeStatePath)
                ? System.Text.Json.JsonSerializer.Deserialize<PfcpNodeRecord>(File.ReadAllText(NodeStatePath), Datapath.Json.RulesDocument.JsonOptions)
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private void SaveNodeState()
    {
        if (_node is null)
            return;
        Directory.CreateDirectory(options.Value.Datapath.StateDirectory);
        var temporary = NodeStatePath + ".tmp";
        File.WriteAllText(temporary, System.Text.Json.JsonSerializer.Serialize(_node.Export(), Datapath.Json.RulesDocument.JsonOptions));
        File.Move(temporary, NodeStatePath, overwrite: true);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Waits for a save the timer already started: two saves writing the same temporary
        // file and moving it into place at once made the stop fail.
        if (_saver is not null)
            await _saver.DisposeAsync();
        _saver = null;
        // The node stops first, so it reports nothing after the save: the saved usage state is
        // exact and the next daemon carries every URR on (see PfcpNode.Export). Saved before the
        // runtime stops (hosted services stop in reverse order).
        _node?.Dispose();
        if (options.Value.Datapath.KeepOnStop)
            SaveNodeState();
        else
            File.Delete(NodeStatePath);
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "PFCP node restored {Sessions} sessions and {Associations} associations with its previous Recovery Time Stamp")]
    private static partial void LogRestored(ILogger logger, int sessions, int associations);

    public void Dispose()
    {
        _saver?.Dispose();
        _node?.Dispose();
        _gtpu?.Dispose();
    }
}

/// <summary>GTP-U from the control side (End Markers, TS 29.281 7.3.2; Router Advertisements) sent from
/// a UDP socket bound to our GTP-U address and port 2152.</summary>
public sealed class UdpGtpuSender : IGtpuSender, IDisposable
{
    private readonly Dictionary<IPAddress, (Socket Socket, byte Tos)> _sockets = [];
    private const SocketOptionName Ipv6TrafficClass = (SocketOptionName)67; // IPV6_TCLASS

    public void Send(IPAddress local, IPAddress peer, Gtpu.GtpuMessage message) => Send(local, peer, message, 0);

    public void Send(IPAddress local, IPAddress peer, Gtpu.GtpuMessage message, byte tos)
    {
        lock (_sockets)
        {
            if (!_sockets.TryGetValue(local, out var entry))
            {
                var created = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                created.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                created.Bind(new IPEndPoint(local, Gtpu.GtpuMessage.Port));
                _sockets[local] = entry = (created, 0);
            }
            if (entry.Tos != tos)
            {
                if (local.AddressFamily == AddressFamily.InterNetworkV6)
                    entry.Socket.SetSocketOption(SocketOptionLevel.IPv6, Ipv6TrafficClass, (int)tos);
                else
                    entry.Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.TypeOfService, (int)tos);
                _sockets[local] = entry = (entry.Socket, tos);
            }
            entry.Socket.SendTo(message.Encode(), new IPEndPoint(peer, Gtpu.GtpuMessage.Port));
        }
    }

    public void Dispose()
    {
        lock (_sockets)
            foreach (var (socket, _) in _sockets.Values)
                socket.Dispose();
    }
}

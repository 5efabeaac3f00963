using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using LoxiLb.Edge5G.Api;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;

namespace LoxiLb.Edge5G.Demo;

/// <summary>
/// `edge5g demo`: a lab of namespaces (gNB, gateway, data network, central UPF), the gateway
/// as a real `edge5g run` process in its namespace, a small SMF setting up three PDU sessions
/// over PFCP (a plain one, one with an uplink classifier sending non-local traffic over N9 to
/// the central UPF, one with a downlink MBR), real traffic both ways, and the counters and
/// metrics the gateway reports. Exits 0 only when every check passed; removes everything.
/// </summary>
public sealed class GatewayDemo(TextWriter output)
{
    private static readonly IPAddress DnServer = GtpLab.DataNetworkRouter; // 203.0.113.2 answers pings and UDP echo
    private const uint GnbTeidBase = 0x1000;
    private const uint CentralTeid = 0xc0ffee;
    private const ulong MbrKbps = 4000;
    private readonly List<string> _failures = [];

    /// <summary>The unique part of the lab's namespace names (set once the lab exists).</summary>
    public string? LabId { get; private set; }

    public int Run()
    {
        var clock = Stopwatch.StartNew();
        using var lab = GtpLab.Create(withCentralUpf: true, withDatapath: false);
        LabId = lab.Network.Id;
        Step($"built the lab {LabNetwork.Prefix}{LabId}: namespaces gnb, gw, dn, cupf; veths on 198.51.100.0/24 and 203.0.113.0/25");
        var config = WriteConfig(lab);
        Process? gateway = null;
        try
        {
            Step("starting the gateway: edge5g run --config (in namespace gw)");
            gateway = lab.Gateway.Start(Path.Combine(AppContext.BaseDirectory, "edge5g"), "run", "--config", config);
            using var http = NamespaceHttp.Create(lab.Gateway, new Uri("http://127.0.0.1:11111"));
            if (!WaitReady(http, gateway))
                return Finish(clock);

            using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
            using var echo = new UdpEchoServer(lab.DataNetwork, new IPEndPoint(DnServer, 7000));
            using var central = new GtpuEndpoint(lab.CentralUpf!, GtpLab.CentralUpfAddress);
            using var smf = new DemoSmf(lab.Gnb, GtpLab.GnbAddress, new IPEndPoint(GtpLab.N3, 8805));

            Step("SMF: PFCP association setup");
            var association = smf.Associate();
            Check(association.Cause == PfcpCause.RequestAccepted, $"association: {association.Cause}");

            var sessions = new List<DemoSession>();
            Step("SMF: session 1, plain PDU session (establishment with CHOOSE; a ping from the data network while its downlink buffers; then the gNB F-TEID)");
            sessions.Add(Establish(smf, "plain", smf.Plain(1), GnbTeidBase + 1,
                whileBuffering: ue => lab.DataNetwork.Run(["ping", "-c", "1", "-W", "1", ue.ToString()], check: false)));
            Check(gnb.WaitFor(r => r.Any(m => m.Message.Teid == GnbTeidBase + 1), TimeSpan.FromSeconds(3)),
                "session plain: the ping sent while its downlink buffered reached the gNB once the SMF gave the tunnel");
            Step("SMF: session 2, ULCL: 203.0.113.0/25 breaks out locally, the rest goes over N9 to the central UPF");
            sessions.Add(Establish(smf, "ulcl", smf.Ulcl(2, "203.0.113.0/25", CentralTeid, GtpLab.CentralUpfAddress), GnbTeidBase + 2));
            Step($"SMF: session 3, downlink MBR {MbrKbps / 1000} Mbit/s");
            sessions.Add(Establish(smf, "mbr", smf.Plain(3, MbrKbps), GnbTeidBase + 3));
            if (_failures.Count > 0)
                return Finish(clock);

            // The central UPF answers pings to its data network back over N9, to the session's N9 F-TEID.
            central.Respond = (_, r) => r.Message.Type == GtpuMessageType.GPdu && UePackets.Describe(r.Message.Payload) is { Protocol: 1 } p
                ? GtpuMessage.GPdu(sessions[1].N9Teid, UePackets.Ipv4(p.Destination, p.Source, 1, EchoReply(r.Message.Payload)), 9, PduSessionContainer.Downlink)
                : null;

            Step("traffic: 3 pings and a UDP exchange per session, gNB <-> data network through the XDP datapath");
            foreach (var s in sessions)
            {
                for (ushort seq = 1; seq <= 3; seq++)
                    gnb.Send(GtpLab.N3, GtpuMessage.GPdu(s.UplinkTeid, UePackets.IcmpEchoRequest(s.Ue, DnServer, (ushort)s.CpSeid, seq), qfi: 9));
                gnb.Send(GtpLab.N3, GtpuMessage.GPdu(s.UplinkTeid, UePackets.Udp(s.Ue, DnServer, 40000, 7000, "edge5g demo"u8.ToArray()), qfi: 9));
            }
            Step("traffic: session 2 pings 203.0.113.200, beyond the local network: uplink over N9, reply back over N9");
            gnb.Send(GtpLab.N3, GtpuMessage.GPdu(sessions[1].UplinkTeid, UePackets.IcmpEchoRequest(sessions[1].Ue, GtpLab.RemoteServer, 2, 1), qfi: 9));
            gnb.WaitFor(r => r.Count >= 14, TimeSpan.FromSeconds(5));
            foreach (var s in sessions)
            {
                var replies = gnb.Received.Where(r => r.Message.Teid == s.GnbTeid).ToArray();
                var expected = s.Name == "mbr" ? 4 : 5; // ulcl: one more over N9; plain: the buffered ping
                Check(replies.Length == expected, $"session {s.Name}: {replies.Length} of {expected} downlink packets reached the gNB");
                Check(replies.All(r => r.Message.Container == new PduSessionContainer(PduSessionContainer.Downlink, 9)),
                    $"session {s.Name}: every downlink packet carries a DL PDU Session Container with QFI 9");
            }
            Check(central.Received.Count == 1 && central.Received[0].Message.Teid == CentralTeid,
                $"central UPF received {central.Received.Count} N9 packet(s) with TEID 0x{CentralTeid:x}");

            Step($"traffic: 2 s of downlink UDP at twice the MBR of session 3");
            var delivered = Flood(lab, gnb, sessions[2]);
            Check(Math.Abs(delivered - MbrKbps) <= MbrKbps * 0.1, $"session 3 delivered {delivered:0} kbit/s of {2 * MbrKbps} offered, for an MBR of {MbrKbps} kbit/s");

            PrintTable(http, sessions);
            PrintMetrics(http);

            Step("SMF: deleting the sessions (the final usage reports come back in the responses)");
            foreach (var s in sessions)
            {
                var deleted = (SessionDeletionResponse)smf.Request(new SessionDeletionRequest(), s.UpSeid).Body;
                var usage = deleted.UsageReports.FirstOrDefault()?.VolumeMeasurement;
                Check(deleted.Cause == PfcpCause.RequestAccepted && usage?.TotalPackets > 0,
                    $"session {s.Name} deleted; usage report: {usage?.UplinkVolume} B up, {usage?.DownlinkVolume} B down");
            }
        }
        catch (Exception e) when (e is LabException or TimeoutException or HttpRequestException or SocketException or InvalidCastException)
        {
            _failures.Add(e.Message);
            output.WriteLine($"[demo] error: {e.Message}");
        }
        finally
        {
            if (gateway is not null)
                StopGateway(gateway);
            File.Delete(config);
        }
        return Finish(clock);
    }

    private sealed record DemoSession(string Name, ulong CpSeid, ulong UpSeid, uint UplinkTeid, IPAddress Ue, uint GnbTeid, uint N9Teid);

    /// <param name="whileBuffering">Runs with the UE address between the establishment (downlink FAR: BUFF) and the modification that gives the gNB's tunnel.</param>
    private DemoSession Establish(DemoSmf smf, string name, SessionEstablishmentRequest request, uint gnbTeid, Action<IPAddress>? whileBuffering = null)
    {
        var response = (SessionEstablishmentResponse)smf.Request(request).Body;
        if (response.Cause != PfcpCause.RequestAccepted || response.UpFSeid is null)
        {
            Check(false, $"session {name}: establishment {response.Cause}");
            return new DemoSession(name, request.CpFSeid.Seid, 0, 0, IPAddress.Any, gnbTeid, 0);
        }
        var ul = response.CreatedPdrs.First(c => c.PdrId == 1);
        var n9 = response.CreatedPdrs.FirstOrDefault(c => c.PdrId == 4)?.LocalFTeid?.Teid ?? 0;
        var session = new DemoSession(name, request.CpFSeid.Seid, response.UpFSeid.Seid, ul.LocalFTeid!.Teid, ul.UeIpAddresses[0].Ipv4!, gnbTeid, n9);
        whileBuffering?.Invoke(session.Ue);
        var modified = (SessionModificationResponse)smf.Request(DemoSmf.GnbKnown(gnbTeid, GtpLab.GnbAddress), session.UpSeid).Body;
        Check(modified.Cause == PfcpCause.RequestAccepted, $"session {name}: modification {modified.Cause}");
        output.WriteLine($"[demo]   UP SEID {session.UpSeid}, UE {session.Ue}, uplink TEID 0x{session.UplinkTeid:x}, gNB TEID 0x{gnbTeid:x}" +
                         (n9 != 0 ? $", N9 TEID 0x{n9:x}" : ""));
        return session;
    }

    private static double Flood(GtpLab lab, GtpuEndpoint gnb, DemoSession s)
    {
        gnb.Clear();
        // Twice the MBR, in 1000-byte packets; the delivered rate in steady state: 2 s after
        // the offer's queue filled and the bucket spent its initial burst.
        using var offer = new PacedUdpOffer(lab.DataNetwork, "dn0", new IPEndPoint(s.Ue, 9), 2 * MbrKbps);
        long Delivered() => gnb.Received.Count(r => r.Message.Teid == s.GnbTeid);
        Thread.Sleep(500);
        var before = Delivered();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(2000);
        return (Delivered() - before) * 1000 * 8 / 1000.0 / clock.Elapsed.TotalSeconds;
    }

    private void PrintTable(HttpClient http, IReadOnlyList<DemoSession> sessions)
    {
        var counters = http.GetFromJsonAsync<CountersJson>("/api/v1/counters").GetAwaiter().GetResult()!;
        output.WriteLine();
        output.WriteLine("| SESSION | UP SEID | UE | UPLINK PKTS | UPLINK BYTES | DOWNLINK PKTS | DOWNLINK BYTES |");
        output.WriteLine("|---------|---------|----|-------------|--------------|---------------|----------------|");
        foreach (var s in sessions)
        {
            var c = counters.Sessions.FirstOrDefault(x => x.Seid == s.UpSeid);
            if (c is null)
                continue;
            // Uplink PDRs are 1 and 3 (ULCL), downlink 2 and 4 in the demo's sessions.
            var up = c.Pdrs.Where(p => p.Pdr is 1 or 3).ToArray();
            var down = c.Pdrs.Where(p => p.Pdr is 2 or 4).ToArray();
            output.WriteLine($"| {s.Name,-7} | {s.UpSeid,7} | {s.Ue} | {up.Sum(p => (long)p.Packets),11} | {up.Sum(p => (long)p.Bytes),12} | {down.Sum(p => (long)p.Packets),13} | {down.Sum(p => (long)p.Bytes),14} |");
            Check(up.Sum(p => (long)p.Packets) >= 4, $"session {s.Name}: uplink counted");
        }
        output.WriteLine();
    }

    private void PrintMetrics(HttpClient http)
    {
        var text = http.GetStringAsync("/metrics").GetAwaiter().GetResult();
        output.WriteLine("[demo] /metrics (excerpt):");
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("edge5g_", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal)
                     && (l.StartsWith("edge5g_datapath_packets_total", StringComparison.Ordinal) || l.StartsWith("edge5g_sessions", StringComparison.Ordinal)
                         || l.StartsWith("edge5g_pfcp_associations", StringComparison.Ordinal) || l.StartsWith("edge5g_qer_drops_total", StringComparison.Ordinal)
                         || l.StartsWith("edge5g_pfcp_messages_total{direction=\"in\"", StringComparison.Ordinal))))
            output.WriteLine($"  {line}");
        Check(text.Contains("edge5g_pfcp_associations 1"), "metrics: one PFCP association");
        output.WriteLine();
    }

    private bool WaitReady(HttpClient http, Process gateway)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (gateway.HasExited)
            {
                Check(false, $"the gateway exited with {gateway.ExitCode}: {gateway.StandardError.ReadToEnd().Trim()}");
                return false;
            }
            try
            {
                var status = http.GetFromJsonAsync<Host.GatewayStatus>("/api/v1/status").GetAwaiter().GetResult()!;
                output.WriteLine($"[demo]   gateway {status.Version} up: XDP on {string.Join(", ", status.Interfaces.Select(i => $"{i.Name} ({i.Role}, {i.Mode})"))}");
                return true;
            }
            catch (HttpRequestException)
            {
                Thread.Sleep(200);
            }
        }
        Check(false, "the gateway did not answer on its API within 20 s");
        return false;
    }

    private void StopGateway(Process gateway)
    {
        Step("stopping the gateway (SIGTERM); it removes its datapath as configured");
        if (!gateway.HasExited)
        {
            ProcessRunner.Run("kill", ["-TERM", gateway.Id.ToString()], check: false);
            if (!gateway.WaitForExit(10_000))
                gateway.Kill(entireProcessTree: true);
        }
        var log = gateway.StandardOutput.ReadToEnd();
        foreach (var line in log.Split('\n').Where(l => l.Contains("warn") || l.Contains("fail")))
            output.WriteLine($"[gateway] {line.Trim()}");
    }

    private static string WriteConfig(GtpLab lab)
    {
        var path = Path.Combine(Path.GetTempPath(), $"edge5g-demo-{Environment.ProcessId}.yaml");
        var state = Path.Combine(Path.GetTempPath(), $"edge5g-demo-{Environment.ProcessId}-state");
        File.WriteAllText(path, $"""
            # edge5g demo: the gateway of the lab (see deploy/edge5g.yaml for every key)
            Interfaces:
              Access: n3
              Core: n6
              N9: n9
            Gtp:
              AccessAddresses: [ "198.51.100.1" ]
              CoreAddresses: [ "198.51.100.65" ]
              DataNetworkNextHop: "203.0.113.2"
            Pfcp:
              Address: "198.51.100.1"
              Peers: [ "198.51.100.0/26" ]
              UePools: [ "192.0.2.0/24" ]
              HeartbeatIntervalSeconds: 5
            Api:
              Listen: "127.0.0.1:11111"
            Datapath:
              Sessions: 1024
              PinRoot: "{lab.Network.PinRoot()}"
              StateDirectory: "{state}"
              KeepOnStop: false
            """);
        return path;
    }

    private static byte[] EchoReply(byte[] request)
    {
        var ihl = (request[0] & 0x0f) * 4;
        var icmp = request.AsSpan(ihl).ToArray();
        icmp[0] = 0;
        icmp[2] = icmp[3] = 0;
        var sum = Gtpu.InetChecksum.Compute(icmp);
        icmp[2] = (byte)(sum >> 8);
        icmp[3] = (byte)sum;
        return icmp;
    }

    private void Step(string what) => output.WriteLine($"[demo] {what}");

    private void Check(bool ok, string what)
    {
        output.WriteLine($"[demo]   {(ok ? "ok" : "FAILED")}: {what}");
        if (!ok)
            _failures.Add(what);
    }

    private int Finish(Stopwatch clock)
    {
        output.WriteLine(_failures.Count == 0
            ? $"[demo] OK: traffic verified end to end in {clock.Elapsed.TotalSeconds:0.0} s; lab removed"
            : $"[demo] FAILED ({_failures.Count}): {string.Join("; ", _failures)}");
        return _failures.Count == 0 ? 0 : 1;
    }
}

/// <summary>HTTP to a server listening inside a network namespace (its loopback is not ours).</summary>
public static class NamespaceHttp
{
    public static HttpClient Create(NetworkNamespace ns, Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                Socket socket;
                using (ns.Enter())
                    socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }
}

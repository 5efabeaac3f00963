using System.Net;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Api;
using LoxiLb.Edge5G.Tests.GtpuPath;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Host;

/// <summary>
/// Downlink buffering in the daemon, end to end: a session whose downlink FAR buffers (the SMF
/// does not know the gNB's tunnel yet, as while a UE is paged) gets pings from the data network;
/// `edge5g run` holds them, reports downlink data to the SMF, and sends them to the gNB once the
/// SMF's modification gives the FAR the tunnel.
/// </summary>
public class DownlinkBufferingLabTests
{
    [SkippableFact]
    public void PingsWhileTheFarBuffers_ReachTheGnbOnceTheModificationGivesTheTunnel()
    {
        Privileged.Require();
        using var daemon = LabDaemon.Start();
        var gnbAddress = IPAddress.Parse(LabDaemon.Gnb);
        var (smf, est, ue) = daemon.PlainSession(); // downlink FAR: BUFF|NOCP
        using var _ = smf;
        using var gnb = new GtpuEndpoint(daemon.Peer, gnbAddress);

        for (int i = 0; i < 3; i++)
            daemon.Peer.Run(["ping", "-c", "1", "-W", "1", "-p", $"a{i}", ue.ToString()], check: false);
        Assert.True(GtpuPathMonitorTests.Eventually(() => smf.Reports.Any(r => r.ReportType.HasFlag(ReportType.Dldr)), TimeSpan.FromSeconds(5)),
            $"no downlink data report reached the SMF\n{daemon.Log}");
        Assert.DoesNotContain(gnb.Received, r => r.Message.Type == GtpuMessageType.GPdu);

        Assert.Equal(PfcpCause.RequestAccepted,
            ((SessionModificationResponse)smf.Request(DemoSmf.GnbKnown(0x801, gnbAddress), est.UpFSeid!.Seid).Body).Cause);

        Assert.True(gnb.WaitFor(r => r.Count(m => m.Message.Type == GtpuMessageType.GPdu) >= 3, TimeSpan.FromSeconds(5)),
            $"the gNB received {gnb.Received.Count} messages\n{daemon.Log}");
        var pings = gnb.Received.Where(r => r.Message.Type == GtpuMessageType.GPdu).Select(r => r.Message).ToArray();
        Assert.All(pings, m => Assert.Equal((0x801u, new PduSessionContainer(PduSessionContainer.Downlink, 9)), (m.Teid, m.Container)));
        // Echo requests from the data network's router, in the order sent (each ping's pattern), routed once.
        Assert.Equal([0xa0, 0xa1, 0xa2], pings.Select(m => (int)m.Payload[^1]));
        Assert.All(pings, m => Assert.Equal((8, 63), (m.Payload[20], m.Payload[8])));
        using var http = daemon.Client();
        var metrics = http.GetStringAsync("metrics").GetAwaiter().GetResult();
        Assert.Contains("edge5g_datapath_packets_total{reason=\"buffered\",verdict=\"forward\"} 3\n", metrics);
        Assert.Contains("edge5g_control_user_plane_total{event=\"buffer-held\"} 3\n", metrics);
        Assert.Contains("edge5g_control_user_plane_total{event=\"buffer-sent\"} 3\n", metrics);
    }
}

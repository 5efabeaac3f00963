using System.Net;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Api;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Host;

/// <summary>
/// Fragmentation in the daemon, end to end: `edge5g run` reads the packets its program hands
/// over (downlink IPv4 without DF, too big for the tunnel) and sends their fragments to the
/// gNB; /metrics counts them.
/// </summary>
public class FragmentationLabTests
{
    [SkippableFact]
    public void ADownlinkPingWithoutDfTooBigForTheTunnel_ReachesTheGnbAsFragments_AndIsCounted()
    {
        Privileged.Require();
        using var daemon = LabDaemon.Start();
        var gnbAddress = IPAddress.Parse(LabDaemon.Gnb);
        var (smf, est, ue) = daemon.PlainSession();
        using var _ = smf;
        Assert.Equal(PfcpCause.RequestAccepted,
            ((SessionModificationResponse)smf.Request(DemoSmf.GnbKnown(0x701, gnbAddress), est.UpFSeid!.Seid).Body).Cause);
        using var gnb = new GtpuEndpoint(daemon.Peer, gnbAddress);

        daemon.Peer.Run(["ping", "-M", "dont", "-c", "1", "-W", "1", "-s", "1472", ue.ToString()], check: false);

        Assert.True(gnb.WaitFor(r => r.Count(m => m.Message.Type == GtpuMessageType.GPdu) >= 2, TimeSpan.FromSeconds(5)),
            $"the gNB received {gnb.Received.Count} messages\n{daemon.Log}");
        var pieces = gnb.Received.Where(r => r.Message.Type == GtpuMessageType.GPdu).Select(r => r.Message).ToArray();
        Assert.All(pieces, m => Assert.Equal((0x701u, new PduSessionContainer(PduSessionContainer.Downlink, 9)), (m.Teid, m.Container)));
        Assert.Equal([1452, 68], pieces.Select(m => m.Payload.Length));
        using var http = daemon.Client();
        var metrics = http.GetStringAsync("metrics").GetAwaiter().GetResult();
        Assert.Contains("edge5g_datapath_packets_total{reason=\"fragmented\",verdict=\"forward\"} 1\n", metrics);
        Assert.Contains("edge5g_control_user_plane_total{event=\"fragments-sent\"} 2\n", metrics);
        Assert.Contains("edge5g_control_user_plane_total{event=\"fragment-refused\"} 0\n", metrics);
    }
}

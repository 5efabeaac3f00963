using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Tests.Datapath;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Lab;

/// <summary>
/// IPv6 address configuration end to end: when the session's downlink gets its tunnel the gNB
/// receives an unsolicited Router Advertisement with the session's /64; the UE's Router
/// Solicitation goes up the tunnel, the XDP program hands it to the node through the ring
/// buffer, and the answer comes down the same session's tunnel.
/// </summary>
public class RouterAdvertisementLabTests
{
    private static readonly IPAddress UeIpv6 = IPAddress.Parse("2001:db8:10:1::10");

    [SkippableFact]
    public void RouterSolicitation_FromTheGnbSide_IsAnsweredWithTheSessionsPrefix_DownItsTunnel()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        using var gtpu = new UdpGtpuSender();
        using var node = LabPfcpNode.Start(lab, gtpu);
        using var events = new BpfRingBuffer<EventRecord>(lab.Datapath.Object.MapDescriptor("events"), node.OnDatapathEvent);
        using var smf = new DemoSmf(lab.Gateway, IPAddress.Parse("127.0.0.2"), LabPfcpNode.Endpoint);
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        Assert.Equal(PfcpCause.RequestAccepted, smf.Associate().Cause);
        var plain = smf.Plain(1);
        // A dual-stack session: the SMF assigned the UE's IPv6 address too.
        var request = plain with
        {
            CreatePdrs = [.. plain.CreatePdrs.Select(p => p with
            {
                Pdi = p.Pdi with { UeIpAddresses = [.. p.Pdi.UeIpAddresses.Select(u => u with { Ipv6 = UeIpv6 })] },
            })],
        };
        var est = (SessionEstablishmentResponse)smf.Request(request).Body;
        Assert.Equal(PfcpCause.RequestAccepted, est.Cause);
        var uplinkTeid = est.CreatedPdrs.First(c => c.PdrId == 1).LocalFTeid!.Teid;
        smf.Request(DemoSmf.GnbKnown(0x111, GtpLab.GnbAddress), est.UpFSeid!.Seid);

        // The unsolicited RA as soon as the downlink has its tunnel, then the answer to the UE's RS.
        Assert.True(gnb.WaitFor(r => r.Any(x => x.Message.Type == GtpuMessageType.GPdu), TimeSpan.FromSeconds(3)), "no unsolicited RA");
        gnb.Send(GtpLab.N3, GtpuMessage.GPdu(uplinkTeid, GtpRouterSolicitationTests.RouterSolicitation(), 9, PduSessionContainer.Uplink));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        using (lab.Gateway.Enter()) // the answer is sent from N3, in the gateway's namespace
            while (DateTime.UtcNow < deadline && gnb.Received.Count(r => r.Message.Type == GtpuMessageType.GPdu) < 2)
                events.Poll(TimeSpan.FromMilliseconds(50));

        var advertisements = gnb.Received.Where(r => r.Message.Type == GtpuMessageType.GPdu).ToArray();
        Assert.Equal(2, advertisements.Length);
        Assert.All(advertisements, ra =>
        {
            Assert.Equal(GtpLab.N3, ra.From.Address);
            Assert.Equal(GtpuMessage.Port, ra.From.Port);
            Assert.Equal(0x111u, ra.Message.Teid);
            Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), ra.Message.Container);
            Assert.Equal(Convert.ToHexString(RouterAdvertisement.Build(UeIpv6)), Convert.ToHexString(ra.Message.Payload));
        });
        Assert.Equal(1, node.Counters.UserPlaneCount(PfcpCounters.RouterAdvertisementUnsolicited));
        Assert.Equal(1, node.Counters.UserPlaneCount(PfcpCounters.RouterAdvertisementSent));
    }
}

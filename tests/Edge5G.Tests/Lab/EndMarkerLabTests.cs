using System.Net;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Lab;

/// <summary>
/// Path switch (TS 29.244 5.2.2.3): a modification that moves the gNB tunnel with SNDEM set
/// makes the gateway send an End Marker on the old path, seen by the gNB on the wire.
/// </summary>
public class EndMarkerLabTests
{
    [SkippableFact]
    public void UpdateFarWithSndem_SendsAnEndMarkerWithTheOldTeid_ThenDownlinkUsesTheNewOne()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        using var endMarkers = new UdpGtpuSender();
        using var node = LabPfcpNode.Start(lab, endMarkers);
        using var smf = new DemoSmf(lab.Gateway, IPAddress.Parse("127.0.0.2"), LabPfcpNode.Endpoint);
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        Assert.Equal(PfcpCause.RequestAccepted, smf.Associate().Cause);
        var est = (SessionEstablishmentResponse)smf.Request(smf.Plain(1)).Body;
        var ue = est.CreatedPdrs.First(c => c.PdrId == 1).UeIpAddresses[0].Ipv4!;
        smf.Request(DemoSmf.GnbKnown(0x111, GtpLab.GnbAddress), est.UpFSeid!.Seid);

        var handover = new SessionModificationRequest
        {
            UpdateFars = [new UpdateFar(2)
            {
                UpdateForwardingParameters = new UpdateForwardingParameters
                {
                    OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(0x222, GtpLab.GnbAddress),
                    SmReqFlags = PfcpSmReqFlags.Sndem,
                },
            }],
        };
        var moved = (SessionModificationResponse)smf.Request(handover, est.UpFSeid.Seid).Body;

        Assert.Equal(PfcpCause.RequestAccepted, moved.Cause);
        Assert.True(gnb.WaitFor(r => r.Any(x => x.Message.Type == GtpuMessageType.EndMarker), TimeSpan.FromSeconds(3)), "no End Marker reached the gNB");
        var marker = gnb.Received.Single(x => x.Message.Type == GtpuMessageType.EndMarker);
        Assert.Equal((0x111u, GtpLab.N3), (marker.Message.Teid, marker.From.Address));
        Assert.Empty(marker.Message.Payload);

        // Downlink now goes to the new tunnel.
        lab.DataNetwork.Run(["ping", "-c", "1", "-W", "2", ue.ToString()], check: false);
        Assert.True(gnb.WaitFor(r => r.Any(x => x.Message.Type == GtpuMessageType.GPdu), TimeSpan.FromSeconds(3)), "no downlink G-PDU after the switch");
        Assert.All(gnb.Received.Where(x => x.Message.Type == GtpuMessageType.GPdu), x => Assert.Equal(0x222u, x.Message.Teid));
    }
}

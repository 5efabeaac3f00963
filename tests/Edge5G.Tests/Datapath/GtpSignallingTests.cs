using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>GTP-U path management and tunnel signalling: echo, error indication, end marker.</summary>
public class GtpSignallingTests
{
    [SkippableFact]
    public void EchoRequest_IsAnsweredInXdp_WithTheSequenceNumberAndARecoveryIe()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });
        var request = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(0x1234), sourcePort: 40123);

        var run = h.Run(request);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        var response = new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 7], Sequence: 0x1234);
        PacketAssert.Equal(EchoFrame(N3, Gnb, 40123, response), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.EchoReplied));
    }

    [SkippableFact]
    public void EchoRequest_PaddedTo60Bytes_IsAnsweredInPlace_TheFrameKeptWithZeroPadding()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16 });
        var request = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(1));
        var padded = request.Concat(new byte[60 - request.Length]).ToArray();

        var run = h.Run(padded);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        var reply = EchoFrame(N3, Gnb, 2152, new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 0], Sequence: 1));
        PacketAssert.Equal(reply.Concat(new byte[60 - reply.Length]).ToArray(), run.Output);
    }

    /// <summary>The minimum-size IPv4 frame takes the fast echo path (written over the request):
    /// the reply must carry the same bytes the general path writes for the unpadded request.</summary>
    [SkippableFact]
    public void EchoRequest_PaddedTo60Bytes_FromAnEphemeralPort_GetsTheRecoveryCounter_AndTheRequestsPort()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });
        var request = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(0xbeef), sourcePort: 40123, ttl: 3);
        var padded = request.Concat(new byte[60 - request.Length]).ToArray();

        var fast = h.Run(padded);
        var general = h.Run(request);

        Assert.Equal(XdpAction.Tx, fast.Verdict);
        var reply = EchoFrame(N3, Gnb, 40123, new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 7], Sequence: 0xbeef));
        PacketAssert.Equal(reply.Concat(new byte[60 - reply.Length]).ToArray(), fast.Output);
        PacketAssert.Equal(reply, general.Output);
        Assert.Equal(2UL, h.StatPackets(DatapathStat.EchoReplied));
    }

    [SkippableFact]
    public void EchoRequest_PaddedTo60Bytes_ToAnAddressNotOurs_GoesToTheStackUntouched()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16 });
        var request = Gtp(GnbMac, GatewayMac, Gnb, IPAddress.Parse("198.51.100.77"), GtpuMessage.EchoRequest(1));
        var padded = request.Concat(new byte[60 - request.Length]).ToArray();

        var run = h.Run(padded);

        Assert.Equal(XdpAction.Pass, run.Verdict);
        PacketAssert.Equal(padded, run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.PassNotOurs));
        Assert.Equal(0UL, h.StatPackets(DatapathStat.EchoReplied));
    }

    [SkippableFact]
    public void EchoRequest_OverIpv6_IsAnsweredWithAValidUdpChecksum()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16 });
        var request = Gtp(GnbMac, GatewayMac, Gnbv6, N3v6, GtpuMessage.EchoRequest(9));

        var run = h.Run(request);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Gtp(GatewayMac, GnbMac, N3v6, Gnbv6, new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 0], Sequence: 9)), run.Output);
    }

    [SkippableFact]
    public void EchoResponse_GoesToTheStackForThePathManager()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16 });
        var frame = Gtp(GnbMac, GatewayMac, Gnb, N3, new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 0], Sequence: 1));

        Assert.Equal(XdpAction.Pass, h.Run(frame).Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.PassSignalling));
    }

    [SkippableFact]
    public void ErrorIndication_IsCountedAndDropped()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16 });
        var frame = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.ErrorIndication(DownlinkTeid, Gnb));

        Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ErrorIndication));
    }

    [SkippableFact]
    public void EndMarker_OnAnN9Tunnel_FollowsTheFarTowardsTheGnb_WithTheGnbTeid()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var marker = Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, new GtpuMessage(GtpuMessageType.EndMarker, N9Teid, []));

        var run = h.Run(marker);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, null, qfi: null, endMarker: true), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.EndMarker));
    }

    [SkippableFact]
    public void EndMarker_AtADecapsulatingFar_EndsHere()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var marker = Gtp(GnbMac, GatewayMac, Gnb, N3, new GtpuMessage(GtpuMessageType.EndMarker, UplinkTeid, []));

        Assert.Equal(XdpAction.Drop, h.Run(marker).Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.EndMarker));
    }

    private static byte[] EchoFrame(IPAddress src, IPAddress dst, ushort dstPort, GtpuMessage response)
    {
        var udp = new UdpPacket(2152, dstPort) { PayloadData = response.Encode() };
        var ip = new IPv4Packet(src, dst) { TimeToLive = 64, Id = 1, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.Checksum = 0;
        ip.UpdateIPChecksum();
        return Ethernet(GatewayMac, GnbMac, ip);
    }
}

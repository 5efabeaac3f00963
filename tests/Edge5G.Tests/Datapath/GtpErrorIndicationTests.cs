using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// A G-PDU to our address with a TEID no session has (TS 29.281 7.3.1): the sender gets an
/// Error Indication naming that TEID and our address, within the configured rate; beyond it,
/// and for what is not a G-PDU or carries TEID 0, the packet is only dropped.
/// </summary>
public class GtpErrorIndicationTests
{
    private const uint StrayTeid = 0xdeadbeef;

    [SkippableFact]
    public void GPdu_ForAnUnknownTeid_IsAnsweredWithAnErrorIndication_ToTheSendersPort2152()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.GPdu(StrayTeid, InnerUdp4(Ue, LocalServer, 1, 2).Bytes, 9), sourcePort: 40123);
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(ErrorIndication4(StrayTeid), run.Output);
        stats.AssertOnly(DatapathStat.ErrorIndicationSent, frame.Length);
    }

    [SkippableFact]
    public void GPdu_ForAnUnknownTeid_OverIpv6_GetsAnErrorIndicationWithOurIpv6Address_AndAGoodUdpChecksum()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var frame = Gtp(GnbMac, GatewayMac, Gnbv6, N3v6, GtpuMessage.GPdu(StrayTeid, InnerUdp4(Ue, LocalServer, 1, 2).Bytes));
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        var udp = new UdpPacket(2152, 2152) { PayloadData = GtpuMessage.ErrorIndication(StrayTeid, N3v6).Encode() };
        var ip = new IPv6Packet(N3v6, Gnbv6) { HopLimit = 64, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        PacketAssert.Equal(Ethernet(GatewayMac, GnbMac, ip), run.Output);
        stats.AssertOnly(DatapathStat.ErrorIndicationSent, frame.Length);
    }

    [SkippableFact]
    public void GPdu_ForAnUnknownTeid_OnAVlan_IsAnsweredOnThatVlan()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var frame = new OuterFrame { VlanTpid = OuterFrame.Dot1Q, Payload = GtpuMessage.GPdu(StrayTeid, InnerUdp4(Ue, LocalServer, 1, 2).Bytes, 9).Encode() }.Build();

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        Assert.Equal(frame[12..16], run.Output[12..16]); // the request's tag
        var requestId = (ushort)(frame[18 + 4] << 8 | frame[18 + 5]);
        Assert.Equal(ErrorIndication4(StrayTeid, requestId)[14..], Untagged(run.Output)[14..]);
    }

    [SkippableFact]
    public void GPdu_ForAnUnknownTeid_BehindQinQ_IsAnsweredBehindTheSameTwoTags()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var frame = new OuterFrame { ServiceVlanId = 200, VlanTpid = OuterFrame.Dot1Q, Payload = GtpuMessage.GPdu(StrayTeid, InnerUdp4(Ue, LocalServer, 1, 2).Bytes, 9).Encode() }.Build();

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        Assert.Equal(frame[12..20], run.Output[12..20]); // both of the request's tags
        var requestId = (ushort)(frame[22 + 4] << 8 | frame[22 + 5]);
        Assert.Equal(ErrorIndication4(StrayTeid, requestId)[14..], Untagged(run.Output)[14..]);
    }

    [SkippableFact]
    public void ErrorIndications_BeyondTheConfiguredRate_AreNotSent_TheGPdusOnlyDropped()
    {
        Privileged.Require();
        using var h = new GtpHarness(GtpHarness.DefaultOptions with { ErrorIndicationRate = 2 });
        var frame = Uplink(StrayTeid, InnerUdp4(Ue, LocalServer, 1, 2), qfi: 9);

        var verdicts = Enumerable.Range(0, 5).Select(_ => h.Run(frame).Verdict).ToArray();

        // One window of a second holds all five runs unless the machine stalls for a second.
        Assert.Equal([XdpAction.Tx, XdpAction.Tx, XdpAction.Drop, XdpAction.Drop, XdpAction.Drop], verdicts);
        Assert.Equal(2UL, h.StatPackets(DatapathStat.ErrorIndicationSent));
        Assert.Equal(3UL, h.StatPackets(DatapathStat.DropNoSession));
    }

    [SkippableFact]
    public void RateZero_SendsNoErrorIndication()
    {
        Privileged.Require();
        using var h = new GtpHarness(GtpHarness.DefaultOptions with { ErrorIndicationRate = 0 });
        var frame = Uplink(StrayTeid, InnerUdp4(Ue, LocalServer, 1, 2), qfi: 9);
        var stats = new StatSnapshot(h);

        Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict);
        stats.AssertOnly(DatapathStat.DropNoSession, frame.Length);
    }

    public static TheoryData<string> NotAnswered => ["G-PDU with TEID 0", "End Marker for an unknown TEID"];

    [SkippableTheory]
    [MemberData(nameof(NotAnswered))]
    public void OnlyGPdusWithANonZeroTeid_AreAnswered(string what)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var message = what == "G-PDU with TEID 0"
            ? GtpuMessage.GPdu(0, InnerUdp4(Ue, LocalServer, 1, 2).Bytes, 9)
            : new GtpuMessage(GtpuMessageType.EndMarker, StrayTeid, []);
        var frame = Gtp(GnbMac, GatewayMac, Gnb, N3, message);
        var stats = new StatSnapshot(h);

        Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict);
        stats.AssertOnly(DatapathStat.DropNoSession, frame.Length, what);
    }

    /// <summary>
    /// The Error Indication the datapath writes over IPv4: the G-PDU's outer header turned round
    /// (its ID kept, no DF, TTL 64, UDP checksum 0), sequence number 0.
    /// </summary>
    private static byte[] ErrorIndication4(uint teid, ushort ipId = 1)
    {
        var udp = new UdpPacket(2152, 2152) { PayloadData = GtpuMessage.ErrorIndication(teid, N3).Encode() };
        var ip = new IPv4Packet(N3, Gnb) { TimeToLive = 64, Id = ipId, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.Checksum = 0;
        ip.UpdateIPChecksum();
        return Ethernet(GatewayMac, GnbMac, ip);
    }
}

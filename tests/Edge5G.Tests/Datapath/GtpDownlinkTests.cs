using System.Collections.Immutable;
using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>Downlink packets from the data network, encapsulated towards the gNB.</summary>
public class GtpDownlinkTests
{
    [SkippableFact]
    public void DownlinkIpv4_ToTheUe_IsEncapsulatedWithTeidAndDownlinkQfi9()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ForwardDownlink));
        Assert.Equal(new Counter { Packets = 1, Bytes = (ulong)packet.TotalLength }, h.PdrCounter(1, 2));
    }

    [SkippableFact]
    public void DownlinkIpv4_WithoutQerQfi_GetsAPlainGtpuHeader()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic(qers: [new Qer(1)]));
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 10);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: null), run.Output);
    }

    [SkippableFact]
    public void DownlinkIpv6_ToTheUePrefix_IsEncapsulated()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var session = Basic() with
        {
            Pdrs = [Basic().Pdrs[0], new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1])],
        };
        h.Sessions.Establish(session);
        // Any address of the UE's /64 reaches it.
        var packet = InnerUdp6(Serverv6, IPAddress.Parse("2001:db8:10:1::abcd"), 443, 50000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
    }

    /// <summary>
    /// Open5GS assigns UE IPv6 addresses of one shared /64 (::10, ::11, ...): each session is
    /// matched by its exact address; other addresses of the /64 (a privacy address) go to the
    /// session that took the /64 first.
    /// </summary>
    [SkippableFact]
    public void DownlinkIpv6_TwoSessionsInOneSlash64_EachExactAddressReachesItsSession_TheRestTheFirst()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var second = IPAddress.Parse("2001:db8:10:1::11");
        Session WithV6(Session s, IPAddress v6) => s with { Pdrs = [s.Pdrs[0], new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv6: v6), FarId: 2, QerIds: [1])] };
        h.Sessions.Establish(WithV6(Basic(), Uev6));
        h.Sessions.Establish(WithV6(Basic(seid: 2, ulTeid: UplinkTeid + 1, ue: IPAddress.Parse("192.0.2.11"), dlTeid: DownlinkTeid + 1), second));

        foreach (var (ue, teid) in new[] { (Uev6, DownlinkTeid), (second, DownlinkTeid + 1), (IPAddress.Parse("2001:db8:10:1:a1b2:c3d4:e5f6:1"), DownlinkTeid) })
        {
            var packet = InnerUdp6(Serverv6, ue, 443, 50000);

            var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

            Assert.Equal(XdpAction.Tx, run.Verdict);
            PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, teid, Forwarded(packet), qfi: 9), run.Output);
        }
        // Without the second session its address is one more of the first's /64; without the
        // first, nothing of the /64 is ours.
        h.Sessions.Delete(2);
        var toSecond = InnerUdp6(Serverv6, second, 443, 50000);
        var after = h.Run(Ethernet(RouterMac, GatewayMac, toSecond));
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(toSecond), qfi: 9), after.Output);
        h.Sessions.Delete(1);
        Assert.Equal(XdpAction.Pass, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp6(Serverv6, Uev6, 443, 50000))).Verdict);
    }

    [SkippableFact]
    public void Downlink_OverAnIpv6Transport_CarriesAComputedUdpChecksum()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic(gnb: Gnbv6));
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 333);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3v6, Gnbv6, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
    }

    [SkippableFact]
    public void DownlinkToAnAddressWithoutSession_GoesToTheStack()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.99"), 1, 2));

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Pass, run.Verdict);
        PacketAssert.Equal(frame, run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.PassNotOurs));
    }

    [SkippableFact]
    public void DownlinkWithExpiringTtl_GoesToTheStackUnchanged()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 1, 2, ttl: 1));

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Pass, run.Verdict);
        PacketAssert.Equal(frame, run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.PassTtl));
    }

    [SkippableFact]
    public void DownlinkThatWouldExceedTheEgressMtu_IsDropped_NotSentBroken()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        // 1500-byte IP packet + 36 bytes of IPv4/UDP/GTP-U/PSC exceeds the 1500 MTU; with DF it
        // may not be fragmented, and without ICMP sources no error is sent (GtpTooBigTests).
        var frame = Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 1, 2, payload: 1500 - 28, dontFragment: true));

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Drop, run.Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropMtu));
    }
}

using System.Buffers.Binary;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// A next hop behind a VLAN device (N3 or N6 on a VLAN sub-interface): XDP cannot transmit on
/// the VLAN device, so the next hop names its parent and the tag, and the program writes the
/// tag the VLAN device would have added. Every kind of output gets it: decapsulated uplink,
/// encapsulated downlink over IPv4 and IPv6, N9 re-encapsulation, End Marker.
/// </summary>
public class GtpVlanEgressTests
{
    // Slots of the harness's static routes: 0 data network, 1 gNB, 2 central UPF, 3 gNB over IPv6.
    private const uint DataNetworkSlot = 0, GnbSlot = 1, CentralUpfSlot = 2, Gnbv6Slot = 3;

    private static void TagNextHop(GtpHarness h, uint slot, ushort tpid, ushort vlan)
    {
        Assert.True(h.Datapath.Tables.Nexthops.TryGet(slot, out var entry));
        entry.Vlan = 1;
        entry.VlanProto = BinaryPrimitives.ReverseEndianness(tpid);
        entry.VlanTci = BinaryPrimitives.ReverseEndianness(vlan);
        h.Datapath.Tables.Nexthops.Put(slot, entry);
    }

    [SkippableFact]
    public void DownlinkEncapsulation_TowardsAGnbOnVlan100_CarriesThe8021QTag()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        TagNextHop(h, GnbSlot, OuterFrame.Dot1Q, 100);
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Tagged(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), OuterFrame.Dot1Q, 100), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ForwardDownlink));
    }

    [SkippableFact]
    public void DownlinkEncapsulation_OverIpv6_On8021adVlan300_CarriesTheTagAndAGoodUdpChecksum()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic(gnb: Gnbv6));
        TagNextHop(h, Gnbv6Slot, OuterFrame.Dot1Ad, 300);
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 333);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Tagged(Encapsulated(GatewayMac, GnbMac, N3v6, Gnbv6, DownlinkTeid, Forwarded(packet), qfi: 9), OuterFrame.Dot1Ad, 300), run.Output);
    }

    [SkippableFact]
    public void UplinkDecapsulation_TowardsADataNetworkOnVlan200_CarriesTheTag()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        TagNextHop(h, DataNetworkSlot, OuterFrame.Dot1Q, 200);
        var inner = InnerUdp4(Ue, LocalServer, 40000, 5001);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Tagged(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), OuterFrame.Dot1Q, 200), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ForwardUplink));
    }

    [SkippableFact]
    public void N9Reencapsulation_AndEndMarker_TowardsVlanPeers_CarryTheirTags()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        TagNextHop(h, CentralUpfSlot, OuterFrame.Dot1Q, 900);
        TagNextHop(h, GnbSlot, OuterFrame.Dot1Q, 100);
        var remote = InnerUdp4(Ue, RemoteServer, 40000, 443);

        var n9 = h.Run(Uplink(UplinkTeid, remote, qfi: 9));
        var marker = h.Run(Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, new GtpuMessage(GtpuMessageType.EndMarker, N9Teid, [])));

        PacketAssert.Equal(Tagged(Encapsulated(GatewayMac, CentralUpfMac, N3, CentralUpf, CentralTeid, Forwarded(remote), 9, PduSessionContainer.Uplink),
            OuterFrame.Dot1Q, 900), n9.Output);
        PacketAssert.Equal(Tagged(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, null, null, endMarker: true), OuterFrame.Dot1Q, 100), marker.Output);
        Assert.Equal((XdpAction.Tx, XdpAction.Tx), (n9.Verdict, marker.Verdict));
    }
}

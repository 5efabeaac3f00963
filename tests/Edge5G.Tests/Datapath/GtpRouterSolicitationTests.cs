using System.Collections.Immutable;
using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using PacketDotNet.Ndp;
using PacketDotNet.Utils;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// A UE's ICMPv6 Router Solicitation comes from its link-local address, which no UE-address
/// filter matches: the datapath drops it, counts it as router-solicitation and tells the
/// control side (one event per PDR per second) so it can answer with the session's prefix.
/// A PDR that takes the packet (an SMF's own rule for it) still wins.
/// </summary>
public class GtpRouterSolicitationTests
{
    private static readonly IPAddress UeLinkLocal = IPAddress.Parse("fe80::2:1:c731:f114");
    private static readonly IPAddress AllRouters = IPAddress.Parse("ff02::2");

    /// <summary>Dual-stack session: uplink PDR 1 (UE 192.0.2.10 and 2001:db8:10:1::10), downlink PDRs for both.</summary>
    private static Session DualStack()
    {
        var basic = Basic();
        return basic with
        {
            Pdrs =
            [
                basic.Pdrs[0] with { Pdi = basic.Pdrs[0].Pdi with { UeIpv6 = Uev6 } },
                basic.Pdrs[1],
                new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1]),
            ],
        };
    }

    /// <summary>RFC 4861 4.1: type 133, code 0, four reserved octets; hop limit 255 to all-routers.</summary>
    public static byte[] RouterSolicitation(byte hopLimit = 255)
    {
        var bytes = new byte[40 + 8];
        bytes[0] = 0x60;
        bytes[5] = 8;   // payload length
        bytes[6] = 58;  // ICMPv6
        bytes[7] = hopLimit;
        UeLinkLocal.GetAddressBytes().CopyTo(bytes, 8);
        AllRouters.GetAddressBytes().CopyTo(bytes, 24);
        bytes[40] = 133;
        InternetChecksum.SetIcmpv6(bytes);
        Assert.True(new IPv6Packet(new ByteArraySegment(bytes)).Extract<IcmpV6Packet>().ValidIcmpChecksum);
        return bytes;
    }

    private static byte[] UplinkOf(byte[] inner) =>
        Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.GPdu(UplinkTeid, inner, 9, PduSessionContainer.Uplink));

    [SkippableTheory]
    [InlineData("untagged (fast path)")]
    [InlineData("802.1Q (general parser)")]
    public void RouterSolicitation_FromTheUe_IsDroppedCounted_AndRaisesOneEventPerSecondNamingTheSession(string how)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var compiled = h.Sessions.Establish(DualStack());
        var events = new List<EventRecord>();
        using var ring = new BpfRingBuffer<EventRecord>(h.Datapath.Object.MapDescriptor("events"), e => events.Add(e));
        var payload = GtpuMessage.GPdu(UplinkTeid, RouterSolicitation(), 9).Encode();
        var frame = new OuterFrame { Payload = payload, VlanTpid = how.StartsWith("802.1Q", StringComparison.Ordinal) ? OuterFrame.Dot1Q : null }.Build();

        for (int i = 0; i < 3; i++)
        {
            var stats = new StatSnapshot(h);
            Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict);
            stats.AssertOnly(DatapathStat.RouterSolicitation, frame.Length);
        }
        ring.Poll(TimeSpan.Zero);

        var only = Assert.Single(events);
        Assert.Equal(EventKind.RouterSolicitation, only.Kind);
        Assert.Equal(compiled.PdrStats[1], only.Index); // the uplink PDR: its owner is the session
        Assert.Equal(9, only.Qfi);
    }

    [SkippableFact]
    public void IcmpV6FromTheLinkLocalAddress_ThatIsNotARouterSolicitation_IsNoRule()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(DualStack());
        var stats = new StatSnapshot(h);

        // Hop limit 64: whatever it is, RFC 4861 6.1.1 says it is not a valid solicitation.
        var frame = UplinkOf(RouterSolicitation(hopLimit: 64));

        Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict);
        stats.AssertOnly(DatapathStat.DropNoRule, frame.Length);
    }

    [SkippableFact]
    public void RouterSolicitation_ThatAPdrTakes_FollowsThatPdr()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var dual = DualStack();
        // An uplink PDR without a UE address (the SMF's catch-all) takes the solicitation.
        h.Sessions.Establish(dual with { Pdrs = [dual.Pdrs[0] with { Pdi = dual.Pdrs[0].Pdi with { UeIpv4 = null, UeIpv6 = null } }, .. dual.Pdrs[1..]] });
        var stats = new StatSnapshot(h);
        var rs = RouterSolicitation();

        var frame = UplinkOf(rs);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        Assert.Equal(Convert.ToHexString(Forwarded(rs)), Convert.ToHexString(run.Output[14..]));
        stats.AssertOnly(DatapathStat.ForwardUplink, frame.Length);
    }

    [Fact]
    public void RouterAdvertisement_IsByteExact_AndPacketDotNetReadsThePrefixAndAValidChecksum()
    {
        var ra = RouterAdvertisement.Build(Uev6);

        // 6 0 0 | payload 48, ICMPv6, hop limit 255 | fe80::1 | ff02::1 |
        // RA: 134 0 checksum, cur hop limit 64, flags 0, lifetime 65535, reachable 0, retrans 0 |
        // Prefix Information: 3 4 /64 A, valid and preferred infinite, reserved, 2001:db8:10:1::
        Assert.Equal(
            "60000000" + "0030" + "3A" + "FF" +
            "FE800000000000000000000000000001" + "FF020000000000000000000000000001" +
            "86" + "00" + Convert.ToHexString(ra[42..44]) + "40" + "00" + "FFFF" + "00000000" + "00000000" +
            "03" + "04" + "40" + "40" + "FFFFFFFF" + "FFFFFFFF" + "00000000" + "20010DB8001000010000000000000000",
            Convert.ToHexString(ra));
        var ip = new IPv6Packet(new ByteArraySegment(ra));
        var icmp = ip.Extract<IcmpV6Packet>();
        Assert.True(icmp.ValidIcmpChecksum);
        var advertisement = Assert.IsType<NdpRouterAdvertisementPacket>(icmp.PayloadPacket);
        Assert.Equal(65535, advertisement.RouterLifetime);
        var prefix = Assert.IsType<NdpLinkPrefixInformationOption>(Assert.Single(advertisement.OptionsCollection));
        Assert.Equal(64, prefix.PrefixLength);
        Assert.Equal(IPAddress.Parse("2001:db8:10:1::"), prefix.Prefix);
        Assert.True(prefix.AutonomousAddressConfiguration);
        Assert.False(prefix.OnLink);
    }
}

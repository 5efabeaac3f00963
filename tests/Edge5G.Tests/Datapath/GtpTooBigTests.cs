using System.Buffers.Binary;
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

/// <summary>
/// A downlink packet too big once encapsulated (1500-byte N3 MTU, 44 octets of outer
/// IPv4/UDP/GTP-U with the PDU Session Container): its sender in the data network is told the
/// size that fits, so path MTU discovery works instead of a silent black hole.
/// </summary>
public class GtpTooBigTests
{
    internal static readonly IPAddress N6 = IPAddress.Parse("203.0.113.1");
    internal static readonly IPAddress N6v6 = IPAddress.Parse("2001:db8:200::1");
    private const int InnerMtu = 1500 - 44;

    // Own options, so the pooled datapath whose ICMP sources these tests set is not shared.
    private static readonly GtpDatapathOptions Options = GtpHarness.DefaultOptions with { IcmpErrorRate = 1000 };

    internal static GtpHarness Harness(ushort rate = 1000)
    {
        var h = new GtpHarness(Options);
        h.Datapath.SetIcmpSources(N6, N6v6);
        h.Datapath.SetIcmpErrorRate(rate);
        h.Datapath.SetFragmentRate(GtpDatapathOptions.DefaultFragmentRate); // a pooled datapath may have had it changed
        return h;
    }

    internal static IPv4Packet TooBig4(bool dontFragment = true) =>
        InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 1500 - 28, dontFragment: dontFragment);

    [SkippableFact]
    public void Ipv4WithDf_IsAnsweredWithFragmentationNeeded_CarryingTheMtuThatFits_AndQuoting548Octets()
    {
        Privileged.Require();
        using var h = Harness();
        h.Sessions.Establish(Basic());
        var packet = TooBig4();

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        var reply = FragmentationNeeded(N6, packet, InnerMtu);
        Assert.Equal(576, reply.TotalLength);
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, reply), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.IcmpTooBigSent));
        Assert.Equal(0UL, h.StatPackets(DatapathStat.DropMtu));
        Assert.Equal(new Counter(), h.PdrCounter(1, 2)); // nothing went down the tunnel
    }

    [SkippableFact]
    public void Ipv6_IsAnsweredWithPacketTooBig_QuotingUpTo1280Octets_WithItsChecksum()
    {
        Privileged.Require();
        using var h = Harness();
        h.Sessions.Establish(Basic() with
        {
            Pdrs = [Basic().Pdrs[0], new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1])],
        });
        var packet = InnerUdp6(Serverv6, Uev6, 443, 50000, payload: 1500 - 48);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        var reply = PacketTooBig(N6v6, packet, InnerMtu);
        Assert.Equal(1280, reply.TotalLength);
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, reply), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.IcmpTooBigSent));
    }

    [SkippableFact]
    public void AVlanTaggedPacket_IsAnsweredOnItsVlan()
    {
        Privileged.Require();
        using var h = Harness();
        h.Sessions.Establish(Basic());
        var frame = Ethernet(RouterMac, GatewayMac, TooBig4());

        var tagged = h.Run(Tagged(frame, OuterFrame.Dot1Q, 100));
        var untagged = h.Run(frame);

        Assert.Equal(XdpAction.Tx, tagged.Verdict);
        Assert.Equal(XdpAction.Tx, untagged.Verdict);
        Assert.Equal(14 + 20 + 8 + 548, untagged.Output.Length);
        Assert.Equal(Tagged(untagged.Output, OuterFrame.Dot1Q, 100), tagged.Output);
        Assert.Equal(2UL, h.StatPackets(DatapathStat.IcmpTooBigSent));
    }

    [SkippableTheory]
    [InlineData("ipv4 without DF, fragment rate 0")]
    [InlineData("an ICMP error")]
    [InlineData("no source address")]
    [InlineData("rate 0")]
    [InlineData("a multicast sender")]
    public void NoErrorIsDue_ThePacketIsOnlyDropped_AsDropMtu(string what)
    {
        Privileged.Require();
        using var h = Harness(rate: what == "rate 0" ? (ushort)0 : (ushort)1000);
        if (what == "no source address")
            h.Datapath.SetIcmpSources(null, N6v6);
        if (what.EndsWith("fragment rate 0"))
            h.Datapath.SetFragmentRate(0);
        h.Sessions.Establish(Basic());
        IPv4Packet packet = what switch
        {
            "ipv4 without DF, fragment rate 0" => TooBig4(dontFragment: false),
            "an ICMP error" => IcmpError(),
            "a multicast sender" => Resourced(TooBig4(), IPAddress.Parse("224.0.0.9")),
            _ => TooBig4(),
        };
        var frame = Ethernet(RouterMac, GatewayMac, packet);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Drop, run.Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropMtu));
        Assert.Equal(0UL, h.StatPackets(DatapathStat.IcmpTooBigSent));
        Assert.Equal(0UL, h.StatPackets(DatapathStat.Fragmented));
        Assert.Equal(new Counter(), h.PdrCounter(1, 2));
    }

    /// <summary>
    /// IPv4 without DF may be fragmented: the program hands the packet, with the FAR's tunnel
    /// and the QFI, to the control side (ring buffer slow_packets) and counts it on the PDR;
    /// the control side's fragments go down the tunnel and reassemble to the packet.
    /// </summary>
    [SkippableFact]
    public void Ipv4WithoutDf_IsHandedToTheControlSideWithItsTunnel_CountedOnThePdr_AndItsFragmentsReassembleToIt()
    {
        Privileged.Require();
        using var h = Harness();
        h.Sessions.Establish(Basic());
        var packet = TooBig4(dontFragment: false);
        var records = new List<SlowPacketRecord>();
        using var ring = new BpfRingBuffer<SlowPacketRecord>(h.Datapath.Object.MapDescriptor("slow_packets"), records.Add);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));
        ring.Poll(TimeSpan.Zero);

        Assert.Equal(XdpAction.Drop, run.Verdict); // the frame itself goes no further
        Assert.Equal(1UL, h.StatPackets(DatapathStat.Fragmented));
        Assert.Equal(0UL, h.StatPackets(DatapathStat.DropMtu));
        Assert.Equal(new Counter { Packets = 1, Bytes = 1500 }, h.PdrCounter(1, 2)); // usage: forwarded, in pieces
        var record = Assert.Single(records);
        Assert.Equal(DownlinkTeid, BinaryPrimitives.ReverseEndianness(record.Teid));
        Assert.Equal((InnerMtu, 1500, OuterHeaderCreationKind.GtpuIpv4, (byte)9), (record.Mtu, record.Len, record.OuterHeaderCreation, record.Qfi));
        var sent = new RecordingSender();
        var fragmenter = new TooBigFragmenter(sent, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        fragmenter.Handle(record);

        Assert.Equal((1L, 2L, 0L), (fragmenter.Packets, fragmenter.Fragments, fragmenter.Refused));
        Assert.All(sent.Messages, m =>
        {
            Assert.Equal((N3, Gnb, (byte)0), (m.Local, m.Peer, m.Tos));
            Assert.Equal(GtpuMessageType.GPdu, m.Message.Type);
            Assert.Equal(DownlinkTeid, m.Message.Teid);
            Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), m.Message.Container);
            Assert.True(m.Message.Payload.Length <= InnerMtu);
        });
        Assert.Equal(Ipv4Fragmenter.Fragment(packet.Bytes, InnerMtu).Select(Convert.ToHexString), sent.Messages.Select(m => Convert.ToHexString(m.Message.Payload)));
    }

    private sealed class RecordingSender : LoxiLb.Edge5G.Pfcp.Node.IGtpuSender
    {
        public List<(IPAddress Local, IPAddress Peer, GtpuMessage Message, byte Tos)> Messages { get; } = [];

        public void Send(IPAddress local, IPAddress peer, GtpuMessage message) => Send(local, peer, message, 0);

        public void Send(IPAddress local, IPAddress peer, GtpuMessage message, byte tos) => Messages.Add((local, peer, message, tos));
    }

    [SkippableFact]
    public void ErrorsBeyondTheRate_AreNotSent_ThePacketsOnlyDropped()
    {
        Privileged.Require();
        using var h = Harness(rate: 2);
        h.Sessions.Establish(Basic());
        var frame = Ethernet(RouterMac, GatewayMac, TooBig4());

        var verdicts = Enumerable.Range(0, 4).Select(_ => h.Run(frame).Verdict).ToArray();

        Assert.Equal([XdpAction.Tx, XdpAction.Tx, XdpAction.Drop, XdpAction.Drop], verdicts);
        Assert.Equal(2UL, h.StatPackets(DatapathStat.IcmpTooBigSent));
        Assert.Equal(2UL, h.StatPackets(DatapathStat.DropMtu));
    }

    /// <summary>A too-big ICMP Destination Unreachable (an error: never answered with one).</summary>
    private static IPv4Packet IcmpError()
    {
        var icmp = new byte[1480];
        icmp[0] = 3;
        icmp[1] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), InetChecksum.Compute(icmp));
        var ip = new IPv4Packet(LocalServer, Ue) { TimeToLive = 64, Id = 1, Protocol = PacketDotNet.ProtocolType.Icmp, PayloadData = icmp, FragmentFlags = 0x2 };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ip;
    }

    private static IPv4Packet Resourced(IPv4Packet ip, IPAddress source)
    {
        ip.SourceAddress = source;
        ip.UpdateIPChecksum();
        return ip;
    }
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>Uplink classifier: one session split between local breakout (N6) and a central UPF (N9).</summary>
public class GtpUlclTests
{
    [SkippableFact]
    public void UplinkToTheLocalDataNetwork_MatchesPdr1AndBreaksOutOnN6()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(Ue, LocalServer, 40000, 5001);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), run.Output);
        Assert.Equal(1UL, h.PdrCounter(7, 1).Packets);
        Assert.Equal(0UL, h.PdrCounter(7, 2).Packets);
    }

    [SkippableFact]
    public void UplinkElsewhere_MatchesPdr2AndIsReencapsulatedTowardsTheCentralUpf_KeepingQfi()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(Ue, RemoteServer, 40000, 443);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, CentralUpfMac, N3, CentralUpf, CentralTeid, Forwarded(inner), qfi: 9,
            pduType: PduSessionContainer.Uplink), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ForwardN9));
        Assert.Equal(1UL, h.PdrCounter(7, 2).Packets);
    }

    /// <summary>
    /// The uplink re-encapsulated towards the central UPF does not fit N9's 1500 octets: an
    /// inner packet without DF goes to the control side with the N9 tunnel and the UL PDU
    /// type, to be fragmented; one with DF is dropped (no ICMP back into a tunnel).
    /// </summary>
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void UplinkTooBigForN9_WithoutDf_IsHandedOverWithTheN9Tunnel_WithDf_IsDropped(bool dontFragment)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Datapath.SetFragmentRate(GtpDatapathOptions.DefaultFragmentRate);
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(Ue, RemoteServer, 40000, 443, payload: 1500 - 28, dontFragment: dontFragment);
        var records = new List<SlowPacketRecord>();
        using var ring = new BpfRingBuffer<SlowPacketRecord>(h.Datapath.Object.MapDescriptor("slow_packets"), records.Add);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));
        ring.Poll(TimeSpan.Zero);

        Assert.Equal(XdpAction.Drop, run.Verdict);
        Assert.Equal(0UL, h.StatPackets(DatapathStat.ForwardN9));
        if (dontFragment)
        {
            Assert.Equal(1UL, h.StatPackets(DatapathStat.DropMtu));
            Assert.Empty(records);
            Assert.Equal(0UL, h.PdrCounter(7, 2).Packets);
            return;
        }
        Assert.Equal(1UL, h.StatPackets(DatapathStat.Fragmented));
        Assert.Equal(new Counter { Packets = 1, Bytes = 1500 }, h.PdrCounter(7, 2));
        var record = Assert.Single(records);
        Assert.Equal(CentralTeid, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(record.Teid));
        Assert.Equal((1500 - 44, 1500, (byte)9, PduSessionContainer.Uplink), (record.Mtu, record.Len, record.Qfi, record.PduType));
        unsafe
        {
            Assert.Equal(CentralUpf.GetAddressBytes(), new ReadOnlySpan<byte>(record.Peer, 4).ToArray());
            Assert.Equal(inner.Bytes, new ReadOnlySpan<byte>(record.Packet, record.Len).ToArray());
        }
    }

    [SkippableFact]
    public void DownlinkFromTheCentralUpf_OverN9_MergesIntoTheGnbTunnel()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(RemoteServer, Ue, 443, 40000);
        var fromCentral = Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, GtpuMessage.GPdu(N9Teid, inner.Bytes, 9, PduSessionContainer.Downlink));

        var run = h.Run(fromCentral);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(inner), qfi: 9), run.Output);
        Assert.Equal(1UL, h.PdrCounter(7, 4).Packets);
    }

    [SkippableFact]
    public void DownlinkFromTheLocalDataNetwork_MergesIntoTheSameGnbTunnel()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
        Assert.Equal(1UL, h.PdrCounter(7, 3).Packets);
    }

    [SkippableFact]
    public void UplinkWithASpoofedSource_MatchesNoPdr_AndIsDropped()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());

        var run = h.Run(Uplink(UplinkTeid, InnerUdp4(System.Net.IPAddress.Parse("192.0.2.66"), LocalServer, 1, 2), qfi: 9));

        Assert.Equal(XdpAction.Drop, run.Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropNoRule));
    }
}

using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Lab;

/// <summary>
/// Real traffic through the attached XDP program: a simulated gNB's GTP-U socket in its own
/// namespace, the gateway namespace, and the data network namespace's own kernel answering.
/// </summary>
public class GtpLabTests
{
    private static readonly IPAddress Ue = IPAddress.Parse("192.0.2.10");
    private const uint UlTeid = 0x100, DlTeid = 0x200, N9Teid = 0x300, CentralTeid = 0x400;

    private static Session PduSession(ulong seid = 1, ImmutableArray<Qer> qers = default) => new(seid,
        [
            new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(UlTeid, GtpLab.N3), UeIpv4: Ue), FarId: 1, RemoveOuterHeader: true),
            new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv4: Ue), FarId: 2, QerIds: [1]),
        ],
        [
            new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
            new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(DlTeid, GtpLab.GnbAddress))),
        ],
        qers.IsDefault ? [new Qer(1, Qfi: 9)] : qers);

    /// <summary>
    /// GTP-U path management through the real datapath: the gNB's Echo Responses come back to the
    /// monitor's ephemeral port across the XDP program on N3 (handed to the stack, not taken for
    /// GTP-U), and a gNB that falls silent is reported once.
    /// </summary>
    [SkippableFact]
    public void EchoRequestsToTheGnb_AreAnsweredThroughTheDatapath_AndASilentGnbIsReported()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        lab.Sessions.Establish(PduSession());
        GtpuPath.GtpuPathMonitorTests.Peer gnb;
        using (lab.Gnb.Enter())
            gnb = new GtpuPath.GtpuPathMonitorTests.Peer(GtpLab.GnbAddress);
        using var gnbScope = gnb;
        var failed = new System.Collections.Concurrent.ConcurrentQueue<IPAddress>();
        GtpuPathMonitor monitor;
        using (lab.Gateway.Enter())
            monitor = new GtpuPathMonitor([GtpLab.N3], () => [GtpLab.GnbAddress], GtpuPath.GtpuPathMonitorTests.Fast, failed.Enqueue, _ => { });
        using var monitorScope = monitor;
        monitor.Start();

        Assert.True(GtpuPath.GtpuPathMonitorTests.Eventually(() => monitor.EchoResponsesReceived >= 2, TimeSpan.FromSeconds(5)),
            $"{monitor.EchoResponsesReceived} Echo Responses reached the monitor, {monitor.EchoRequestsSent} requests sent");
        Assert.Empty(failed);
        Assert.All(gnb.Requests, r => Assert.Equal(GtpuMessageType.EchoRequest, r.Type));

        gnb.Answering = false;
        Assert.True(GtpuPath.GtpuPathMonitorTests.Eventually(() => !failed.IsEmpty, TimeSpan.FromSeconds(5)), "the silent gNB was not reported");
        Assert.Equal([GtpLab.GnbAddress], failed.ToArray());
    }

    /// <summary>
    /// Path MTU discovery across the tunnel, with the data network's own kernel as the judge: a
    /// 1500-byte ping with DF does not fit the 1500-byte N3 link once encapsulated, the sender's
    /// kernel learns 1456 from the gateway's Fragmentation Needed, and a ping of that size
    /// reaches the gNB.
    /// </summary>
    [SkippableFact]
    public void ADownlinkPacketTooBigForTheTunnel_TeachesTheSenderThePathMtu_AndOneThatFitsGetsThrough()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        lab.Sessions.Establish(PduSession());
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);

        var tooBig = lab.DataNetwork.Run(["ping", "-M", "do", "-c", "1", "-W", "1", "-s", "1472", Ue.ToString()], check: false);
        var route = lab.DataNetwork.Run("ip", "route", "get", Ue.ToString()).StandardOutput;
        lab.DataNetwork.Run(["ping", "-M", "do", "-c", "1", "-W", "1", "-s", $"{1456 - 28}", Ue.ToString()], check: false);

        Assert.Contains("mtu 1456", route);
        Assert.Contains("mtu = 1456", tooBig.StandardOutput + tooBig.StandardError);
        Assert.Equal(1UL, lab.Datapath.Stat(DatapathStat.IcmpTooBigSent).Packets);
        Assert.True(gnb.WaitFor(r => r.Count >= 1, TimeSpan.FromSeconds(3)), "the 1456-byte ping did not reach the gNB");
        var tunnelled = Assert.Single(gnb.Received);
        Assert.Equal(1456, tunnelled.Message.Payload.Length);
        Assert.Equal(DlTeid, tunnelled.Message.Teid);
    }

    /// <summary>
    /// A 1500-byte ping without DF from the data network does not fit the 1500-byte N3 link once
    /// encapsulated: the program hands it to the gateway's slow path, whose two IPv4 fragments
    /// (1452 and 68 octets) reach the gNB down the session's tunnel with QFI 9 and reassemble
    /// to the ping.
    /// </summary>
    [SkippableFact]
    public void ADownlinkPacketWithoutDfTooBigForTheTunnel_ReachesTheGnbAsTwoFragments()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        lab.Sessions.Establish(PduSession());
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        using var slowPath = new LabSlowPath(lab);

        lab.DataNetwork.Run(["ping", "-M", "dont", "-c", "1", "-W", "1", "-s", "1472", "-p", "5a", Ue.ToString()], check: false);
        slowPath.Drain(TimeSpan.FromSeconds(1));

        Assert.Equal(1UL, lab.Datapath.Stat(DatapathStat.Fragmented).Packets);
        Assert.Equal((1L, 2L), (slowPath.Fragmenter.Packets, slowPath.Fragmenter.Fragments));
        Assert.True(gnb.WaitFor(r => r.Count >= 2, TimeSpan.FromSeconds(3)), $"the gNB received {gnb.Received.Count} of 2 fragments");
        var pieces = gnb.Received.Select(r => r.Message).ToArray();
        Assert.All(gnb.Received, r => Assert.Equal(GtpLab.N3, r.From.Address));
        Assert.All(pieces, m => Assert.Equal((DlTeid, new PduSessionContainer(PduSessionContainer.Downlink, 9)), (m.Teid, m.Container)));
        Assert.Equal([1452, 68], pieces.Select(m => m.Payload.Length));
        Assert.Equal([0x2000, 179], pieces.Select(m => (m.Payload[6] << 8) | m.Payload[7])); // MF + offset 0; offset 1432 / 8
        Assert.All(pieces, m => Assert.Equal(63, m.Payload[8])); // routed: TTL 64 - 1
        // Reassembled: an ICMP echo request of 1480 octets from the data network's router, pattern 0x5a.
        var icmp = pieces[0].Payload.Skip(20).Concat(pieces[1].Payload.Skip(20)).ToArray();
        Assert.Equal(1480, icmp.Length);
        Assert.Equal(8, icmp[0]);
        Assert.Equal(0, InetChecksum.Compute(icmp));
        Assert.All(icmp.Skip(8 + 16), b => Assert.Equal(0x5a, b)); // after ping's timestamp
    }

    [SkippableFact]
    public void PingAndUdp_FromTheUe_GoUpAsGtpu_AndComeBackTunnelledWithTheGnbTeidAndQfi9()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        lab.Sessions.Establish(PduSession());
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        using var echo = new UdpEchoServer(lab.DataNetwork, new IPEndPoint(GtpLab.DataNetworkRouter, 7000));

        for (ushort seq = 1; seq <= 3; seq++)
            gnb.Send(GtpLab.N3, GtpuMessage.GPdu(UlTeid, UePackets.IcmpEchoRequest(Ue, GtpLab.DataNetworkRouter, 77, seq), qfi: 9));
        gnb.Send(GtpLab.N3, GtpuMessage.GPdu(UlTeid, UePackets.Udp(Ue, GtpLab.DataNetworkRouter, 40000, 7000, "hello data network"u8.ToArray()), qfi: 9));

        Assert.True(gnb.WaitFor(r => r.Count >= 4, TimeSpan.FromSeconds(5)), $"the gNB received {gnb.Received.Count} of 4 downlink packets");
        Assert.All(gnb.Received, r =>
        {
            Assert.Equal(GtpLab.N3, r.From.Address);
            Assert.Equal(GtpuMessageType.GPdu, r.Message.Type);
            Assert.Equal(DlTeid, r.Message.Teid);
            Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), r.Message.Container);
        });
        var inner = gnb.Received.Select(r => UePackets.Describe(r.Message.Payload)).ToArray();
        Assert.Equal(3, inner.Count(p => p.Protocol == 1 && p.TypeOrSourcePort == 0 /* echo reply */ && p.Source.Equals(GtpLab.DataNetworkRouter) && p.Destination.Equals(Ue)));
        var udp = Assert.Single(inner, p => p.Protocol == 17);
        Assert.Equal((7000, 40000), (udp.TypeOrSourcePort, udp.DestinationPort));
        Assert.Equal("hello data network", System.Text.Encoding.ASCII.GetString(gnb.Received.Single(r => r.Message.Payload[9] == 17).Message.Payload.AsSpan(28)));
        // The data network's replies were routed by the gateway: TTL 64 - 1.
        Assert.All(inner, p => Assert.Equal(63, p.Ttl));

        Assert.Equal(4UL, lab.Datapath.Stat(DatapathStat.ForwardUplink).Packets);
        Assert.Equal(4UL, lab.Datapath.Stat(DatapathStat.ForwardDownlink).Packets);
        Assert.Equal(1, echo.Echoed);
    }

    /// <summary>
    /// Framed routing on the wire: a host in the network behind the UE (192.0.2.128/26, a
    /// CPE's LAN) pings the data network through the UE's tunnel, and the data network's
    /// kernel answers it; the answers come down the UE's tunnel, found by the route.
    /// </summary>
    [SkippableFact]
    public void AHostBehindTheUe_ReachesTheDataNetwork_AndItsRepliesComeDownTheUesTunnel_ByTheFramedRoute()
    {
        Privileged.Require();
        using var lab = GtpLab.Create();
        var routed = PduSession();
        var behind = IPNetwork.Parse("192.0.2.128/26");
        lab.Sessions.Establish(routed with { Pdrs = [.. routed.Pdrs.Select(p => p with { Pdi = p.Pdi with { FramedRoutes = [behind] } })] });
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        var host = IPAddress.Parse("192.0.2.140");

        for (ushort seq = 1; seq <= 3; seq++)
            gnb.Send(GtpLab.N3, GtpuMessage.GPdu(UlTeid, UePackets.IcmpEchoRequest(host, GtpLab.DataNetworkRouter, 78, seq), qfi: 9));

        Assert.True(gnb.WaitFor(r => r.Count >= 3, TimeSpan.FromSeconds(5)), $"the gNB received {gnb.Received.Count} of 3 downlink packets");
        Assert.All(gnb.Received, r =>
        {
            Assert.Equal(DlTeid, r.Message.Teid);
            Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), r.Message.Container);
            var p = UePackets.Describe(r.Message.Payload);
            Assert.Equal((1, 0), (p.Protocol, p.TypeOrSourcePort)); // echo reply
            Assert.Equal((GtpLab.DataNetworkRouter, host), (p.Source, p.Destination));
        });
        Assert.Equal(3UL, lab.Datapath.Stat(DatapathStat.ForwardUplink).Packets);
        Assert.Equal(3UL, lab.Datapath.Stat(DatapathStat.ForwardDownlink).Packets);
    }

    /// <summary>The gateway's slow path as the daemon runs it: what the program hands over, fragmented and sent from the gateway namespace.</summary>
    private sealed class LabSlowPath : IDisposable
    {
        private readonly GtpLab _lab;
        private readonly LoxiLb.Edge5G.Host.UdpGtpuSender _sender = new();
        private readonly LoxiLb.Edge5G.Bpf.BpfRingBuffer<SlowPacketRecord> _ring;

        public LabSlowPath(GtpLab lab)
        {
            _lab = lab;
            Fragmenter = new TooBigFragmenter(_sender, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            _ring = new(lab.Datapath.Object.MapDescriptor("slow_packets"), r => Fragmenter.Handle(r));
        }

        public TooBigFragmenter Fragmenter { get; }

        /// <summary>Handles what the program handed over, waiting up to <paramref name="timeout"/> for the first record.</summary>
        public void Drain(TimeSpan timeout)
        {
            using (_lab.Gateway.Enter()) // the fragments leave from the gateway's addresses
                _ring.Poll(timeout);
        }

        public void Dispose()
        {
            _ring.Dispose();
            _sender.Dispose();
        }
    }

    /// <summary>ULCL: uplink to 203.0.113.0/25 breaks out on N6, the rest goes over N9 to the central UPF.</summary>
    private static Session UlclSession() => new Session(9,
        [
            new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(UlTeid, GtpLab.N3), UeIpv4: Ue,
                SdfFilters: [new SdfFilter("permit out ip from 203.0.113.0/25 to assigned")]), FarId: 1, RemoveOuterHeader: true),
            new Pdr(2, 200, new Pdi(InterfaceType.Access, new FTeid(UlTeid, GtpLab.N3), UeIpv4: Ue), FarId: 3, RemoveOuterHeader: true),
            new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv4: Ue), FarId: 2, QerIds: [1]),
            new Pdr(4, 100, new Pdi(InterfaceType.Core, new FTeid(N9Teid, GtpLab.N9)), FarId: 2, RemoveOuterHeader: true, QerIds: [1]),
        ],
        [
            new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
            new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(DlTeid, GtpLab.GnbAddress))),
            new Far(3, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core, new OuterHeaderCreation(CentralTeid, GtpLab.CentralUpfAddress))),
        ],
        [new Qer(1, Qfi: 9)]);

    [SkippableFact]
    public void Ulcl_LocalTrafficBreaksOut_RemoteTrafficReachesTheCentralUpfOverN9_AndItsRepliesReachTheGnb()
    {
        Privileged.Require();
        using var lab = GtpLab.Create(withCentralUpf: true);
        lab.Sessions.Establish(UlclSession());
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        // The central UPF answers pings to its data network back over N9, to our N9 F-TEID.
        using var central = new GtpuEndpoint(lab.CentralUpf!, GtpLab.CentralUpfAddress, (_, r) =>
            r.Message.Type == GtpuMessageType.GPdu && UePackets.Describe(r.Message.Payload) is { Protocol: 1 } p
                ? GtpuMessage.GPdu(N9Teid, UePackets.Ipv4(p.Destination, p.Source, 1, EchoReplyOf(r.Message.Payload)), 9, PduSessionContainer.Downlink)
                : null);

        gnb.Send(GtpLab.N3, GtpuMessage.GPdu(UlTeid, UePackets.IcmpEchoRequest(Ue, GtpLab.DataNetworkRouter, 1, 1), qfi: 9));
        gnb.Send(GtpLab.N3, GtpuMessage.GPdu(UlTeid, UePackets.IcmpEchoRequest(Ue, GtpLab.RemoteServer, 1, 2), qfi: 9));

        Assert.True(central.WaitFor(r => r.Count >= 1, TimeSpan.FromSeconds(5)), "the central UPF received no N9 GTP-U");
        var n9 = Assert.Single(central.Received);
        Assert.Equal(GtpLab.N9, n9.From.Address);
        Assert.Equal(CentralTeid, n9.Message.Teid);
        Assert.Equal(new PduSessionContainer(PduSessionContainer.Uplink, 9), n9.Message.Container);
        Assert.Equal(GtpLab.RemoteServer, UePackets.Describe(n9.Message.Payload).Destination);

        Assert.True(gnb.WaitFor(r => r.Count >= 2, TimeSpan.FromSeconds(5)), $"the gNB received {gnb.Received.Count} of 2 replies");
        var sources = gnb.Received.Select(r => UePackets.Describe(r.Message.Payload).Source).ToHashSet();
        Assert.Equal(new HashSet<IPAddress> { GtpLab.DataNetworkRouter, GtpLab.RemoteServer }, sources);
        Assert.All(gnb.Received, r => Assert.Equal((DlTeid, (byte)9), (r.Message.Teid, r.Message.Container!.Qfi)));
        Assert.Equal(1UL, lab.Datapath.Stat(DatapathStat.ForwardN9).Packets);
    }

    /// <summary>
    /// N9 narrower than N3 (1400 against 1500 octets): a 1400-byte uplink packet without DF fits
    /// the gNB's tunnel but not the central UPF's once re-encapsulated. The slow path's two
    /// fragments reach the central UPF with the UL PDU Session Container and reassemble to it.
    /// </summary>
    [SkippableFact]
    public void UplinkWithoutDfTooBigForN9_ReachesTheCentralUpfAsTwoFragments_WithTheUlContainer()
    {
        Privileged.Require();
        using var lab = GtpLab.Create(withCentralUpf: true);
        lab.Gateway.Run("ip", "link", "set", "dev", "n9", "mtu", "1400");
        lab.Sessions.Establish(UlclSession());
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        using var central = new GtpuEndpoint(lab.CentralUpf!, GtpLab.CentralUpfAddress);
        using var slowPath = new LabSlowPath(lab);
        var ping = UePackets.IcmpEchoRequest(Ue, GtpLab.RemoteServer, 1, 3, payload: 1400 - 28);

        gnb.Send(GtpLab.N3, GtpuMessage.GPdu(UlTeid, ping, qfi: 9));
        slowPath.Drain(TimeSpan.FromSeconds(2));

        Assert.Equal(1UL, lab.Datapath.Stat(DatapathStat.Fragmented).Packets);
        Assert.True(central.WaitFor(r => r.Count >= 2, TimeSpan.FromSeconds(3)), $"the central UPF received {central.Received.Count} of 2 fragments");
        var pieces = central.Received.Select(r => r.Message).ToArray();
        Assert.All(central.Received, r => Assert.Equal(GtpLab.N9, r.From.Address));
        Assert.All(pieces, m => Assert.Equal((CentralTeid, new PduSessionContainer(PduSessionContainer.Uplink, 9)), (m.Teid, m.Container)));
        Assert.Equal([1356, 64], pieces.Select(m => m.Payload.Length)); // 1400 - 44 fits: 20 + 1336, then 20 + 44
        Assert.Equal(ping.AsSpan(20).ToArray(), pieces.SelectMany(m => m.Payload.Skip(20)).ToArray());
        Assert.Equal(0UL, lab.Datapath.Stat(DatapathStat.ForwardN9).Packets);
    }

    [SkippableFact]
    public void DownlinkMbr_OfferedTwiceTheRate_DeliversWithinTenPercentOfTheMbr()
    {
        Privileged.Require();
        const ulong mbrKbps = 8000; // 8 Mbit/s
        using var lab = GtpLab.Create();
        lab.Sessions.Establish(PduSession(qers: [new Qer(1, DownlinkMbrKbps: mbrKbps, Qfi: 9)]));
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        // Twice the MBR, paced in the kernel (PacedUdpOffer): a stalled test thread on a
        // loaded machine does not thin the offer.
        ulong forwarded, policed;
        double seconds;
        using (new PacedUdpOffer(lab.DataNetwork, "dn0", new IPEndPoint(Ue, 9), 2 * mbrKbps))
        {
            // The delivered rate in steady state: datapath counters over two seconds, once the
            // queue is full and the bucket has spent its initial burst.
            Thread.Sleep(500);
            var forwardedBefore = lab.Datapath.Stat(DatapathStat.ForwardDownlink).Packets;
            var policedBefore = lab.Datapath.Stat(DatapathStat.DropMbr).Packets;
            var clock = Stopwatch.StartNew();
            Thread.Sleep(2000);
            forwarded = lab.Datapath.Stat(DatapathStat.ForwardDownlink).Packets - forwardedBefore;
            policed = lab.Datapath.Stat(DatapathStat.DropMbr).Packets - policedBefore;
            seconds = clock.Elapsed.TotalSeconds;
        }
        gnb.WaitFor(_ => false, TimeSpan.FromMilliseconds(300));

        var forwardedKbps = forwarded * 1000 * 8 / 1000.0 / seconds;
        var offeredKbps = (forwarded + policed) * 1000 * 8 / 1000.0 / seconds;
        Assert.InRange(offeredKbps, 2 * mbrKbps * 0.9, 2 * mbrKbps * 1.1);
        Assert.InRange(forwardedKbps, mbrKbps * 0.9, mbrKbps * 1.1);
        // The gNB gets the forwarded packets whole, with the session's TEID.
        Assert.True(gnb.Received.Count >= (int)forwarded, $"{gnb.Received.Count} packets reached the gNB, {forwarded} were forwarded in the window alone");
        Assert.All(gnb.Received, r => Assert.Equal(1000, r.Message.Payload.Length));
    }

    private static byte[] EchoReplyOf(byte[] request)
    {
        var ihl = (request[0] & 0x0f) * 4;
        var icmp = request.AsSpan(ihl).ToArray();
        icmp[0] = 0; // echo reply
        icmp[2] = icmp[3] = 0;
        var sum = Gtpu.InetChecksum.Compute(icmp);
        icmp[2] = (byte)(sum >> 8);
        icmp[3] = (byte)sum;
        return icmp;
    }
}

using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// Downlink buffering while the UE is paged: the datapath hands the packets of a buffering FAR
/// over (as slow_packets records naming the PDR's stats slot), the node holds them, and the
/// modification that gives the FAR the gNB's tunnel sends them down it, in order.
/// </summary>
public class DownlinkBufferingTests
{
    private static readonly IPAddress Server = IPAddress.Parse("203.0.113.200");

    private sealed class RecordingSender : IGtpuSender
    {
        public List<(IPAddress Local, IPAddress Peer, GtpuMessage Message, byte Tos)> Sent { get; } = [];

        public void Send(IPAddress local, IPAddress peer, GtpuMessage message) => Send(local, peer, message, 0);

        public void Send(IPAddress local, IPAddress peer, GtpuMessage message, byte tos)
        {
            lock (Sent)
                Sent.Add((local, peer, message, tos));
        }
    }

    private static unsafe SlowPacketRecord Held(uint stats, byte[] packet)
    {
        var record = new SlowPacketRecord { Kind = SlowPacketKind.Buffer, Stats = stats, Len = (ushort)packet.Length };
        packet.CopyTo(new Span<byte>(record.Packet, SlowPacketRecord.MaxPacket));
        return record;
    }

    /// <summary>An associated node with a session whose downlink FAR buffers (BUFF|NOCP until the gNB is known); its UE and downlink stats slot.</summary>
    private static (NodeUnderTest Node, RecordingSender Sent, ulong Seid, IPAddress Ue, uint Slot) Paged(Func<PfcpNodeSettings, PfcpNodeSettings>? adjust = null)
    {
        var sent = new RecordingSender();
        var n = new NodeUnderTest(adjust, gtpu: sent);
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x51)).Body);
        Assert.True(n.Table.TryGet(est.UpFSeid!.Seid, out var compiled));
        var ue = est.CreatedPdrs.Single(c => c.PdrId == 2).UeIpAddresses[0].Ipv4!;
        return (n, sent, est.UpFSeid.Seid, ue, compiled.PdrStats[2]);
    }

    [Fact]
    public void HeldPackets_GoDownTheTunnelTheModificationGives_InOrder_RoutedAndMarkedWithTheQfi()
    {
        var (n, sent, seid, ue, slot) = Paged();
        using var _ = n;
        var packets = Enumerable.Range(0, 3).Select(i => InnerUdp4(Server, ue, 5001, (ushort)(40000 + i), payload: 100 + i).Bytes).ToArray();

        foreach (var p in packets)
            n.Node.OnBufferedPacket(Held(slot, p));
        Assert.Equal(3, n.Node.BufferedPackets);
        Assert.Empty(sent.Sent);

        var modified = Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x4242), seid).Body);

        Assert.Equal(PfcpCause.RequestAccepted, modified.Cause);
        Assert.Equal(3, sent.Sent.Count);
        Assert.All(sent.Sent, s =>
        {
            Assert.Equal((NodeUnderTest.N3, NodeUnderTest.Gnb), (s.Local, s.Peer));
            Assert.Equal((GtpuMessageType.GPdu, 0x4242u), (s.Message.Type, s.Message.Teid));
            Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), s.Message.Container);
        });
        // The packets as they came, TTL 64 - 1 (routed here), header checksum recomputed.
        for (int i = 0; i < 3; i++)
        {
            var expected = (byte[])packets[i].Clone();
            expected[8] = 63;
            expected[10] = expected[11] = 0;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(10), InetChecksum.Compute(expected.AsSpan(0, 20)));
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(sent.Sent[i].Message.Payload));
        }
        Assert.Equal(0, n.Node.BufferedPackets);
        Assert.Equal((3L, 3L, 0L), (n.Node.Counters.UserPlaneCount(PfcpCounters.BufferHeld), n.Node.Counters.UserPlaneCount(PfcpCounters.BufferSent),
            n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped)));
    }

    [Fact]
    public void WhatIsSent_CountsInThePdrsUrr_InTheNextReport()
    {
        var (n, _, seid, ue, slot) = Paged();
        using var _ = n;
        var packets = new[] { InnerUdp4(Server, ue, 1, 2, payload: 100).Bytes, InnerUdp4(Server, ue, 1, 3, payload: 200).Bytes };
        foreach (var p in packets)
            n.Node.OnBufferedPacket(Held(slot, p));
        n.Request(NodeUnderTest.GnbKnown(0x4249), seid);

        // Query URR 1 (both PDRs link it): the downlink volume is what was sent from the buffer.
        var queried = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { QueryUrrs = [1] }, seid).Body);

        var report = Assert.Single(queried.UsageReports);
        Assert.Equal((2UL, (ulong)(packets[0].Length + packets[1].Length), 0UL),
            (report.VolumeMeasurement!.DownlinkPackets!.Value, report.VolumeMeasurement.DownlinkVolume!.Value, report.VolumeMeasurement.UplinkVolume!.Value));
        // Reported once: the next query starts from there.
        var again = Assert.Single(Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { QueryUrrs = [1] }, seid).Body).UsageReports);
        Assert.Equal(0UL, again.VolumeMeasurement!.TotalVolume!.Value);
    }

    [Fact]
    public void WhatWasSentAndNotYetReported_SurvivesARestart()
    {
        var (n, _, seid, ue, slot) = Paged();
        using var _ = n;
        var packet = InnerUdp4(Server, ue, 1, 2, payload: 300).Bytes;
        n.Node.OnBufferedPacket(Held(slot, packet));
        n.Request(NodeUnderTest.GnbKnown(0x424a), seid);

        n.Restart(); // a clean stop: the usage state carries over exactly

        var report = Assert.Single(Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { QueryUrrs = [1] }, seid).Body).UsageReports);
        Assert.Equal((1UL, (ulong)packet.Length), (report.VolumeMeasurement!.DownlinkPackets!.Value, report.VolumeMeasurement.DownlinkVolume!.Value));
    }

    [Fact]
    public void AModificationThatClosesTheDownlinkGate_DropsWhatWasHeld()
    {
        var (n, sent, seid, ue, slot) = Paged();
        using var _ = n;
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2).Bytes));

        var request = NodeUnderTest.GnbKnown(0x424b) with
        {
            UpdateQers = [new LoxiLb.Edge5G.Pfcp.Rules.UpdateQer(1) { GateStatus = new GateStatus(GateState.Open, GateState.Closed) }],
        };
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(n.Request(request, seid).Body).Cause);

        Assert.Empty(sent.Sent);
        Assert.Equal(0, n.Node.BufferedPackets);
        Assert.Equal(1L, n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped));
    }

    [Fact]
    public void Drobu_DropsWhatWasHeld()
    {
        var (n, sent, seid, ue, slot) = Paged();
        using var _ = n;
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2).Bytes));

        var request = NodeUnderTest.GnbKnown(0x4243) with { Flags = PfcpSmReqFlags.Drobu };
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(n.Request(request, seid).Body).Cause);

        Assert.Empty(sent.Sent);
        Assert.Equal(0, n.Node.BufferedPackets);
        Assert.Equal(1L, n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped));
    }

    [Fact]
    public void AReportResponseWithDrobu_DropsWhatWasHeld()
    {
        var (n, sent, seid, ue, slot) = Paged();
        using var _ = n;
        n.SmfDrobu = true; // the SMF answers its Downlink Data Report: drop buffered packets
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2).Bytes));

        n.Node.OnDatapathEvent(new EventRecord { Kind = EventKind.DownlinkData, Index = slot, Qfi = 9 });

        Assert.True(SpinWait.SpinUntil(() => n.Node.BufferedPackets == 0, TimeSpan.FromSeconds(3)), "DROBU in the report response dropped nothing");
        Assert.Single(n.NodeRequests, r => r.Body is SessionReportRequest { ReportType: ReportType.Dldr });
        n.Request(NodeUnderTest.GnbKnown(0x4246), seid);
        Assert.Empty(sent.Sent);
    }

    [Fact]
    public void TheBarsSuggestedPacketCount_BoundsWhatIsHeld_AndSurvivesARestart()
    {
        var sent = new RecordingSender();
        using var n = new NodeUnderTest(gtpu: sent);
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x52) with
        {
            CreateBar = new LoxiLb.Edge5G.Pfcp.Rules.CreateBar(1) { SuggestedBufferingPacketsCount = 1 },
        }).Body);
        var seid = est.UpFSeid!.Seid;
        n.Restart();
        Assert.True(n.Table.TryGet(seid, out var compiled));
        var ue = est.CreatedPdrs.Single(c => c.PdrId == 2).UeIpAddresses[0].Ipv4!;

        n.Node.OnBufferedPacket(Held(compiled.PdrStats[2], InnerUdp4(Server, ue, 1, 2).Bytes));
        n.Node.OnBufferedPacket(Held(compiled.PdrStats[2], InnerUdp4(Server, ue, 1, 3).Bytes));

        Assert.Equal(1, n.Node.BufferedPackets);
        n.Request(NodeUnderTest.GnbKnown(0x4247), seid);
        Assert.Equal(2, UePacketsPort(Assert.Single(sent.Sent).Message.Payload));
    }

    [Fact]
    public void ADlBufferingDurationInTheReportsAnswer_EndsTheHolding()
    {
        var (n, sent, seid, ue, slot) = Paged();
        using var _ = n;
        n.ReportUpdateBar = new LoxiLb.Edge5G.Pfcp.Rules.UpdateBar(1) { DlBufferingDuration = new TimerValue(0, 1) }; // 2 s
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2).Bytes));

        n.Node.OnDatapathEvent(new EventRecord { Kind = EventKind.DownlinkData, Index = slot, Qfi = 9 });

        Assert.Equal(1, n.Node.BufferedPackets);
        Assert.True(SpinWait.SpinUntil(() => n.Node.BufferedPackets == 0, TimeSpan.FromSeconds(5)), "the DL Buffering Duration did not end the holding");
        Assert.Equal(1L, n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped));
        n.Request(NodeUnderTest.GnbKnown(0x4248), seid);
        Assert.Empty(sent.Sent);
    }

    [Fact]
    public void AModificationThatKeepsBuffering_KeepsThePackets_AndTheSessionsDeletionDropsThem()
    {
        var (n, sent, seid, ue, slot) = Paged();
        using var _ = n;
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2).Bytes));

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(
            n.Request(new SessionModificationRequest { UserPlaneInactivityTimer = 60 }, seid).Body).Cause);
        Assert.Equal(1, n.Node.BufferedPackets);

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), seid).Body).Cause);
        Assert.Equal(0, n.Node.BufferedPackets);
        Assert.Empty(sent.Sent);
        Assert.Equal(1L, n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped));
    }

    [Fact]
    public void BeyondThePerPdrLimit_PacketsAreDropped_AndAPacketWhoseTtlExpires_IsNotSent()
    {
        var (n, sent, seid, ue, slot) = Paged(s => s with { BufferPackets = 2 });
        using var _ = n;

        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2, ttl: 1).Bytes));
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 3).Bytes));
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 4).Bytes)); // the third: over the limit
        Assert.Equal(2, n.Node.BufferedPackets);
        n.Request(NodeUnderTest.GnbKnown(0x4244), seid);

        var only = Assert.Single(sent.Sent);
        Assert.Equal(3, UePacketsPort(only.Message.Payload));
        Assert.Equal((2L, 1L, 2L), (n.Node.Counters.UserPlaneCount(PfcpCounters.BufferHeld), n.Node.Counters.UserPlaneCount(PfcpCounters.BufferSent),
            n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped)));
    }

    [Fact]
    public void PacketsHeldLongerThanTheBufferTime_AreDropped()
    {
        var (n, sent, seid, ue, slot) = Paged(s => s with { BufferTime = TimeSpan.FromMilliseconds(100) });
        using var _ = n;
        n.Node.OnBufferedPacket(Held(slot, InnerUdp4(Server, ue, 1, 2).Bytes));

        Assert.True(SpinWait.SpinUntil(() => n.Node.BufferedPackets == 0, TimeSpan.FromSeconds(3)), "the held packet did not expire");
        n.Request(NodeUnderTest.GnbKnown(0x4245), seid);

        Assert.Empty(sent.Sent);
        Assert.Equal(1L, n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped));
    }

    [Fact]
    public void APacketForASlotNoSessionOwns_IsDroppedAndCounted()
    {
        var (n, _, _, ue, _) = Paged();
        using var node = n;

        n.Node.OnBufferedPacket(Held(4000, InnerUdp4(Server, ue, 1, 2).Bytes));

        Assert.Equal(0, n.Node.BufferedPackets);
        Assert.Equal(1L, n.Node.Counters.UserPlaneCount(PfcpCounters.BufferDropped));
    }

    private static int UePacketsPort(byte[] ip) => (ip[22] << 8) | ip[23]; // UDP destination port behind a 20-octet header
}

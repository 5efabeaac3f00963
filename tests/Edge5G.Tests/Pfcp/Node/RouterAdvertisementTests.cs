using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// The datapath hands a UE's Router Solicitation to the node (event naming one of the
/// session's PDRs); the node answers with a Router Advertisement carrying the session's /64,
/// as a G-PDU down the session's downlink tunnel with its QFI.
/// </summary>
public class RouterAdvertisementTests
{
    private static readonly IPAddress UeIpv6 = IPAddress.Parse("2001:db8:10:1::10");

    private sealed class RecordingSender : IGtpuSender
    {
        public List<(IPAddress Local, IPAddress Peer, GtpuMessage Message)> Sent { get; } = [];

        public void Send(IPAddress local, IPAddress peer, GtpuMessage message)
        {
            lock (Sent)
                Sent.Add((local, peer, message));
        }
    }

    [Fact]
    public void RouterSolicitationEvent_IsAnsweredDownTheSessionsTunnel_WithItsPrefix()
    {
        var sender = new RecordingSender();
        using var n = new NodeUnderTest(gtpu: sender);
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x41, ueIpv6: UeIpv6)).Body);
        n.Request(NodeUnderTest.GnbKnown(0xabcd), est.UpFSeid!.Seid);
        n.Table.TryGet(est.UpFSeid.Seid, out var s);

        n.Node.OnDatapathEvent(new EventRecord { Kind = EventKind.RouterSolicitation, Index = s!.PdrStats[1], Qfi = 9 });

        // The unsolicited one when the gNB became known, then the answer: the same packet.
        Assert.Equal(2, sender.Sent.Count);
        Assert.Equal(sender.Sent[0].Message.Encode(), sender.Sent[1].Message.Encode());
        var (local, peer, message) = sender.Sent[1];
        Assert.Equal(NodeUnderTest.N3, local);
        Assert.Equal(NodeUnderTest.Gnb, peer);
        Assert.Equal(GtpuMessageType.GPdu, message.Type);
        Assert.Equal(0xabcdU, message.Teid);
        Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), message.Container);
        Assert.Equal(Convert.ToHexString(RouterAdvertisement.Build(UeIpv6)), Convert.ToHexString(message.Payload));
        // The advertised prefix is the session's /64.
        Assert.Equal("20010DB8001000010000000000000000", Convert.ToHexString(message.Payload[^16..]));
        Assert.Equal(1, n.Node.Counters.UserPlaneCount("router-advertisement-sent"));
        Assert.Equal(1, n.Node.Counters.UserPlaneCount("router-advertisement-unsolicited"));
    }

    [Fact]
    public void UnsolicitedAdvertisement_GoesOnceWhenTheIpv6DownlinkGetsItsTunnel()
    {
        var sender = new RecordingSender();
        using var n = new NodeUnderTest(gtpu: sender);
        n.Associate();
        var dual = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x44, ueIpv6: UeIpv6)).Body);
        var ipv4Only = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x45)).Body);
        Assert.Empty(sender.Sent); // downlink buffered: nowhere to send it yet

        n.Request(NodeUnderTest.GnbKnown(0xabcd), dual.UpFSeid!.Seid);
        n.Request(NodeUnderTest.GnbKnown(0xabcf), dual.UpFSeid.Seid); // a path switch: the UE has its prefix already
        n.Request(NodeUnderTest.GnbKnown(0xabce), ipv4Only.UpFSeid!.Seid);

        var (local, peer, message) = Assert.Single(sender.Sent);
        Assert.Equal((NodeUnderTest.N3, NodeUnderTest.Gnb, 0xabcdU), (local, peer, message.Teid));
        Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), message.Container);
        Assert.Equal(Convert.ToHexString(RouterAdvertisement.Build(UeIpv6)), Convert.ToHexString(message.Payload));
        Assert.Equal(1, n.Node.Counters.UserPlaneCount("router-advertisement-unsolicited"));
    }

    [Fact]
    public void RouterSolicitationEvent_BeforeTheGnbIsKnown_OrWithoutIpv6_IsCountedUnanswered()
    {
        var sender = new RecordingSender();
        using var n = new NodeUnderTest(gtpu: sender);
        n.Associate();
        var buffering = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x42, ueIpv6: UeIpv6)).Body);
        var ipv4Only = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x43)).Body);
        n.Request(NodeUnderTest.GnbKnown(0xabce), ipv4Only.UpFSeid!.Seid);
        n.Table.TryGet(buffering.UpFSeid!.Seid, out var first);
        n.Table.TryGet(ipv4Only.UpFSeid.Seid, out var second);

        n.Node.OnDatapathEvent(new EventRecord { Kind = EventKind.RouterSolicitation, Index = first!.PdrStats[1], Qfi = 9 });
        n.Node.OnDatapathEvent(new EventRecord { Kind = EventKind.RouterSolicitation, Index = second!.PdrStats[1], Qfi = 9 });

        Assert.Empty(sender.Sent);
        Assert.Equal(2, n.Node.Counters.UserPlaneCount("router-solicitation-unanswered"));
    }
}

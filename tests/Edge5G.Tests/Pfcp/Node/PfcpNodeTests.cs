using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>The N4 node's behaviour towards an SMF, over UDP on loopback, datapath tables in memory.</summary>
public class PfcpNodeTests
{
    [Fact]
    public void AssociationSetup_FromAConfiguredPeer_IsAcceptedWithOurRecoveryTimeStampAndFeatures()
    {
        using var n = new NodeUnderTest();
        var response = n.Associate();
        Assert.Equal(PfcpCause.RequestAccepted, response.Cause);
        Assert.Equal(n.Node.RecoveryTimeStamp, response.RecoveryTimeStamp);
        Assert.True(response.UpFunctionFeatures!.Has(UpFeature.Ftup));
        Assert.True(response.UpFunctionFeatures.Has(UpFeature.Ueip));
        Assert.True(response.UpFunctionFeatures.Has(UpFeature.Frrt));
        Assert.Equal("smf.example.test", Assert.Single(n.Node.Associations()).NodeId);
    }

    [Fact]
    public void AssociationSetup_FromAnUnconfiguredPeer_IsRefusedAndCounted()
    {
        using var n = new NodeUnderTest(s => s with { Peers = [Cidr.Parse("203.0.113.0/24")] });
        var response = n.Associate();
        Assert.Equal(PfcpCause.RequestRejected, response.Cause);
        Assert.Empty(n.Node.Associations());
        Assert.Equal(1, n.Node.Counters.DroppedCount("peer-not-allowed"));
    }

    [Fact]
    public void SessionEstablishment_WithChoose_AllocatesOneTeidPerChooseIdAndAUeAddress_AndInstallsTheSession()
    {
        using var n = new NodeUnderTest();
        n.Associate();

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(cpSeid: 0x77)).Body);

        Assert.Equal(PfcpCause.RequestAccepted, response.Cause);
        var up = response.UpFSeid!;
        Assert.Equal(IPAddress.Loopback, up.Ipv4);
        var created = response.CreatedPdrs.OrderBy(c => c.PdrId).ToArray();
        Assert.Equal([(ushort)1, 2], created.Select(c => c.PdrId));
        var fteid = created[0].LocalFTeid!;
        Assert.Equal(NodeUnderTest.N3, fteid.Ipv4);
        Assert.NotEqual(0u, fteid.Teid);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), created[0].UeIpAddresses[0].Ipv4);
        Assert.Equal(created[0].UeIpAddresses[0].Ipv4, created[1].UeIpAddresses[0].Ipv4);
        var mem = (MemoryTable<FteidKey, MatchEntry>)n.Tables.Fteids;
        Assert.True(mem.Entries.ContainsKey(FteidKey.Create(fteid.Teid, NodeUnderTest.N3)));
        Assert.True(n.Table.TryGet(up.Seid, out var session));
        Assert.Equal(0x77UL, session.Session.PeerSeid);
    }

    [Fact]
    public void SessionsFromOneTemplate_ShareTheirFarQerAndUrrLists_UntilOneIsModified()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        ulong Establish(ulong cpSeid) =>
            Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(cpSeid)).Body).UpFSeid!.Seid;
        var (first, second) = (Establish(0x61), Establish(0x62));
        Assert.True(n.Table.TryGet(first, out var a));
        Assert.True(n.Table.TryGet(second, out var b));

        Assert.True(a.Session.Fars == b.Session.Fars, "FAR lists not shared");
        Assert.True(a.Session.Qers == b.Session.Qers, "QER lists not shared");
        Assert.True(a.Session.Urrs == b.Session.Urrs, "URR lists not shared");
        Assert.False(a.Session.Pdrs == b.Session.Pdrs); // their own F-TEIDs and UE addresses

        // The second session's gNB arrives: its FARs are its own from then on, the first's unchanged.
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x4242), second).Body).Cause);
        Assert.True(n.Table.TryGet(first, out var firstNow));
        Assert.True(n.Table.TryGet(second, out var secondNow));
        Assert.False(firstNow.Session.Fars == secondNow.Session.Fars);
        Assert.Equal(LoxiLb.Edge5G.Datapath.Model.ApplyAction.Buffer | LoxiLb.Edge5G.Datapath.Model.ApplyAction.NotifyCp, firstNow.Session.Fars[1].Action);
        Assert.Equal(0x4242u, secondNow.Session.Fars[1].Forwarding!.OuterHeader!.Teid);
        Assert.True(firstNow.Session.Qers == secondNow.Session.Qers, "the QERs it left alone are still shared");
        // The modification's own FARs did not push the template's out: the next session shares them.
        Assert.True(n.Table.TryGet(Establish(0x63), out var third));
        Assert.True(third.Session.Fars == firstNow.Session.Fars, "the next session of the template does not share its FARs");
    }

    [Fact]
    public void SessionModification_WithTheGnbFTeid_SwitchesFar2ToForwardingWithGtpu()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x10)).Body);

        var mod = n.Request(NodeUnderTest.GnbKnown(0xabcd), est.UpFSeid!.Seid);

        Assert.Equal(0x10UL, mod.Header.Seid);
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(mod.Body).Cause);
        Assert.True(n.Table.TryGet(est.UpFSeid.Seid, out var s));
        var far = s.Session.Fars.Single(f => f.Id == 2);
        Assert.Equal(LoxiLb.Edge5G.Datapath.Model.ApplyAction.Forward, far.Action);
        Assert.Equal((0xabcdu, NodeUnderTest.Gnb), (far.Forwarding!.OuterHeader!.Teid, far.Forwarding.OuterHeader.Peer));
    }

    [Fact]
    public void SessionDeletion_RemovesEverything_AndReportsTheFinalUsage()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x10)).Body);
        n.AddTraffic(est.UpFSeid!.Seid, pdr: 1, packets: 3, bytes: 300);
        n.AddTraffic(est.UpFSeid.Seid, pdr: 2, packets: 2, bytes: 1000);

        var del = Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), est.UpFSeid.Seid).Body);

        Assert.Equal(PfcpCause.RequestAccepted, del.Cause);
        var report = Assert.Single(del.UsageReports);
        Assert.True(report.Trigger.Has(UsageReportTriggerFlags.Termr));
        Assert.Equal((1300UL, 300UL, 1000UL), (report.VolumeMeasurement!.TotalVolume!.Value, report.VolumeMeasurement.UplinkVolume!.Value, report.VolumeMeasurement.DownlinkVolume!.Value));
        Assert.Equal(5UL, report.VolumeMeasurement.TotalPackets);
        Assert.Equal(0, n.Table.Count);
        Assert.Empty(((MemoryTable<FteidKey, MatchEntry>)n.Tables.Fteids).Entries);
    }

    [Fact]
    public void VolumeThreshold_ReachedByTraffic_SendsASessionReportRequestWithTheUsage()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x99, volumeThreshold: 1000)).Body);
        n.AddTraffic(est.UpFSeid!.Seid, pdr: 1, packets: 10, bytes: 1500);

        Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)));
        var report = n.NodeRequests.Select(d => d).First(d => d.Body is SessionReportRequest);
        Assert.Equal(0x99UL, report.Header.Seid);
        var body = (SessionReportRequest)report.Body;
        Assert.Equal(ReportType.Usar, body.ReportType);
        var usage = Assert.Single(body.UsageReports);
        Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Volth));
        Assert.Equal(1500UL, usage.VolumeMeasurement!.UplinkVolume);
    }

    [Fact]
    public void ARetransmittedEstablishment_GetsTheSameResponseBytes_AndCreatesOneSession()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var request = PfcpCodec.Encode(n.EstablishmentRequest(0x10), 4242, 0);

        n.SendRaw(request);
        var first = n.WaitResponse(4242);
        n.SendRaw(request);
        var second = n.WaitResponse(4242);

        Assert.Equal(first.Message.Encode(), second.Message.Encode());
        Assert.Equal(1, n.Table.Count);
        Assert.Equal(1, n.Node.Counters.DroppedCount("retransmission-answered-from-cache"));
    }

    [Fact]
    public void Establishment_WithoutAnAssociation_IsNoEstablishedPfcpAssociation()
    {
        using var n = new NodeUnderTest();
        var response = n.Request(n.EstablishmentRequest(0x55));
        Assert.Equal(0x55UL, response.Header.Seid);
        Assert.Equal(PfcpCause.NoEstablishedPfcpAssociation, Assert.IsType<SessionEstablishmentResponse>(response.Body).Cause);
        Assert.Equal(0, n.Table.Count);
    }

    [Fact]
    public void Establishment_WithAPdrPointingAtAMissingFar_IsRuleCreationFailure_NamingThePdr_AndChangesNothing()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var request = n.EstablishmentRequest(0x10);
        request = request with { CreatePdrs = [request.CreatePdrs[0] with { FarId = 9 }, request.CreatePdrs[1]] };

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 1), response.FailedRuleId);
        Assert.Equal(0, n.Table.Count);
        Assert.Empty(((MemoryTable<FteidKey, MatchEntry>)n.Tables.Fteids).Entries);
        // The TEID and UE address CHOOSE took for the failed request are free again.
        var ok = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x11)).Body);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), ok.CreatedPdrs[0].UeIpAddresses[0].Ipv4);
    }

    /// <summary>Without application detection (or Ethernet sessions) such a PDR would match every
    /// packet of its tunnel: refused, naming the PDR, and nothing is installed.</summary>
    [Theory]
    [InlineData("application", 0, null)]
    [InlineData("ethernet", 0, null)]
    public void Establishment_WithAPdrKeyedOnWhatTheDatapathCannotMatch_IsRuleCreationFailure_NamingThePdr(string what, int index, IeType? offending)
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var request = n.EstablishmentRequest(0x10);
        var target = request.CreatePdrs[index];
        var pdi = what switch
        {
            "application" => target.Pdi with { ApplicationId = OctetString.FromAscii("video-streaming") },
            _ => target.Pdi with { Other = [PfcpIe.Group(IeType.EthernetPacketFilter, PfcpIe.Raw(IeType.EthernetFilterId, new byte[] { 0, 0, 0, 1 }))] },
        };
        var pdrs = request.CreatePdrs.ToArray();
        pdrs[index] = target with { Pdi = pdi };
        request = request with { CreatePdrs = [.. pdrs] };

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, target.PdrId), response.FailedRuleId);
        Assert.Equal(offending is { } type ? (ushort)type : null, response.OffendingIe);
        Assert.Equal(0, n.Table.Count);
        Assert.Empty(((MemoryTable<FteidKey, MatchEntry>)n.Tables.Fteids).Entries);
    }


    /// <summary>A socket on loopback standing for an SMF, waiting at most 3 s for an answer.</summary>
    private static System.Net.Sockets.UdpClient SmfSocket()
    {
        var socket = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Client.ReceiveTimeout = 3000;
        return socket;
    }

    /// <summary>The next datagram on <paramref name="socket"/>: a Heartbeat Response; returns its sequence number.</summary>
    private static uint HeartbeatAnswer(System.Net.Sockets.UdpClient socket)
    {
        IPEndPoint? from = null;
        var answer = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(socket.Receive(ref from)));
        Assert.Equal(PfcpMessageType.HeartbeatResponse, answer.Header.MessageType);
        return answer.Header.SequenceNumber;
    }

    /// <summary>The node keeps the last sender's endpoint and address for reuse; peers taking turns must still get their own answers.</summary>
    [Fact]
    public void PeersSendingInTurn_EachGetTheirOwnAnswers()
    {
        using var n = new NodeUnderTest();
        using var a = SmfSocket();
        using var b = SmfSocket();
        var node = n.Node.LocalEndpoint!;
        for (uint i = 1; i <= 6; i++)
        {
            var (client, other) = i % 3 == 0 ? (b, a) : (a, b); // a, a, b, a, a, b: the cache both hits and misses
            client.Send(PfcpCodec.Encode(new HeartbeatRequest(DateTime.UtcNow.AddTicks(-(DateTime.UtcNow.Ticks % TimeSpan.TicksPerSecond))), i), node);
            Assert.Equal(i, HeartbeatAnswer(client));
            Assert.Equal(0, other.Available);
        }
    }

    /// <summary>
    /// Requests that arrive together are handled as a batch and answered together: two peers
    /// sending bursts, interleaved, each get every answer, in their order, and none of the other's.
    /// </summary>
    [Fact]
    public void BurstsFromTwoPeers_AreAllAnswered_InOrder_EachToItsSender()
    {
        using var n = new NodeUnderTest();
        using var a = SmfSocket();
        using var b = SmfSocket();
        var node = n.Node.LocalEndpoint!;
        var stamp = DateTime.UtcNow.AddTicks(-(DateTime.UtcNow.Ticks % TimeSpan.TicksPerSecond));
        const uint Burst = 40; // more than one batch
        for (uint i = 1; i <= Burst; i++)
        {
            a.Send(PfcpCodec.Encode(new HeartbeatRequest(stamp), i), node);
            b.Send(PfcpCodec.Encode(new HeartbeatRequest(stamp), 1000 + i), node);
        }
        foreach (var (client, first) in new[] { (a, 1u), (b, 1001u) })
        {
            for (uint i = 0; i < Burst; i++)
            {
                Assert.Equal(first + i, HeartbeatAnswer(client));
            }
        }
        Thread.Sleep(50);
        Assert.Equal(0, a.Available + b.Available);
        Assert.Equal(2 * Burst, (uint)n.Node.Counters.Messages[("in", nameof(PfcpMessageType.HeartbeatRequest), "")]);
    }

    [Theory]
    [InlineData(PfcpMessageType.PfdManagementRequest, PfcpMessageType.PfdManagementResponse)]
    [InlineData(PfcpMessageType.SessionSetModificationRequest, PfcpMessageType.SessionSetModificationResponse)]
    public void ARequestTheNodeDoesNotImplement_IsAnsweredServiceNotSupported_AndCounted(PfcpMessageType request, PfcpMessageType response)
    {
        using var n = new NodeUnderTest();
        n.Associate();
        const uint Sequence = 0x000777;
        // Version 1, no SEID, an empty body: length 4 covers the sequence number and the spare octet.
        n.SendRaw([0x20, (byte)request, 0x00, 0x04, 0x00, 0x07, 0x77, 0x00]); // sequence 0x000777

        var answer = n.WaitResponse(Sequence);

        Assert.Equal(response, answer.Header.MessageType);
        Assert.Equal([(byte)PfcpCause.ServiceNotSupported], answer.Message.Find(IeType.Cause)!.Value.ToArray());
        Assert.Equal(1, n.Node.Counters.DroppedCount("unsupported-request"));
    }

    [Fact]
    public void AFailedAndARecoveredGtpuPath_AreReportedToTheSmf_NamingTheRemotePeer()
    {
        using var n = new NodeUnderTest();
        n.Associate();

        n.Node.ReportUserPlanePath(IPAddress.Parse("198.51.100.2"), failed: true);
        n.Node.ReportUserPlanePath(IPAddress.Parse("2001:db8:3::2"), failed: false);

        Assert.True(n.WaitFor(r => r.Select(d => d.Body).OfType<NodeReportRequest>().Select(x => x.ReportType).Distinct().Count() == 2, TimeSpan.FromSeconds(3)));
        var reports = n.NodeRequests.Select(d => d.Body).OfType<NodeReportRequest>().ToArray();
        var failure = reports.First(r => r.ReportType == NodeReportType.Upfr);
        var peer = Assert.Single(failure.UserPlanePathFailureReport!.Children!);
        Assert.Equal((ushort)IeType.RemoteGtpuPeer, peer.Type);
        Assert.Equal([0x02, 198, 51, 100, 2], peer.Value.ToArray()); // V4
        var recovery = reports.First(r => r.ReportType == NodeReportType.Uprr);
        var again = Assert.Single(recovery.UserPlanePathRecoveryReport!.Children!);
        Assert.Equal([0x01, .. IPAddress.Parse("2001:db8:3::2").GetAddressBytes()], again.Value.ToArray()); // V6
        Assert.Null(failure.UserPlanePathRecoveryReport);
        Assert.Equal((1, 1), (n.Node.Counters.UserPlaneCount(Edge5G.Pfcp.Node.PfcpCounters.GtpuPathFailed), n.Node.Counters.UserPlaneCount(Edge5G.Pfcp.Node.PfcpCounters.GtpuPathRecovered)));
    }

    [Fact]
    public void ModificationOrDeletion_OfAnUnknownSeid_IsSessionContextNotFound_WithSeidZero()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var mod = n.Request(NodeUnderTest.GnbKnown(1), seid: 0xdead);
        Assert.Equal(0UL, mod.Header.Seid);
        Assert.Equal(PfcpCause.SessionContextNotFound, Assert.IsType<SessionModificationResponse>(mod.Body).Cause);
        var del = n.Request(new SessionDeletionRequest(), seid: 0xdead);
        Assert.Equal(PfcpCause.SessionContextNotFound, Assert.IsType<SessionDeletionResponse>(del.Body).Cause);
    }

    [Fact]
    public void ModificationThatFails_LeavesTheSessionAsItWas()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x10)).Body);
        n.Table.TryGet(est.UpFSeid!.Seid, out var before);

        var bad = new SessionModificationRequest { RemoveFars = [2] }; // PDR 2 still points at FAR 2
        var response = Assert.IsType<SessionModificationResponse>(n.Request(bad, est.UpFSeid.Seid).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 2), response.FailedRuleId);
        n.Table.TryGet(est.UpFSeid.Seid, out var after);
        Assert.Same(before, after);
    }

    [Fact]
    public void AMalformedRequest_IsAnsweredWithTheCodecsCauseAndOffendingIe()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        // Association Setup Request without its Recovery Time Stamp (IE 96): Mandatory IE missing.
        var nodeId = PfcpIe.Of(IeType.NodeId, NodeId.FromAddress(IPAddress.Loopback));
        var bytes = new PfcpMessage(new PfcpHeader(PfcpMessageType.AssociationSetupRequest, 7), [nodeId]).Encode();
        n.SendRaw(bytes);
        var response = Assert.IsType<AssociationSetupResponse>(n.WaitResponse(7).Body);
        Assert.Equal(PfcpCause.MandatoryIeMissing, response.Cause);
    }

    [Fact]
    public void Garbage_IsDroppedAndCounted_AndVersion2IsAnsweredWithVersionNotSupported()
    {
        using var n = new NodeUnderTest();
        n.SendRaw([0x01, 0x02, 0x03]);
        n.SendRaw([0x40, 0x01, 0x00, 0x04, 0x00, 0x00, 0x09, 0x00]); // version 2 Heartbeat Request, sequence 9
        var answer = n.WaitResponse(9);
        Assert.IsType<VersionNotSupportedResponse>(answer.Body);
        Assert.Equal(1, n.Node.Counters.DroppedCount(PfcpDropReason.Truncated.ToString()));
    }

    [Fact]
    public void HeartbeatRequest_IsAnsweredWithOurRecoveryTimeStamp()
    {
        using var n = new NodeUnderTest();
        var response = Assert.IsType<HeartbeatResponse>(n.Request(new HeartbeatRequest(n.SmfRecovery)).Body);
        Assert.Equal(n.Node.RecoveryTimeStamp, response.RecoveryTimeStamp);
    }

    [Fact]
    public void ThePeersNewRecoveryTimeStamp_PurgesItsOldSessions()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        n.Request(n.EstablishmentRequest(0x10));
        Assert.Equal(1, n.Table.Count);

        n.Request(new HeartbeatRequest(n.SmfRecovery.AddSeconds(5))); // the SMF restarted

        Assert.Equal(0, n.Table.Count);
        Assert.Single(n.Node.Associations());
    }

    [Fact]
    public void UnansweredHeartbeats_ReleaseTheAssociation_AfterTheRetries_PurgingWhenConfigured()
    {
        using var n = new NodeUnderTest(s => s with
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(100), T1 = TimeSpan.FromMilliseconds(50), HeartbeatRetries = 2,
            PurgeOnAssociationLoss = true,
        }, answerNodeRequests: false);
        n.Associate();
        n.Request(n.EstablishmentRequest(0x10));

        Assert.True(SpinWait.SpinUntil(() => n.Node.Associations().Count == 0, TimeSpan.FromSeconds(3)));
        // One request and two retransmissions, then the association is gone with its session.
        Assert.Equal(3, n.NodeRequests.Count(d => d.Body is HeartbeatRequest));
        Assert.Equal(0, n.Table.Count);
    }

    [Fact]
    public void ConfiguredSmfs_GetAnUpInitiatedAssociationSetup()
    {
        using var probe = new NodeUnderTest();
        using var n = new NodeUnderTest(s => s with { Smfs = [probe.SmfEndpoint] });
        // The probe's SMF socket answers Association Setup Requests with acceptance.
        Assert.True(SpinWait.SpinUntil(() => n.Node.Associations().Count == 1, TimeSpan.FromSeconds(3)));
        Assert.True(n.Node.Associations()[0].UpInitiated);
    }

    [Fact]
    public void DownlinkDataEvent_ForABufferingFar_BecomesADownlinkDataReport()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x31)).Body);
        n.Table.TryGet(est.UpFSeid!.Seid, out var s);

        n.Node.OnDatapathEvent(new EventRecord { Kind = EventKind.DownlinkData, Index = s.PdrStats[2], Qfi = 9 });

        Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)));
        var report = (SessionReportRequest)n.NodeRequests.First(d => d.Body is SessionReportRequest).Body;
        Assert.Equal(ReportType.Dldr, report.ReportType);
        Assert.Equal([(ushort)2], report.DownlinkDataReport!.PdrIds);
    }

    [Fact]
    public unsafe void ErrorIndicationFromTheGnb_BecomesAnErrorIndicationReport_ForTheSessionUsingThatTunnel()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x41)).Body);
        n.Request(NodeUnderTest.GnbKnown(0x7777), est.UpFSeid!.Seid);
        var e = new EventRecord { Kind = EventKind.ErrorIndication, Teid = (uint)IPAddress.HostToNetworkOrder(0x7777) };
        AddressBytes.WriteMapped(NodeUnderTest.Gnb, new Span<byte>(e.Peer, 16));

        n.Node.OnDatapathEvent(e);

        Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)));
        var report = n.NodeRequests.First(d => d.Body is SessionReportRequest);
        Assert.Equal(0x41UL, report.Header.Seid);
        var body = (SessionReportRequest)report.Body;
        Assert.Equal(ReportType.Erir, body.ReportType);
        var remote = Assert.Single(body.ErrorIndicationReport!.RemoteFTeids);
        Assert.Equal((0x7777u, NodeUnderTest.Gnb), (remote.Teid, remote.Ipv4!));
    }
}

using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>Typed session messages as the N4 node reads and writes them.</summary>
public class SessionMessageTests
{
    private static IPAddress Ip(string address) => IPAddress.Parse(address);

    /// <summary>
    /// An SMF at 10.0.0.1 asks for a session: uplink PDR 1 from Access with an F-TEID the UPF
    /// chooses, removing the GTP-U header, forwarded by FAR 1 to Core.
    /// </summary>
    private static readonly byte[] EstablishmentRequest =
    [
        0x21, 0x32, 0x00, 0x6D,                         // v1, S=1; type 50 Session Establishment Request; length 109
        0, 0, 0, 0, 0, 0, 0, 0,                         // SEID 0: the UPF has not allocated one yet
        0x00, 0x00, 0x2A, 0x00,                         // sequence 42, spare
        0x00, 0x3C, 0x00, 0x05, 0x00, 10, 0, 0, 1,      // Node ID: IPv4 10.0.0.1
        0x00, 0x39, 0x00, 0x0D, 0x02,                   // F-SEID: V4
        0, 0, 0, 0, 0, 0, 0x10, 0x01,                   //   CP SEID 0x1001
        10, 0, 0, 1,                                    //   CP address
        0x00, 0x01, 0x00, 0x29,                         // Create PDR, length 41
        0x00, 0x38, 0x00, 0x02, 0x00, 0x01,             //   PDR ID 1
        0x00, 0x1D, 0x00, 0x04, 0x00, 0x00, 0x00, 0xFF, //   Precedence 255
        0x00, 0x02, 0x00, 0x0A,                         //   PDI, length 10
        0x00, 0x14, 0x00, 0x01, 0x00,                   //     Source Interface: Access
        0x00, 0x15, 0x00, 0x01, 0x05,                   //     F-TEID: CH | V4
        0x00, 0x5F, 0x00, 0x01, 0x00,                   //   Outer Header Removal: GTP-U/UDP/IPv4
        0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   FAR ID 1
        0x00, 0x03, 0x00, 0x16,                         // Create FAR, length 22
        0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   FAR ID 1
        0x00, 0x2C, 0x00, 0x01, 0x02,                   //   Apply Action: FORW
        0x00, 0x04, 0x00, 0x05,                         //   Forwarding Parameters, length 5
        0x00, 0x2A, 0x00, 0x01, 0x01,                   //     Destination Interface: Core
    ];

    [Fact]
    public void SessionEstablishmentRequest_ReadsAsRecords()
    {
        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(EstablishmentRequest));
        Assert.Equal(42u, decoded.Header.SequenceNumber);
        Assert.Equal(0UL, decoded.Header.Seid);

        var request = Assert.IsType<SessionEstablishmentRequest>(decoded.Body);
        Assert.Equal(NodeId.FromAddress("10.0.0.1"), request.NodeId);
        Assert.Equal(new FSeid(0x1001, Ip("10.0.0.1")), request.CpFSeid);
        var pdr = Assert.Single(request.CreatePdrs);
        Assert.Equal(1, pdr.PdrId);
        Assert.Equal(255u, pdr.Precedence);
        Assert.Equal(SourceInterface.Access, pdr.Pdi.SourceInterface);
        Assert.True(pdr.Pdi.LocalFTeid!.Choose);
        Assert.Equal(OuterHeaderRemovalDescription.GtpuUdpIpv4, pdr.OuterHeaderRemoval!.Description);
        Assert.Equal(1u, pdr.FarId);
        var far = Assert.Single(request.CreateFars);
        Assert.True(far.ApplyAction.Has(ApplyActionFlags.Forw));
        Assert.Equal(DestinationInterface.Core, far.ForwardingParameters!.DestinationInterface);

        PfcpAssert.SameOctets(EstablishmentRequest, PfcpCodec.Encode(decoded.Header, request));
    }

    [Fact]
    public void SessionEstablishmentResponse_WithCreatedPdr_EncodesToTheSpecLayout()
    {
        var request = (PfcpDecoded)PfcpCodec.Decode(EstablishmentRequest);
        var cpFSeid = ((SessionEstablishmentRequest)request.Body).CpFSeid;
        var response = new SessionEstablishmentResponse(NodeId.FromAddress("10.0.0.2"), PfcpCause.RequestAccepted)
        {
            UpFSeid = new FSeid(0x2001, Ip("10.0.0.2")),
            CreatedPdrs = [new CreatedPdr(1) { LocalFTeid = FTeid.Of(0x00000100, Ip("192.0.2.2")) }],
        };

        // The response goes to the CP function's SEID with the request's sequence number.
        var bytes = PfcpCodec.Encode(response, request.Header.SequenceNumber, seid: cpFSeid.Seid);
        PfcpAssert.SameOctets([
            0x21, 0x33, 0x00, 0x42,                         // v1, S=1; type 51 Session Establishment Response; length 66
            0, 0, 0, 0, 0, 0, 0x10, 0x01,                   // SEID: the CP function's 0x1001
            0x00, 0x00, 0x2A, 0x00,                         // sequence 42, spare
            0x00, 0x3C, 0x00, 0x05, 0x00, 10, 0, 0, 2,      // Node ID: IPv4 10.0.0.2
            0x00, 0x13, 0x00, 0x01, 0x01,                   // Cause: Request accepted
            0x00, 0x39, 0x00, 0x0D, 0x02,                   // F-SEID: V4
            0, 0, 0, 0, 0, 0, 0x20, 0x01,                   //   UP SEID 0x2001
            10, 0, 0, 2,                                    //   UP address
            0x00, 0x08, 0x00, 0x13,                         // Created PDR, length 19
            0x00, 0x38, 0x00, 0x02, 0x00, 0x01,             //   PDR ID 1
            0x00, 0x15, 0x00, 0x09, 0x01,                   //   F-TEID: V4
            0x00, 0x00, 0x01, 0x00,                         //     allocated TEID 0x100
            192, 0, 2, 2,                                   //     N3 address
        ], bytes);

        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
        Assert.Equal(response, decoded.Body);
    }

    [Fact]
    public void SessionModificationRequest_RemovesUpdatesAndQueries()
    {
        var request = new SessionModificationRequest
        {
            RemovePdrs = [5],
            UpdateFars = [new UpdateFar(2) { ApplyAction = new ApplyAction(ApplyActionFlags.Forw) }],
            QueryUrrs = [1],
        };
        var bytes = PfcpCodec.Encode(request, sequenceNumber: 3, seid: 0x2001);
        PfcpAssert.SameOctets([
            0x21, 0x34, 0x00, 0x33,                         // v1, S=1; type 52 Session Modification Request; length 51
            0, 0, 0, 0, 0, 0, 0x20, 0x01,                   // SEID 0x2001 (the UP function's)
            0x00, 0x00, 0x03, 0x00,                         // sequence 3
            0x00, 0x0F, 0x00, 0x06,                         // Remove PDR, length 6
            0x00, 0x38, 0x00, 0x02, 0x00, 0x05,             //   PDR ID 5
            0x00, 0x0A, 0x00, 0x0D,                         // Update FAR, length 13
            0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, //   FAR ID 2
            0x00, 0x2C, 0x00, 0x01, 0x02,                   //   Apply Action: FORW
            0x00, 0x4D, 0x00, 0x08,                         // Query URR, length 8
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   URR ID 1
        ], bytes);
        Assert.Equal(request, Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes)).Body);
    }

    [Fact]
    public void SessionReportRequest_WithAUsageReport_ReadsTheMeasurement()
    {
        var report = new SessionReportRequest(ReportType.Usar)
        {
            UsageReports =
            [
                new UsageReport(1, 0, new UsageReportTrigger(UsageReportTriggerFlags.Volth))
                {
                    VolumeMeasurement = new VolumeMeasurement { TotalVolume = 1_000_000, UplinkVolume = 400_000, DownlinkVolume = 600_000 },
                },
            ],
        };
        var bytes = PfcpCodec.Encode(report, 9, seid: 0x1001);
        Assert.Equal(0x50, bytes[16 + 5 + 1]); // the Usage Report here is IE type 80
        var decoded = Assert.IsType<SessionReportRequest>(Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes)).Body);
        Assert.Equal(600_000UL, decoded.UsageReports[0].VolumeMeasurement!.DownlinkVolume);
        Assert.True(decoded.UsageReports[0].Trigger.Has(UsageReportTriggerFlags.Volth));
    }

    public static TheoryData<IPfcpMessageBody> SessionBodies() =>
    [
        new SessionEstablishmentRequest(NodeId.FromFqdn("smf.example"), new FSeid(1, Ip("10.0.0.1")),
            [new CreatePdr(1, new Pdi(SourceInterface.Core) { UeIpAddresses = [UeIpAddress.Destination(Ip("10.45.0.2"))] }) { Precedence = 1, FarId = 2, QerIds = [1] }],
            [new CreateFar(2, new ApplyAction(ApplyActionFlags.Buff | ApplyActionFlags.Nocp)) { BarId = 1 }])
        {
            CreateQers = [new CreateQer(1, GateStatus.Open) { Mbr = new BitRate(1000, 2000), Qfi = 5 }],
            CreateUrrs = [new CreateUrr(1, MeasurementMethod.Volum | MeasurementMethod.Durat, new ReportingTriggers(ReportingTriggerFlags.Volth)) { VolumeThreshold = new Volume(Total: 1_000) }],
            CreateBar = new CreateBar(1) { DownlinkDataNotificationDelay = 0 },
            PdnType = PdnType.Ipv4,
            ApnDnn = DnsName.FromLabels("internet"),
            Snssai = new Snssai(1),
            UserPlaneInactivityTimer = 600,
        },
        new SessionEstablishmentResponse(NodeId.FromAddress("10.0.0.2"), PfcpCause.RuleCreationModificationFailure)
        {
            OffendingIe = (ushort)IeType.CreatePdr, FailedRuleId = new FailedRuleId(RuleKind.Pdr, 1),
            LoadControlInformation = new LoadControlInformation(1, 10),
            OverloadControlInformation = new OverloadControlInformation(1, 20, new TimerValue(1, 1)),
        },
        new SessionModificationRequest
        {
            CpFSeid = new FSeid(2, Ip("10.0.0.1")), RemoveFars = [1], RemoveUrrs = [2], RemoveQers = [3], RemoveBar = 1,
            CreatePdrs = [new CreatePdr(9, new Pdi(SourceInterface.Access)) { FarId = 9 }],
            CreateFars = [new CreateFar(9, new ApplyAction(ApplyActionFlags.Drop))],
            UpdatePdrs = [new UpdatePdr(1) { Pdi = new Pdi(SourceInterface.Access) { Qfis = [1, 2] } }],
            UpdateQers = [new UpdateQer(1) { GateStatus = GateStatus.Closed }],
            UpdateUrrs = [new UpdateUrr(1) { TimeQuota = 60 }],
            UpdateBar = new UpdateBar(1) { SuggestedBufferingPacketsCount = 4 },
            Flags = PfcpSmReqFlags.Qaurr, QueryUrrReference = 7, NodeId = NodeId.FromAddress("10.0.0.1"),
        },
        new SessionModificationResponse(PfcpCause.RequestAccepted)
        {
            CreatedPdrs = [new CreatedPdr(9) { LocalFTeid = FTeid.Of(9, Ip("192.0.2.2")) }],
            UsageReports = [new UsageReport(1, 1, new UsageReportTrigger(UsageReportTriggerFlags.Immer)) { DurationMeasurement = 5 }],
        },
        new SessionDeletionRequest(),
        new SessionDeletionResponse(PfcpCause.RequestAccepted)
        {
            UsageReports = [new UsageReport(1, 2, new UsageReportTrigger(UsageReportTriggerFlags.Termr)) { StartTime = new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc) }],
        },
        new SessionReportRequest(ReportType.Dldr | ReportType.Erir)
        {
            DownlinkDataReport = new DownlinkDataReport([2]),
            ErrorIndicationReport = new ErrorIndicationReport([FTeid.Of(1, Ip("192.168.72.141"))]),
        },
        new SessionReportResponse(PfcpCause.RequestAccepted)
        {
            UpdateBar = new UpdateBar(1) { DlBufferingDuration = new TimerValue(1, 1) }, Flags = PfcpSrRspFlags.Drobu,
        },
    ];

    [Theory]
    [MemberData(nameof(SessionBodies))]
    public void EachSessionMessage_SurvivesEncodeThenDecode(IPfcpMessageBody body)
    {
        var bytes = PfcpCodec.Encode(body, sequenceNumber: 77, seid: 0xABCD);
        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
        Assert.Equal(body, decoded.Body);
        Assert.Equal(0xABCDUL, decoded.Header.Seid);
        PfcpAssert.SameOctets(bytes, decoded.Message.Encode());
    }
}

using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>Typed node messages: heartbeat, association, node report.</summary>
public class NodeMessageTests
{
    private static readonly DateTime Boot = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void AssociationSetupRequest_FromAUpf_AnnouncesFeaturesAndItsN3Address()
    {
        var request = new AssociationSetupRequest(NodeId.FromFqdn("upf.edge"), Boot)
        {
            UpFunctionFeatures = UpFunctionFeatures.With(UpFeature.Ftup),
            UserPlaneIpResources = [new UserPlaneIpResourceInformation { Ipv4 = IPAddress.Parse("192.0.2.2") }],
        };
        PfcpAssert.SameOctets([
            0x20, 0x05, 0x00, 0x29,                         // v1; type 5 Association Setup Request; length 41
            0x00, 0x00, 0x01, 0x00,                         // sequence 1
            0x00, 0x3C, 0x00, 0x0A, 0x02,                   // Node ID: FQDN
            0x03, (byte)'u', (byte)'p', (byte)'f', 0x04, (byte)'e', (byte)'d', (byte)'g', (byte)'e',
            0x00, 0x60, 0x00, 0x04, 0xE9, 0x3C, 0x7F, 0x00, // Recovery Time Stamp
            0x00, 0x2B, 0x00, 0x02, 0x10, 0x00,             // UP Function Features: FTUP
            0x00, 0x74, 0x00, 0x05, 0x01, 192, 0, 2, 2,     // User Plane IP Resource Information: V4
        ], PfcpCodec.Encode(request, 1));
    }

    public static TheoryData<IPfcpMessageBody> NodeBodies() =>
    [
        new HeartbeatRequest(Boot),
        new HeartbeatRequest(Boot) { SourceIpAddress = new SourceIpAddress { Ipv6 = IPAddress.Parse("2001:db8::1") } },
        new HeartbeatResponse(Boot),
        new AssociationSetupRequest(NodeId.FromAddress("10.0.0.1"), Boot) { CpFunctionFeatures = CpFunctionFeatures.With(CpFeature.Load) },
        new AssociationSetupResponse(NodeId.FromAddress("10.0.0.2"), PfcpCause.RequestAccepted, Boot)
        {
            UpFunctionFeatures = UpFunctionFeatures.With(UpFeature.Ftup, UpFeature.Empu, UpFeature.Ueip),
        },
        new AssociationUpdateRequest(NodeId.FromAddress("10.0.0.2"))
        {
            ReleaseRequest = AssociationReleaseRequestFlags.Sarr, GracefulReleasePeriod = new TimerValue(1, 2),
        },
        new AssociationUpdateResponse(NodeId.FromAddress("10.0.0.1"), PfcpCause.RequestAccepted),
        new AssociationReleaseRequest(NodeId.FromAddress("10.0.0.1")),
        new AssociationReleaseResponse(NodeId.FromAddress("10.0.0.2"), PfcpCause.RequestAccepted),
        new VersionNotSupportedResponse(),
        new NodeReportRequest(NodeId.FromAddress("10.0.0.2"), NodeReportType.Upfr)
        {
            UserPlanePathFailureReport = PfcpIe.Group(IeType.UserPlanePathFailureReport,
                PfcpIe.Raw(IeType.RemoteGtpuPeer, new byte[] { 0x02, 192, 168, 72, 141 })),
        },
        new NodeReportResponse(NodeId.FromAddress("10.0.0.1"), PfcpCause.RequestAccepted),
    ];

    [Theory]
    [MemberData(nameof(NodeBodies))]
    public void EachNodeMessage_SurvivesEncodeThenDecode(IPfcpMessageBody body)
    {
        var bytes = PfcpCodec.Encode(body, sequenceNumber: 0x123456);
        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
        Assert.Equal(body, decoded.Body);
        Assert.Null(decoded.Header.Seid);
        Assert.Equal(0x123456u, decoded.Header.SequenceNumber);
    }

    [Fact]
    public void NodeReportRequest_ForAPathFailure_WithoutTheReport_IsMissingAConditionalIe()
    {
        var bytes = PfcpCodec.Encode(new UnmodeledMessage(PfcpMessageType.NodeReportRequest,
            [PfcpIe.Of(IeType.NodeId, NodeId.FromAddress("10.0.0.2")), PfcpIe.Raw(IeType.NodeReportType, new byte[] { 0x01 })]), 1);
        var rejected = Assert.IsType<PfcpRejected>(PfcpCodec.Decode(bytes));
        Assert.Equal(PfcpCause.ConditionalIeMissing, rejected.Cause);
        Assert.Equal((ushort)IeType.UserPlanePathFailureReport, rejected.OffendingIe);
    }
}

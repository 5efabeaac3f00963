using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>
/// What a receiver answers to broken requests: the cause and Offending IE of TS 29.244 clause
/// 7.6, or a silent drop when nothing can be answered. Never an exception.
/// </summary>
public class MalformedMessageTests
{
    private static readonly DateTime Boot = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly NodeId Smf = NodeId.FromAddress("10.0.0.1");
    private static readonly NodeId Upf = NodeId.FromAddress("10.0.0.2");
    private static readonly PfcpIe NodeIdIe = PfcpIe.Of(IeType.NodeId, Smf);
    private static readonly PfcpIe CpFSeidIe = PfcpIe.Of(IeType.FSeid, new FSeid(0x1001, IPAddress.Parse("10.0.0.1")));
    private static readonly PfcpIe CreatePdrIe = PfcpIe.Of(IeType.CreatePdr, new CreatePdr(1, new Pdi(SourceInterface.Access)) { Precedence = 1, FarId = 1 });
    private static readonly PfcpIe CreateFarIe = PfcpIe.Of(IeType.CreateFar, new CreateFar(1, new ApplyAction(ApplyActionFlags.Drop)));

    private static PfcpDecodeOutcome Send(PfcpMessageType type, params PfcpIe[] ies) =>
        PfcpCodec.Decode(PfcpCodec.Encode(new UnmodeledMessage(type, ValueList.From(ies)), 5, type.IsSessionMessage() ? 0UL : null));

    private static PfcpRejected Rejected(PfcpDecodeOutcome outcome, PfcpCause cause, IeType offending)
    {
        var rejected = Assert.IsType<PfcpRejected>(outcome);
        Assert.Equal(cause, rejected.Cause);
        Assert.Equal((ushort)offending, rejected.OffendingIe);
        return rejected;
    }

    [Fact]
    public void EstablishmentWithoutCpFSeid_IsAnsweredMandatoryIeMissing_NamingFSeid()
    {
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CreatePdrIe, CreateFarIe),
            PfcpCause.MandatoryIeMissing, IeType.FSeid);
        Assert.Null(rejected.PeerFSeid);
        Assert.Equal(PfcpMessageType.SessionEstablishmentResponse, rejected.ResponseType);

        var answer = Assert.IsType<SessionEstablishmentResponse>(PfcpErrorResponses.For(rejected, Upf, Boot));
        Assert.Equal(PfcpCause.MandatoryIeMissing, answer.Cause);
        Assert.Equal((ushort)IeType.FSeid, answer.OffendingIe);
        var bytes = PfcpCodec.Encode(answer, rejected.Header.SequenceNumber, seid: rejected.PeerFSeid?.Seid ?? 0);
        Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
    }

    [Fact]
    public void EstablishmentWithoutCreatePdr_IsMandatoryIeMissing_AndKeepsThePeerSeidForTheAnswer()
    {
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, CreateFarIe),
            PfcpCause.MandatoryIeMissing, IeType.CreatePdr);
        Assert.Equal(0x1001UL, rejected.PeerFSeid!.Seid);
        Assert.NotNull(rejected.Message);
    }

    [Fact]
    public void DuplicatedMandatoryIe_IsMandatoryIeIncorrect_NamingIt()
    {
        // Two Node IDs: which peer is this? Rather than guess, the request is refused.
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, NodeIdIe, CpFSeidIe, CreatePdrIe, CreateFarIe),
            PfcpCause.MandatoryIeIncorrect, IeType.NodeId);
        Assert.Contains("2 times", rejected.Detail);
    }

    [Fact]
    public void DuplicatedMandatoryIeInsideAGroupedIe_IsMandatoryIeIncorrect()
    {
        var twoPdrIds = PfcpIe.Group(IeType.CreatePdr,
            PfcpIe.Raw(IeType.PdrId, new byte[] { 0, 1 }), PfcpIe.Raw(IeType.PdrId, new byte[] { 0, 2 }),
            PfcpIe.Of(IeType.Pdi, new Pdi(SourceInterface.Access)), PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }));
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, twoPdrIds, CreateFarIe),
            PfcpCause.MandatoryIeIncorrect, IeType.PdrId);
        Assert.Equal("CreatePdr[0]/PdrId", rejected.Path);
    }

    [Fact]
    public void DuplicatedOptionalIe_TheFirstCounts()
    {
        var pdnIpv4 = PfcpIe.Raw(IeType.PdnType, new byte[] { 1 });
        var pdnIpv6 = PfcpIe.Raw(IeType.PdnType, new byte[] { 2 });
        var decoded = Assert.IsType<PfcpDecoded>(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, CreatePdrIe, CreateFarIe, pdnIpv4, pdnIpv6));
        var request = Assert.IsType<SessionEstablishmentRequest>(decoded.Body);
        Assert.Equal(PdnType.Ipv4, request.PdnType);
        Assert.Equal(pdnIpv6, Assert.Single(request.Other));
    }

    [Fact]
    public void CreatePdrWithoutPdi_IsMandatoryIeMissing_NamingPdi_WithItsPath()
    {
        var noPdi = PfcpIe.Group(IeType.CreatePdr, PfcpIe.Raw(IeType.PdrId, new byte[] { 0, 1 }), PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }));
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, CreatePdrIe, noPdi, CreateFarIe),
            PfcpCause.MandatoryIeMissing, IeType.Pdi);
        Assert.Equal("CreatePdr[1]/Pdi", rejected.Path);
    }

    [Fact]
    public void ForwardingFarWithoutForwardingParameters_IsConditionalIeMissing()
    {
        var forwardNowhere = PfcpIe.Group(IeType.CreateFar, PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }), PfcpIe.Raw(IeType.ApplyAction, new byte[] { 0x02 }));
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, CreatePdrIe, forwardNowhere),
            PfcpCause.ConditionalIeMissing, IeType.ForwardingParameters);
        Assert.Equal("CreateFar[0]/ForwardingParameters", rejected.Path);
    }

    [Fact]
    public void GroupedIeWithAnIncorrectChild_IsMandatoryIeIncorrect_NamingTheChild()
    {
        var badFTeid = PfcpIe.Raw(IeType.FTeid, new byte[] { 0x08, 0, 0, 0, 1, 10, 0, 0, 1 }); // CHID without CH
        var pdr = PfcpIe.Group(IeType.CreatePdr, PfcpIe.Raw(IeType.PdrId, new byte[] { 0, 1 }),
            PfcpIe.Group(IeType.Pdi, PfcpIe.Raw(IeType.SourceInterface, new byte[] { 0 }), badFTeid),
            PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }));
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, pdr, CreateFarIe),
            PfcpCause.MandatoryIeIncorrect, IeType.FTeid);
        Assert.Equal("CreatePdr[0]/Pdi/FTeid", rejected.Path);
    }

    [Fact]
    public void GroupedIeWithAChildOverrunningIt_IsInvalidLength_NamingTheChild()
    {
        var bytes = PfcpCodec.Encode(new UnmodeledMessage(PfcpMessageType.SessionEstablishmentRequest, [NodeIdIe, CpFSeidIe, CreatePdrIe, CreateFarIe]), 5, 0);
        int createPdr = bytes.AsSpan().IndexOf(CreatePdrIe.ToBytes());
        bytes[createPdr + 4 + 3] = 0x40; // PDR ID (first child) claims 64 octets, more than its Create PDR holds
        var rejected = Rejected(PfcpCodec.Decode(bytes), PfcpCause.InvalidLength, IeType.PdrId);
        Assert.Null(rejected.Message);
        Assert.Equal(0x1001UL, rejected.PeerFSeid?.Seid);
    }

    [Fact]
    public void IeLengthPastTheEndOfTheMessage_IsInvalidLength()
    {
        var bytes = PfcpCodec.Encode(new UnmodeledMessage(PfcpMessageType.SessionEstablishmentRequest, [NodeIdIe, CpFSeidIe, CreatePdrIe, CreateFarIe]), 5, 0);
        int createFar = bytes.AsSpan().IndexOf(CreateFarIe.ToBytes());
        bytes[createFar + 3] += 1;
        Rejected(PfcpCodec.Decode(bytes), PfcpCause.InvalidLength, IeType.CreateFar);
    }

    public static TheoryData<PfcpMessageType, IeType, PfcpIe[]> EmptyRequiredIes() => new()
    {
        { PfcpMessageType.HeartbeatRequest, IeType.RecoveryTimeStamp, [] },
        { PfcpMessageType.AssociationSetupRequest, IeType.NodeId, [PfcpIe.Raw(IeType.RecoveryTimeStamp, new byte[4])] },
        { PfcpMessageType.SessionEstablishmentRequest, IeType.FSeid, [NodeIdIe, CreatePdrIe, CreateFarIe] },
        { PfcpMessageType.SessionEstablishmentResponse, IeType.Cause, [NodeIdIe] },
        { PfcpMessageType.SessionReportRequest, IeType.ReportType, [] },
        { PfcpMessageType.AssociationUpdateRequest, IeType.GracefulReleasePeriod, [NodeIdIe] },
        { PfcpMessageType.SessionModificationRequest, IeType.PfcpSmReqFlags, [] },
    };

    [Theory]
    [MemberData(nameof(EmptyRequiredIes))]
    public void ZeroLengthIe_WhereContentIsRequired_IsInvalidLength(PfcpMessageType type, IeType empty, PfcpIe[] others)
    {
        var outcome = Send(type, [.. others, PfcpIe.Raw(empty, OctetString.Empty)]);
        Rejected(outcome, PfcpCause.InvalidLength, empty);
    }

    [Theory]
    [InlineData(IeType.PdrId)]
    [InlineData(IeType.SourceInterface)]
    [InlineData(IeType.ApplyAction)]
    public void ZeroLengthIe_InsideAGroupedIe_IsInvalidLength(IeType empty)
    {
        var pdr = PfcpIe.Group(IeType.CreatePdr, PfcpIe.Raw(IeType.PdrId, empty == IeType.PdrId ? OctetString.Empty : new byte[] { 0, 1 }),
            PfcpIe.Group(IeType.Pdi, PfcpIe.Raw(IeType.SourceInterface, empty == IeType.SourceInterface ? OctetString.Empty : new byte[] { 0 })),
            PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }));
        var far = PfcpIe.Group(IeType.CreateFar, PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }),
            PfcpIe.Raw(IeType.ApplyAction, empty == IeType.ApplyAction ? OctetString.Empty : new byte[] { 0x01 }));
        Rejected(Send(PfcpMessageType.SessionEstablishmentRequest, NodeIdIe, CpFSeidIe, pdr, far), PfcpCause.InvalidLength, empty);
    }

    [Fact]
    public void UsageReportTypeWithoutAUsageReport_IsConditionalIeMissing()
    {
        var rejected = Rejected(Send(PfcpMessageType.SessionReportRequest, PfcpIe.Raw(IeType.ReportType, new byte[] { (byte)ReportType.Usar })),
            PfcpCause.ConditionalIeMissing, IeType.UsageReportSessionReportRequest);
        Assert.IsType<SessionReportResponse>(PfcpErrorResponses.For(rejected, Upf, Boot));
    }

    [Fact]
    public void HeartbeatWithoutRecoveryTimeStamp_IsRejected_ButHasNoCauseToAnswerWith()
    {
        var rejected = Rejected(Send(PfcpMessageType.HeartbeatRequest), PfcpCause.MandatoryIeMissing, IeType.RecoveryTimeStamp);
        Assert.Null(PfcpErrorResponses.For(rejected, Upf, Boot));
    }

    [Fact]
    public void BrokenResponse_IsRejected_ButNeverAnswered()
    {
        // Accepted without the UP F-SEID: the CP function treats the establishment as failed.
        var rejected = Rejected(Send(PfcpMessageType.SessionEstablishmentResponse, PfcpIe.Of(IeType.NodeId, Upf), PfcpIe.Raw(IeType.Cause, new byte[] { 1 })),
            PfcpCause.ConditionalIeMissing, IeType.FSeid);
        Assert.Null(rejected.ResponseType);
        Assert.Null(PfcpErrorResponses.For(rejected, Smf, Boot));
    }

    [Fact]
    public void RejectedAssociationSetup_IsAnsweredWithOurNodeIdAndRecoveryTimeStamp()
    {
        var rejected = Rejected(Send(PfcpMessageType.AssociationSetupRequest, PfcpIe.Raw(IeType.RecoveryTimeStamp, new byte[4])),
            PfcpCause.MandatoryIeMissing, IeType.NodeId);
        Assert.Equal(new AssociationSetupResponse(Upf, PfcpCause.MandatoryIeMissing, Boot), PfcpErrorResponses.For(rejected, Upf, Boot));
    }

    [Fact]
    public void RejectedNodeAndSessionRequests_AllHaveAnErrorResponse()
    {
        foreach (var type in Enum.GetValues<PfcpMessageType>().Where(t => t.IsRequest() && t != PfcpMessageType.HeartbeatRequest
                     && t != PfcpMessageType.SessionSetModificationRequest))
        {
            var rejected = new PfcpRejected(new PfcpHeader(type, 1, type.IsSessionMessage() ? 0UL : null), PfcpCause.MandatoryIeMissing, 60, "", "test");
            var answer = PfcpErrorResponses.For(rejected, Upf, Boot);
            Assert.NotNull(answer);
            Assert.Equal(type.ResponseType(), answer!.MessageType);
            var decoded = PfcpCodec.Decode(PfcpCodec.Encode(answer, 1, type.IsSessionMessage() ? 0UL : null));
            Assert.True(decoded is PfcpDecoded, $"{type}: {decoded}");
        }
    }
}

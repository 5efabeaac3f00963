using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>The receive loop of gateway/Pfcp/README.md, kept compiling and correct.</summary>
public class NodeUsageExampleTests
{
    private static readonly NodeId OurNodeId = NodeId.FromAddress("10.0.0.2");
    private static readonly DateTime RecoveryTime = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static byte[]? Answer(byte[] datagram, List<PfcpDropReason> drops)
    {
        switch (PfcpCodec.Decode(datagram))
        {
            case PfcpDecoded { Body: SessionEstablishmentRequest request } decoded:
                var uplink = request.CreatePdrs[0];
                Assert.True(uplink.Pdi.LocalFTeid?.Choose == true);
                var response = new SessionEstablishmentResponse(OurNodeId, PfcpCause.RequestAccepted)
                {
                    UpFSeid = new FSeid(0x2001, IPAddress.Parse("10.0.0.2")),
                    CreatedPdrs = [new CreatedPdr(uplink.PdrId) { LocalFTeid = FTeid.Of(0x100, IPAddress.Parse("192.0.2.2")) }],
                };
                return PfcpCodec.Encode(response, decoded.Header.SequenceNumber, seid: request.CpFSeid.Seid);
            case PfcpRejected rejected when PfcpErrorResponses.For(rejected, OurNodeId, RecoveryTime) is { } answer:
                ulong? seid = rejected.Header.MessageType.IsSessionMessage() ? rejected.PeerFSeid?.Seid ?? 0 : null;
                return PfcpCodec.Encode(answer, rejected.Header.SequenceNumber, seid);
            case PfcpVersionNotSupported { SequenceNumber: { } sequence }:
                return PfcpCodec.Encode(new VersionNotSupportedResponse(), sequence);
            case PfcpDropped dropped:
                drops.Add(dropped.Reason);
                return null;
            default:
                return null;
        }
    }

    private static byte[] Establishment(bool withFar)
    {
        var body = new UnmodeledMessage(PfcpMessageType.SessionEstablishmentRequest,
        [
            PfcpIe.Of(IeType.NodeId, NodeId.FromAddress("10.0.0.1")),
            PfcpIe.Of(IeType.FSeid, new FSeid(0x1001, IPAddress.Parse("10.0.0.1"))),
            PfcpIe.Of(IeType.CreatePdr, new CreatePdr(1, new Pdi(SourceInterface.Access) { LocalFTeid = FTeid.ChooseByUp() }) { Precedence = 1, FarId = 1 }),
            .. withFar ? [PfcpIe.Of(IeType.CreateFar, new CreateFar(1, new ApplyAction(ApplyActionFlags.Drop)))] : Array.Empty<PfcpIe>(),
        ]);
        return PfcpCodec.Encode(body, 42, seid: 0);
    }

    [Fact]
    public void AcceptedEstablishment_IsAnsweredToTheCpSeid_WithTheCreatedPdr()
    {
        var answer = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(Answer(Establishment(withFar: true), [])!));
        Assert.Equal(0x1001UL, answer.Header.Seid);
        Assert.Equal(42u, answer.Header.SequenceNumber);
        var response = Assert.IsType<SessionEstablishmentResponse>(answer.Body);
        Assert.Equal(0x100u, response.CreatedPdrs[0].LocalFTeid!.Teid);
    }

    [Fact]
    public void EstablishmentWithoutCreateFar_IsAnsweredMandatoryIeMissing_ToTheCpSeid()
    {
        var answer = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(Answer(Establishment(withFar: false), [])!));
        Assert.Equal(0x1001UL, answer.Header.Seid);
        var response = Assert.IsType<SessionEstablishmentResponse>(answer.Body);
        Assert.Equal(PfcpCause.MandatoryIeMissing, response.Cause);
        Assert.Equal((ushort)IeType.CreateFar, response.OffendingIe);
    }

    [Fact]
    public void Garbage_IsCountedAndNotAnswered()
    {
        var drops = new List<PfcpDropReason>();
        Assert.Null(Answer([0x20, 0x01, 0x00], drops));
        Assert.Equal([PfcpDropReason.Truncated], drops);
    }
}

using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;

namespace LoxiLb.Edge5G.Tests.Pfcp;

public class PfcpHeaderTests
{
    private static readonly DateTime Boot = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Heartbeat Request, sequence 0x000102, Recovery Time Stamp 2024-01-01T00:00:00Z.</summary>
    private static readonly byte[] HeartbeatRequest =
    [
        0x20,                   // version 1, FO=0, MP=0, S=0
        0x01,                   // message type 1: Heartbeat Request
        0x00, 0x0C,             // length: 12 octets after the first 4
        0x00, 0x01, 0x02,       // sequence number
        0x00,                   // spare
        0x00, 0x60, 0x00, 0x04, // IE 96 Recovery Time Stamp, length 4
        0xE9, 0x3C, 0x7F, 0x00, // NTP seconds of 2024-01-01T00:00:00Z
    ];

    /// <summary>Session Deletion Request to SEID 0x1122334455667788, sequence 7, priority 3.</summary>
    private static readonly byte[] SessionDeletionWithPriority =
    [
        0x23,                                           // version 1, MP=1, S=1
        0x36,                                           // message type 54: Session Deletion Request
        0x00, 0x0C,                                     // length 12: SEID + sequence + priority octet
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // SEID
        0x00, 0x00, 0x07,                               // sequence number
        0x30,                                           // message priority 3 in bits 8-5
    ];

    [Fact]
    public void HeartbeatRequest_IsANodeMessage_WithAnEightOctetHeader_AndNoSeid()
    {
        var bytes = PfcpCodec.Encode(new HeartbeatRequest(Boot), sequenceNumber: 0x000102);
        PfcpAssert.SameOctets(HeartbeatRequest, bytes);

        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
        Assert.Equal(new PfcpHeader(PfcpMessageType.HeartbeatRequest, 0x000102), decoded.Header);
        Assert.Null(decoded.Header.Seid);
        Assert.Equal(8, decoded.Header.Length);
        Assert.Equal(Boot, Assert.IsType<HeartbeatRequest>(decoded.Body).RecoveryTimeStamp);
    }

    [Fact]
    public void SessionMessage_CarriesSeid_AndMessagePriorityInTheUpperNibble()
    {
        var bytes = PfcpCodec.Encode(new SessionDeletionRequest(), sequenceNumber: 7, seid: 0x1122334455667788, messagePriority: 3);
        PfcpAssert.SameOctets(SessionDeletionWithPriority, bytes);

        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
        Assert.Equal(0x1122334455667788UL, decoded.Header.Seid);
        Assert.Equal((byte)3, decoded.Header.MessagePriority);
        Assert.Equal(7u, decoded.Header.SequenceNumber);
        Assert.Equal(16, decoded.Header.Length);
    }

    [Fact]
    public void SequenceNumber_Uses24Bits()
    {
        var bytes = PfcpCodec.Encode(new HeartbeatResponse(Boot), PfcpHeader.MaxSequenceNumber);
        Assert.Equal([0xFF, 0xFF, 0xFF], bytes[4..7]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PfcpHeader(PfcpMessageType.HeartbeatRequest, 0x0100_0000));
    }

    [Fact]
    public void Encoder_RefusesAnSeidOnNodeMessages_AndRequiresItOnSessionMessages()
    {
        Assert.Throws<ArgumentException>(() => PfcpCodec.Encode(new HeartbeatRequest(Boot), 1, seid: 5));
        Assert.Throws<ArgumentException>(() => PfcpCodec.Encode(new SessionDeletionRequest(), 1));
        Assert.Throws<ArgumentException>(() => PfcpCodec.Encode(new PfcpHeader(PfcpMessageType.HeartbeatResponse, 1), new HeartbeatRequest(Boot)));
    }

    public static TheoryData<int> HeaderLengths() => [.. Enumerable.Range(0, 16)];

    [Theory]
    [MemberData(nameof(HeaderLengths))]
    public void DatagramCutInsideTheSessionHeader_IsDropped_NeverAnswered(int length)
    {
        var outcome = PfcpCodec.Decode(SessionDeletionWithPriority.AsSpan(0, length));
        var dropped = Assert.IsType<PfcpDropped>(outcome);
        // Under 8 octets even a node header cannot be read; beyond, the S flag asks for 16.
        Assert.Equal(PfcpDropReason.Truncated, dropped.Reason);
    }

    [Theory]
    [MemberData(nameof(HeaderLengths))]
    public void NodeMessageCutShort_IsDropped_AsTruncatedOrLengthMismatch(int length)
    {
        var dropped = Assert.IsType<PfcpDropped>(PfcpCodec.Decode(HeartbeatRequest.AsSpan(0, length)));
        Assert.Equal(length < 8 ? PfcpDropReason.Truncated : PfcpDropReason.LengthExceedsDatagram, dropped.Reason);
    }

    [Fact]
    public void Version2Message_IsAnsweredWithVersionNotSupported_EchoingItsSequenceNumber()
    {
        var v2 = (byte[])HeartbeatRequest.Clone();
        v2[0] = 0x40; // version 2
        var outcome = Assert.IsType<PfcpVersionNotSupported>(PfcpCodec.Decode(v2));
        Assert.Equal(2, outcome.Version);
        Assert.Equal(0x000102u, outcome.SequenceNumber);

        var answer = PfcpCodec.Encode(new VersionNotSupportedResponse(), outcome.SequenceNumber!.Value);
        PfcpAssert.SameOctets([0x20, 0x0B, 0x00, 0x04, 0x00, 0x01, 0x02, 0x00], answer);
    }

    [Fact]
    public void SFlagOnAHeartbeat_IsDropped_AsSeidFlagMismatch()
    {
        byte[] heartbeatWithSeid =
        [
            0x21, 0x01, 0x00, 0x14,                         // version 1, S=1, Heartbeat Request, length 20
            0, 0, 0, 0, 0, 0, 0, 1,                         // SEID (not allowed on node messages)
            0x00, 0x00, 0x09, 0x00,                         // sequence 9, spare
            0x00, 0x60, 0x00, 0x04, 0xE9, 0x3C, 0x7F, 0x00, // Recovery Time Stamp
        ];
        var dropped = Assert.IsType<PfcpDropped>(PfcpCodec.Decode(heartbeatWithSeid));
        Assert.Equal(PfcpDropReason.SeidFlagMismatch, dropped.Reason);
    }

    [Fact]
    public void SessionMessageWithoutSFlag_IsDropped_AsSeidFlagMismatch()
    {
        byte[] deletionWithoutSeid = [0x20, 0x36, 0x00, 0x04, 0x00, 0x00, 0x01, 0x00];
        Assert.Equal(PfcpDropReason.SeidFlagMismatch, Assert.IsType<PfcpDropped>(PfcpCodec.Decode(deletionWithoutSeid)).Reason);
    }

    [Fact]
    public void LengthFieldLargerThanTheDatagram_IsDropped()
    {
        var longer = (byte[])HeartbeatRequest.Clone();
        longer[3] = 0x0D; // claims one octet more than sent
        var dropped = Assert.IsType<PfcpDropped>(PfcpCodec.Decode(longer));
        Assert.Equal(PfcpDropReason.LengthExceedsDatagram, dropped.Reason);
    }

    [Fact]
    public void LengthFieldSmallerThanTheDatagram_WithoutFollowOn_IsDropped_AsLengthMismatch()
    {
        var shorter = (byte[])HeartbeatRequest.Clone();
        shorter[3] = 0x08; // the Recovery Time Stamp IE would be left outside the message
        var dropped = Assert.IsType<PfcpDropped>(PfcpCodec.Decode(shorter));
        Assert.Equal(PfcpDropReason.LengthShorterThanDatagram, dropped.Reason);
        Assert.NotNull(dropped.Header);
    }

    [Fact]
    public void LengthFieldBelowTheHeaderSize_IsAMalformedHeader()
    {
        byte[] bytes = [0x21, 0x36, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0];
        Assert.Equal(PfcpDropReason.MalformedHeader, Assert.IsType<PfcpDropped>(PfcpCodec.Decode(bytes)).Reason);
    }

    [Fact]
    public void MessagePriorityOnANodeMessage_IsAMalformedHeader()
    {
        var bytes = (byte[])HeartbeatRequest.Clone();
        bytes[0] = 0x22; // MP=1 but S=0: there is no priority octet
        Assert.Equal(PfcpDropReason.MalformedHeader, Assert.IsType<PfcpDropped>(PfcpCodec.Decode(bytes)).Reason);
    }

    [Fact]
    public void UndefinedMessageType_IsSilentlyDropped()
    {
        var bytes = (byte[])HeartbeatRequest.Clone();
        bytes[1] = 99;
        var dropped = Assert.IsType<PfcpDropped>(PfcpCodec.Decode(bytes));
        Assert.Equal(PfcpDropReason.UnknownMessageType, dropped.Reason);
    }

    [Fact]
    public void BundledMessages_WithFollowOn_DecodeOneAfterTheOther()
    {
        var first = PfcpCodec.Encode(new PfcpHeader(PfcpMessageType.HeartbeatRequest, 1, followOn: true), new HeartbeatRequest(Boot));
        var second = PfcpCodec.Encode(new HeartbeatResponse(Boot), 2);
        var outcomes = PfcpCodec.DecodeDatagram([.. first, .. second]);
        Assert.Collection(outcomes,
            o => Assert.IsType<HeartbeatRequest>(Assert.IsType<PfcpDecoded>(o).Body),
            o => Assert.IsType<HeartbeatResponse>(Assert.IsType<PfcpDecoded>(o).Body));
        Assert.True(((PfcpDecoded)outcomes[0]).Header.FollowOn);
    }

    [Theory]
    [InlineData(PfcpMessageType.HeartbeatRequest, PfcpMessageType.HeartbeatResponse)]
    [InlineData(PfcpMessageType.AssociationSetupRequest, PfcpMessageType.AssociationSetupResponse)]
    [InlineData(PfcpMessageType.NodeReportRequest, PfcpMessageType.NodeReportResponse)]
    [InlineData(PfcpMessageType.SessionEstablishmentRequest, PfcpMessageType.SessionEstablishmentResponse)]
    [InlineData(PfcpMessageType.SessionReportRequest, PfcpMessageType.SessionReportResponse)]
    public void EachRequestType_IsAnsweredByTheNextType(PfcpMessageType request, PfcpMessageType response)
    {
        Assert.True(request.IsRequest());
        Assert.False(response.IsRequest());
        Assert.Equal(response, request.ResponseType());
        Assert.Null(response.ResponseType());
    }

    [Fact]
    public void VersionNotSupportedResponse_IsNotARequest()
    {
        Assert.False(PfcpMessageType.VersionNotSupportedResponse.IsRequest());
        Assert.False(PfcpMessageType.VersionNotSupportedResponse.IsSessionMessage());
        Assert.True(PfcpMessageType.SessionDeletionRequest.IsSessionMessage());
    }
}

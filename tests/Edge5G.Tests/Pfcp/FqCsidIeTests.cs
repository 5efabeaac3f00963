using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>FQ-CSID (TS 29.244 8.2.43) and the Session Set Deletion messages (7.4.6) on the wire.</summary>
public class FqCsidIeTests
{
    private static FqCsid Decode(params byte[] ie) => IeDecoders.FqCsid(PfcpIe.Parse(ie));

    [Fact]
    public void AnIpv4FqCsid_IsTypeNibble0_CountNibble_Address_ThenTwoOctetsPerCsid() =>
        PfcpAssert.RoundTrip(IeType.FqCsid, new FqCsid(CsidNode.Of(IPAddress.Parse("198.51.100.9")), ValueList.Of<ushort>(0x0102)),
            IeDecoders.FqCsid, [
                0x00, 0x41, 0x00, 0x07, // type 65, length 7
                0x01,                   // Node-ID type 0 (IPv4), 1 CSID
                198, 51, 100, 9,        // node address
                0x01, 0x02,             // CSID 0x0102
            ]);

    [Fact]
    public void AnIpv6FqCsid_WithTwoCsidsAndANodeType_KeepsAll() =>
        PfcpAssert.RoundTrip(IeType.FqCsid,
            new FqCsid(CsidNode.Of(IPAddress.Parse("2001:db8::7")), ValueList.Create<ushort>([7, 0xFFFF]), NodeType: 2),
            IeDecoders.FqCsid, [
                0x00, 0x41, 0x00, 0x16, // type 65, length 22
                0x12,                   // Node-ID type 1 (IPv6), 2 CSIDs
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
                0x00, 0x07, 0xFF, 0xFF, // CSIDs 7 and 65535
                0x02,                   // Node Type 2
            ]);

    [Fact]
    public void AnMccMncFqCsid_IsA32BitValue_WithTheOperatorsNodeNumberInTheLow12Bits()
    {
        // MCC 001, MNC 01: 1 * 1000 + 1 = 1001 in the top 20 bits; node number 0x123.
        uint value = 1001u << 12 | 0x123;
        var fqCsid = new FqCsid(CsidNode.OfPlmn(value), ValueList.Of<ushort>(9));
        PfcpAssert.RoundTrip(IeType.FqCsid, fqCsid, IeDecoders.FqCsid, [
            0x00, 0x41, 0x00, 0x07,
            0x21,                                             // Node-ID type 2, 1 CSID
            (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value,
            0x00, 0x09,
        ]);
        Assert.Equal("plmn:1001/291", fqCsid.Node.ToString());
    }

    [Fact]
    public void AReservedNodeIdType_IsMandatoryIeIncorrect_NamingIt()
    {
        var e = PfcpAssert.Fails(PfcpCause.MandatoryIeIncorrect, () => Decode(0x00, 0x41, 0x00, 0x07, 0x31, 1, 2, 3, 4, 0, 1));
        Assert.Contains("Node-ID type 3 is reserved", e.Message);
    }

    [Fact]
    public void FewerCsidOctetsThanTheCountSays_IsInvalidLength_NamingTheCsid()
    {
        var e = PfcpAssert.Fails(PfcpCause.InvalidLength, () => Decode(0x00, 0x41, 0x00, 0x07, 0x02, 198, 51, 100, 9, 0x00, 0x01));
        Assert.Contains("CSID 2 of 2", e.Message);
    }

    [Fact]
    public void AnAddressCutShort_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => Decode(0x00, 0x41, 0x00, 0x03, 0x01, 198, 51));

    [Fact]
    public void Names_IsTheSameNodeAndOneOfItsCsids()
    {
        var node = CsidNode.Of(IPAddress.Parse("198.51.100.9"));
        var fqCsid = new FqCsid(node, ValueList.Create<ushort>([4, 5]));
        Assert.True(fqCsid.Names(CsidNode.Of(IPAddress.Parse("198.51.100.9")), 5));
        Assert.False(fqCsid.Names(node, 6));
        Assert.False(fqCsid.Names(CsidNode.Of(IPAddress.Parse("198.51.100.10")), 5));
        Assert.False(fqCsid.Names(CsidNode.OfPlmn(0xC6336409), 5)); // 198.51.100.9 as a number is another node type
    }

    [Fact]
    public void SessionSetDeletionRequest_IsNodeIdThenEachFqCsid_AndDecodesBack()
    {
        var request = new SessionSetDeletionRequest(NodeId.FromAddress(IPAddress.Parse("192.0.2.50")))
        {
            FqCsids = [new FqCsid(CsidNode.Of(IPAddress.Parse("192.0.2.50")), ValueList.Create<ushort>([1, 2]))],
        };

        var bytes = PfcpCodec.Encode(request, 0x000102, seid: null);

        PfcpAssert.SameOctets([
            0x20, 14, 0x00, 0x1A,   // version 1, no SEID; type 14; length 26
            0x00, 0x01, 0x02, 0x00, // sequence 0x000102, spare
            0x00, 0x3C, 0x00, 0x05, 0x00, 192, 0, 2, 50,        // Node ID: IPv4
            0x00, 0x41, 0x00, 0x09, 0x02, 192, 0, 2, 50, 0, 1, 0, 2, // FQ-CSID: IPv4, CSIDs 1 and 2
        ], bytes);
        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes));
        var body = Assert.IsType<SessionSetDeletionRequest>(decoded.Body);
        Assert.Equal(request.NodeId, body.NodeId);
        Assert.Equal(request.FqCsids, body.FqCsids);
    }

    [Fact]
    public void SessionSetDeletionRequest_WithoutANodeId_IsRejectedMandatoryIeMissing_AndAnsweredWithTheTypedResponse()
    {
        // Version 1, type 14, no SEID, length 4: only the sequence number.
        var rejected = Assert.IsType<PfcpRejected>(PfcpCodec.Decode([0x20, 14, 0x00, 0x04, 0x00, 0x00, 0x09, 0x00]));
        Assert.Equal(PfcpCause.MandatoryIeMissing, rejected.Cause);
        Assert.Equal((ushort)IeType.NodeId, rejected.OffendingIe);

        var answer = Assert.IsType<SessionSetDeletionResponse>(
            PfcpErrorResponses.For(rejected, NodeId.FromAddress(IPAddress.Loopback), DateTime.UnixEpoch.AddYears(60)));
        Assert.Equal(PfcpCause.MandatoryIeMissing, answer.Cause);
        Assert.Equal((ushort)IeType.NodeId, answer.OffendingIe);
    }
}

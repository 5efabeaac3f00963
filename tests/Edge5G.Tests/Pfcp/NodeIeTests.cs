using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>IEs of node-level procedures: association, heartbeat, node report, load and overload control.</summary>
public class NodeIeTests
{
    private static IPAddress Ip(string address) => IPAddress.Parse(address);

    [Theory]
    [InlineData(PfcpCause.RequestAccepted, 1)]
    [InlineData(PfcpCause.RequestRejected, 64)]
    [InlineData(PfcpCause.SessionContextNotFound, 65)]
    [InlineData(PfcpCause.MandatoryIeMissing, 66)]
    [InlineData(PfcpCause.ConditionalIeMissing, 67)]
    [InlineData(PfcpCause.InvalidLength, 68)]
    [InlineData(PfcpCause.MandatoryIeIncorrect, 69)]
    [InlineData(PfcpCause.NoEstablishedPfcpAssociation, 72)]
    [InlineData(PfcpCause.RuleCreationModificationFailure, 73)]
    [InlineData(PfcpCause.SystemFailure, 77)]
    public void Cause_IsOneOctet_WithTheValuesOfTable8_2_1_1(PfcpCause cause, byte value) =>
        PfcpAssert.LeafRoundTrip(IeType.Cause, cause, [
            0x00, 0x13, // type 19 Cause
            0x00, 0x01, // length 1
            value,      // cause value
        ]);

    [Fact]
    public void Cause_WithoutItsOctet_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => LeafIes.Decode(PfcpIe.Raw(IeType.Cause, OctetString.Empty)));

    [Fact]
    public void AcceptanceCauses_AreBelow64() =>
        Assert.Equal([true, true, false], new[] { PfcpCause.RequestAccepted, PfcpCause.MoreUsageReportToSend, PfcpCause.RequestRejected }.Select(c => c.IsAcceptance()));

    [Fact]
    public void NodeId_Ipv4() =>
        PfcpAssert.LeafRoundTrip(IeType.NodeId, NodeId.FromAddress("192.168.1.1"), [
            0x00, 0x3C,             // type 60 Node ID
            0x00, 0x05,             // length 5
            0x00,                   // spare | node ID type 0: IPv4
            192, 168, 1, 1,         // address
        ]);

    [Fact]
    public void NodeId_Ipv6() =>
        PfcpAssert.LeafRoundTrip(IeType.NodeId, NodeId.FromAddress("2001:db8::1"), [
            0x00, 0x3C, 0x00, 0x11, // Node ID, length 17
            0x01,                   // node ID type 1: IPv6
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        ]);

    [Fact]
    public void NodeId_Fqdn_IsDnsLabelEncoded()
    {
        var node = NodeId.FromFqdn("upf.edge");
        PfcpAssert.LeafRoundTrip(IeType.NodeId, node, [
            0x00, 0x3C, 0x00, 0x0A,             // Node ID, length 10
            0x02,                               // node ID type 2: FQDN
            0x03, (byte)'u', (byte)'p', (byte)'f', // label "upf"
            0x04, (byte)'e', (byte)'d', (byte)'g', (byte)'e', // label "edge"
        ]);
        Assert.Equal("upf.edge", node.ToString());
    }

    [Fact]
    public void NodeId_FqdnSentAsPlainText_IsAccepted_AndKeptAsSent()
    {
        byte[] bytes = [0x00, 0x3C, 0x00, 0x04, 0x02, (byte)'u', (byte)'p', (byte)'f'];
        var node = (NodeId)LeafIes.Decode(PfcpIe.Parse(bytes));
        Assert.Equal(NodeIdType.Fqdn, node.Type);
        Assert.False(node.Fqdn!.IsLabelEncoded);
        Assert.Equal("upf", node.Fqdn.Text);
        PfcpAssert.SameOctets(bytes, LeafIes.Encode(IeType.NodeId, node).ToBytes());
    }

    [Fact]
    public void NodeId_OfAnUnknownType_IsIncorrect_AndAnEmptyOneHasAnInvalidLength()
    {
        PfcpAssert.Fails(PfcpCause.MandatoryIeIncorrect, () => NodeId.Decode([0x05, 1, 2, 3, 4]));
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => NodeId.Decode([]));
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => NodeId.Decode([0x00, 10, 0, 0]));
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => NodeId.Decode([0x02]));
    }

    [Fact]
    public void RecoveryTimeStamp_IsNtpSeconds() =>
        PfcpAssert.LeafRoundTrip(IeType.RecoveryTimeStamp, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), [
            0x00, 0x60, 0x00, 0x04, // type 96 Recovery Time Stamp, length 4
            0xE9, 0x3C, 0x7F, 0x00, // 3913056000 s since 1900-01-01
        ]);

    [Fact]
    public void NtpSeconds_WrapInto2036_WhenTheTopBitIsClear()
    {
        var era1 = new DateTime(2036, 2, 7, 6, 28, 16, DateTimeKind.Utc);
        Assert.Equal(era1, NtpTime.ToDateTime(0));
        Assert.Equal(0u, NtpTime.FromDateTime(era1));
        Assert.Equal(era1.AddSeconds(10), NtpTime.ToDateTime(10));
        Assert.Equal(0xFFFF_FFFFu, NtpTime.FromDateTime(era1.AddSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => NtpTime.FromDateTime(new DateTime(1950, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
    }

    [Fact]
    public void UpFunctionFeatures_NameTheirBits_AndKeepTwoOctetsAtLeast()
    {
        var features = UpFunctionFeatures.With(UpFeature.Ftup, UpFeature.Empu);
        PfcpAssert.LeafRoundTrip(IeType.UpFunctionFeatures, features, [
            0x00, 0x2B, 0x00, 0x02, // type 43 UP Function Features, length 2
            0x10,                   // octet 5: bit 5 FTUP
            0x01,                   // octet 6: bit 1 EMPU
        ]);
        Assert.True(features.Has(UpFeature.Ftup));
        Assert.False(features.Has(UpFeature.Ueip));
        Assert.Equal("FTUP|EMPU", features.ToString());
    }

    [Fact]
    public void UpFunctionFeatures_OfAnyLength_AreCarriedAsReceived()
    {
        byte[] bytes =
        [
            0x00, 0x2B, 0x00, 0x06, // UP Function Features, length 6 (Rel-16 UPF)
            0x10, 0x01,             // FTUP, EMPU
            0x04,                   // octet 7 bit 3: UEIP
            0x80,                   // octet 8 bit 8: MPTCP
            0x00,
            0x80,                   // octet 10 bit 8: DNSTS
        ];
        var features = (UpFunctionFeatures)LeafIes.Decode(PfcpIe.Parse(bytes));
        Assert.True(features.Has(UpFeature.Ueip));
        Assert.True(features.Has(UpFeature.Mptcp));
        Assert.True(features.Has(UpFeature.Dnsts));
        Assert.False(features.Has(UpFeature.Bucp));
        PfcpAssert.SameOctets(bytes, LeafIes.Encode(IeType.UpFunctionFeatures, features).ToBytes());
    }

    [Fact]
    public void CpFunctionFeatures_LoadAndOverloadControl() =>
        PfcpAssert.LeafRoundTrip(IeType.CpFunctionFeatures, CpFunctionFeatures.With(CpFeature.Load, CpFeature.Ovrl), [
            0x00, 0x59, 0x00, 0x01, // type 89 CP Function Features, length 1
            0x03,                   // bit 1 LOAD, bit 2 OVRL
        ]);

    [Fact]
    public void FSeid_WithIpv4() =>
        PfcpAssert.LeafRoundTrip(IeType.FSeid, new FSeid(0x0102030405060708, Ip("10.0.0.7")), [
            0x00, 0x39, 0x00, 0x0D,                         // type 57 F-SEID, length 13
            0x02,                                           // flags: V4
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // SEID
            10, 0, 0, 7,                                    // IPv4 address
        ]);

    [Fact]
    public void FSeid_WithBothAddresses_PutsIpv4First() =>
        PfcpAssert.LeafRoundTrip(IeType.FSeid, new FSeid(1, Ip("10.0.0.7"), Ip("2001:db8::7")), [
            0x00, 0x39, 0x00, 0x1D,       // F-SEID, length 29
            0x03,                         // flags: V4 | V6
            0, 0, 0, 0, 0, 0, 0, 0x01,    // SEID 1
            10, 0, 0, 7,                  // IPv4
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, // IPv6
        ]);

    [Fact]
    public void FSeid_WithoutAnAddressFlag_IsIncorrect() =>
        PfcpAssert.Fails(PfcpCause.MandatoryIeIncorrect, () => FSeid.Decode([0x00, 0, 0, 0, 0, 0, 0, 0, 1]));

    [Fact]
    public void UserPlaneIpResourceInformation_WithTeidRange_NetworkInstance_AndSourceInterface() =>
        PfcpAssert.LeafRoundTrip(IeType.UserPlaneIpResourceInformation,
            new UserPlaneIpResourceInformation
            {
                TeidRangeIndication = 2, TeidRange = 0x80, Ipv4 = Ip("192.168.72.202"),
                NetworkInstance = DnsName.FromLabels("access"), SourceInterface = SourceInterface.Access,
            },
            [
                0x00, 0x74, 0x00, 0x0E,         // type 116, length 14
                0x69,                           // flags: ASSOSI | ASSONI | TEIDRI=2 | V4
                0x80,                           // TEID range
                192, 168, 72, 202,              // IPv4
                0x06, (byte)'a', (byte)'c', (byte)'c', (byte)'e', (byte)'s', (byte)'s', // network instance "access"
                0x00,                           // source interface: Access
            ]);

    [Fact]
    public void GracefulReleasePeriod_IsATimerOctet() =>
        PfcpAssert.LeafRoundTrip(IeType.GracefulReleasePeriod, new TimerValue(1, 5), [
            0x00, 0x70, 0x00, 0x01, // type 112 Graceful Release Period, length 1
            0x25,                   // unit 001 (minutes), value 5
        ]);

    [Theory]
    [InlineData(0, 3, 6)]
    [InlineData(1, 5, 300)]
    [InlineData(2, 1, 600)]
    [InlineData(3, 2, 7200)]
    [InlineData(4, 1, 36000)]
    [InlineData(5, 2, 120)]
    public void TimerUnits_GiveDurations(byte unit, byte value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), new TimerValue(unit, value).Duration);

    [Fact]
    public void TimerUnit7_IsInfinite() => Assert.Null(new TimerValue(TimerValue.InfiniteUnit, 0).Duration);

    [Fact]
    public void AssociationReleaseRequestIe_Flags() =>
        PfcpAssert.LeafRoundTrip(IeType.PfcpAssociationReleaseRequest, (byte)(AssociationReleaseRequestFlags.Sarr | AssociationReleaseRequestFlags.Urss), [
            0x00, 0x6F, 0x00, 0x01, // type 111 PFCP Association Release Request, length 1
            0x03,                   // SARR | URSS
        ]);

    [Fact]
    public void NodeReportType_UserPlanePathFailure() =>
        PfcpAssert.LeafRoundTrip(IeType.NodeReportType, (byte)NodeReportType.Upfr, [0x00, 0x65, 0x00, 0x01, 0x01]);

    [Fact]
    public void LoadControlInformation_GroupsSequenceNumberAndMetric() =>
        PfcpAssert.RoundTrip(IeType.LoadControlInformation, new LoadControlInformation(7, 50), LoadControlInformation.Decode, [
            0x00, 0x33, 0x00, 0x0D,                         // type 51 Load Control Information, length 13
            0x00, 0x34, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, //   Sequence Number 7
            0x00, 0x35, 0x00, 0x01, 50,                     //   Metric 50 %
        ]);

    [Fact]
    public void OverloadControlInformation_AddsValidityAndFlags() =>
        PfcpAssert.RoundTrip(IeType.OverloadControlInformation,
            new OverloadControlInformation(9, 20, new TimerValue(1, 2)) { Flags = OciFlags.Aoci },
            OverloadControlInformation.Decode,
            [
                0x00, 0x36, 0x00, 0x17,                         // type 54 Overload Control Information, length 23
                0x00, 0x34, 0x00, 0x04, 0x00, 0x00, 0x00, 0x09, //   Sequence Number 9
                0x00, 0x35, 0x00, 0x01, 20,                     //   Metric 20 %
                0x00, 0x37, 0x00, 0x01, 0x22,                   //   Timer: 2 minutes
                0x00, 0x6E, 0x00, 0x01, 0x01,                   //   OCI Flags: AOCI
            ]);

    [Fact]
    public void SourceIpAddress_InAHeartbeat_WithMaskPrefixLength() =>
        PfcpAssert.LeafRoundTrip(IeType.SourceIpAddress, new SourceIpAddress { Ipv4 = Ip("10.0.0.1"), MaskPrefixLength = 24 }, [
            0x00, 0xC0, 0x00, 0x06, // type 192 Source IP Address, length 6
            0x06,                   // flags: MPL | V4
            10, 0, 0, 1,            // IPv4
            24,                     // mask prefix length
        ]);
}

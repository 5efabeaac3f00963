using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>Session reports, error reporting and the smaller session-level IEs.</summary>
public class ReportIeTests
{
    [Fact]
    public void ReportType_UsageReport() =>
        PfcpAssert.LeafRoundTrip(IeType.ReportType, (byte)ReportType.Usar, [0x00, 0x27, 0x00, 0x01, 0x02]);

    [Fact]
    public void OffendingIe_NamesAnIeType() =>
        PfcpAssert.LeafRoundTrip(IeType.OffendingIe, (ushort)IeType.FSeid, [
            0x00, 0x28, 0x00, 0x02, // type 40 Offending IE, length 2
            0x00, 0x39,             // IE type 57 (F-SEID)
        ]);

    [Fact]
    public void DownlinkDataServiceInformation_WithQfi() =>
        PfcpAssert.LeafRoundTrip(IeType.DownlinkDataServiceInformation, new DownlinkDataServiceInformation(Qfi: 9), [
            0x00, 0x2D, 0x00, 0x02, // type 45 Downlink Data Service Information, length 2
            0x02,                   // flags: QFII
            0x09,                   // QFI
        ]);

    [Fact]
    public void DownlinkDataReport_NamesThePdrThatReceivedData() =>
        PfcpAssert.RoundTrip(IeType.DownlinkDataReport,
            new DownlinkDataReport([2]) { ServiceInformation = [new DownlinkDataServiceInformation(PagingPolicyIndication: 3, Qfi: 9)] },
            DownlinkDataReport.Decode,
            [
                0x00, 0x53, 0x00, 0x0D,             // type 83 Downlink Data Report, length 13
                0x00, 0x38, 0x00, 0x02, 0x00, 0x02, //   PDR ID 2
                0x00, 0x2D, 0x00, 0x03,             //   Downlink Data Service Information, length 3
                0x03, 0x03, 0x09,                   //     flags PPI | QFII, PPI 3, QFI 9
            ]);

    [Fact]
    public void ErrorIndicationReport_CarriesTheRemoteFTeid() =>
        PfcpAssert.RoundTrip(IeType.ErrorIndicationReport,
            new ErrorIndicationReport([FTeid.Of(0x0D0A, IPAddress.Parse("192.168.72.141"))]),
            ErrorIndicationReport.Decode,
            [
                0x00, 0x63, 0x00, 0x0D,       // type 99 Error Indication Report, length 13
                0x00, 0x15, 0x00, 0x09, 0x01, //   Remote F-TEID: V4
                0x00, 0x00, 0x0D, 0x0A,       //     TEID
                192, 168, 72, 141,            //     gNB address
            ]);

    [Fact]
    public void PfcpSmReqFlags_SendEndMarker() =>
        PfcpAssert.LeafRoundTrip(IeType.PfcpSmReqFlags, (byte)PfcpSmReqFlags.Sndem, [0x00, 0x31, 0x00, 0x01, 0x02]);

    [Fact]
    public void FailedRuleId_OfAPdr_UsesTwoOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.FailedRuleId, new FailedRuleId(RuleKind.Pdr, 5), [
            0x00, 0x72, 0x00, 0x03, // type 114 Failed Rule ID, length 3
            0x00,                   // rule ID type 0: PDR
            0x00, 0x05,             // PDR ID 5
        ]);

    [Fact]
    public void FailedRuleId_OfAFar_UsesFourOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.FailedRuleId, new FailedRuleId(RuleKind.Far, 7), [
            0x00, 0x72, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x07,
        ]);

    [Fact]
    public void Snssai_SstAndSd() =>
        PfcpAssert.LeafRoundTrip(IeType.Snssai, new Snssai(1, 0x000001), [
            0x01, 0x01, 0x00, 0x04, // type 257 S-NSSAI, length 4
            0x01,                   // SST 1 (eMBB)
            0x00, 0x00, 0x01,       // SD
        ]);

    [Fact]
    public void PdnType_Ipv4v6() =>
        PfcpAssert.LeafRoundTrip(IeType.PdnType, PdnType.Ipv4v6, [0x00, 0x71, 0x00, 0x01, 0x03]);

    [Fact]
    public void ThreeGppInterfaceType_N3() =>
        PfcpAssert.LeafRoundTrip(IeType.ThreeGppInterfaceType, ThreeGppInterfaceType.N3ThreeGppAccess, [0x00, 0xA0, 0x00, 0x01, 0x0B]);

    [Fact]
    public void ApnDnn_IsLabelEncoded() =>
        PfcpAssert.LeafRoundTrip(IeType.ApnDnn, DnsName.FromLabels("internet"), [0x00, 0x9F, 0x00, 0x09, 0x08, .. "internet"u8.ToArray()]);

    [Fact]
    public void ActivatePredefinedRules_IsARuleName() =>
        PfcpAssert.LeafRoundTrip(IeType.ActivatePredefinedRules, OctetString.FromAscii("gold"), [0x00, 0x6A, 0x00, 0x04, .. "gold"u8.ToArray()]);

    [Fact]
    public void UserPlaneInactivityTimer_IsSeconds() =>
        PfcpAssert.LeafRoundTrip(IeType.UserPlaneInactivityTimer, 300u, [0x00, 0x75, 0x00, 0x04, 0x00, 0x00, 0x01, 0x2C]);

    [Fact]
    public void EveryTypedLeafIe_HasACodecThatRoundTripsItsDefaultShape()
    {
        // Guards the registry itself: each listed type must decode what it encodes.
        foreach (var type in LeafIes.Types)
        {
            var sample = SampleFor(type);
            if (sample is null)
                continue;
            Assert.Equal(sample, LeafIes.Decode(LeafIes.Encode(type, sample)));
        }
    }

    private static object? SampleFor(IeType type) => LeafIes.Decode(type switch
    {
        IeType.NodeId => PfcpIe.Of(type, NodeId.FromAddress("10.0.0.1")),
        IeType.FSeid => PfcpIe.Of(type, new FSeid(1, IPAddress.Parse("10.0.0.1"))),
        IeType.FTeid => PfcpIe.Of(type, FTeid.ChooseByUp()),
        IeType.FailedRuleId => PfcpIe.Of(type, new FailedRuleId(RuleKind.Bar, 1)),
        IeType.OuterHeaderCreation => PfcpIe.Of(type, OuterHeaderCreation.GtpuIpv4(1, IPAddress.Loopback)),
        IeType.NetworkInstance or IeType.ApnDnn or IeType.ActivatePredefinedRules or IeType.DeactivatePredefinedRules
            or IeType.ApplicationId => PfcpIe.Raw(type, OctetString.FromAscii("x")),
        _ => PfcpIe.Raw(type, new byte[25]),
    });
}

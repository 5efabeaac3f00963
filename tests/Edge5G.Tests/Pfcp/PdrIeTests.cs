using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>Packet detection: PDR, PDI and the IEs that say which packets a PDR matches.</summary>
public class PdrIeTests
{
    private static IPAddress Ip(string address) => IPAddress.Parse(address);

    [Fact]
    public void FTeid_AllocatedByTheCpFunction_CarriesTeidAndIpv4() =>
        PfcpAssert.LeafRoundTrip(IeType.FTeid, FTeid.Of(0x11223344, Ip("192.0.2.10")), [
            0x00, 0x15, 0x00, 0x09, // type 21 F-TEID, length 9
            0x01,                   // flags: V4
            0x11, 0x22, 0x33, 0x44, // TEID
            192, 0, 2, 10,          // IPv4 address
        ]);

    [Fact]
    public void FTeid_DualStack_PutsIpv4BeforeIpv6() =>
        PfcpAssert.LeafRoundTrip(IeType.FTeid, FTeid.Of(1, Ip("192.0.2.10"), Ip("2001:db8::10")), [
            0x00, 0x15, 0x00, 0x19, // F-TEID, length 25
            0x03,                   // flags: V4 | V6
            0x00, 0x00, 0x00, 0x01, // TEID
            192, 0, 2, 10,          // IPv4
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, // IPv6
        ]);

    [Fact]
    public void FTeid_Choose_AsksTheUpFunctionToAllocate_WithoutTeidOrAddress() =>
        PfcpAssert.LeafRoundTrip(IeType.FTeid, FTeid.ChooseByUp(ipv4: true), [
            0x00, 0x15, 0x00, 0x01, // F-TEID, length 1
            0x05,                   // flags: CH | V4
        ]);

    [Fact]
    public void FTeid_ChooseId_LetsPdrsShareOneAllocatedFTeid() =>
        PfcpAssert.LeafRoundTrip(IeType.FTeid, FTeid.ChooseByUp(ipv4: true, ipv6: true, chooseId: 7), [
            0x00, 0x15, 0x00, 0x02, // F-TEID, length 2
            0x0F,                   // flags: CHID | CH | V6 | V4
            0x07,                   // CHOOSE ID
        ]);

    [Fact]
    public void FTeid_ChooseIdWithoutChoose_IsIncorrect() =>
        PfcpAssert.Fails(PfcpCause.MandatoryIeIncorrect, () => FTeid.Decode([0x09, 0, 0, 0, 1, 10, 0, 0, 1]));

    [Fact]
    public void FTeid_WithoutAddressFamily_IsIncorrect() =>
        PfcpAssert.Fails(PfcpCause.MandatoryIeIncorrect, () => FTeid.Decode([0x00, 0, 0, 0, 1]));

    [Fact]
    public void FTeid_ShorterThanItsFlagsPromise_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => FTeid.Decode([0x01, 0, 0, 0, 1, 10, 0]));

    [Fact]
    public void PdrId_IsTwoOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.PdrId, (ushort)5, [0x00, 0x38, 0x00, 0x02, 0x00, 0x05]);

    [Fact]
    public void Precedence_IsFourOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.Precedence, 255u, [0x00, 0x1D, 0x00, 0x04, 0x00, 0x00, 0x00, 0xFF]);

    [Theory]
    [InlineData(SourceInterface.Access, 0)]
    [InlineData(SourceInterface.Core, 1)]
    [InlineData(SourceInterface.SgiLanN6Lan, 2)]
    [InlineData(SourceInterface.CpFunction, 3)]
    [InlineData(SourceInterface.FiveGVnInternal, 4)]
    public void SourceInterface_ValueSitsInTheLowNibble(SourceInterface source, byte value) =>
        PfcpAssert.LeafRoundTrip(IeType.SourceInterface, source, [0x00, 0x14, 0x00, 0x01, value]);

    [Fact]
    public void NetworkInstance_AsDnsLabels()
    {
        var name = DnsName.FromLabels("access.oai.org");
        PfcpAssert.LeafRoundTrip(IeType.NetworkInstance, name, [
            0x00, 0x16, 0x00, 0x0F,                                     // type 22 Network Instance, length 15
            0x06, (byte)'a', (byte)'c', (byte)'c', (byte)'e', (byte)'s', (byte)'s', // "access"
            0x03, (byte)'o', (byte)'a', (byte)'i',                      // "oai"
            0x03, (byte)'o', (byte)'r', (byte)'g',                      // "org"
        ]);
        Assert.True(name.IsLabelEncoded);
        Assert.Equal("access.oai.org", name.Text);
    }

    [Fact]
    public void NetworkInstance_AsRawText_IsReadAsText()
    {
        var name = DnsName.FromText("internet");
        PfcpAssert.LeafRoundTrip(IeType.NetworkInstance, name,
            [0x00, 0x16, 0x00, 0x08, .. "internet"u8.ToArray()]);
        Assert.False(name.IsLabelEncoded);
        Assert.Equal("internet", name.Text);
    }

    [Fact]
    public void NetworkInstance_Empty_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => LeafIes.Decode(PfcpIe.Raw(IeType.NetworkInstance, OctetString.Empty)));

    [Fact]
    public void UeIpAddress_Ipv4_AsDestination_ForDownlink() =>
        PfcpAssert.LeafRoundTrip(IeType.UeIpAddress, UeIpAddress.Destination(Ip("10.45.0.2")), [
            0x00, 0x5D, 0x00, 0x05, // type 93 UE IP Address, length 5
            0x06,                   // flags: S/D (destination) | V4
            10, 45, 0, 2,           // IPv4
        ]);

    [Fact]
    public void UeIpAddress_Ipv6_WithPrefixDelegationBits() =>
        PfcpAssert.LeafRoundTrip(IeType.UeIpAddress, new UeIpAddress { Ipv6 = Ip("2001:db8:1::"), Ipv6PrefixDelegationBits = 8 }, [
            0x00, 0x5D, 0x00, 0x12, // UE IP Address, length 18
            0x09,                   // flags: IPv6D | V6
            0x20, 0x01, 0x0D, 0xB8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // IPv6 prefix
            0x08,                   // prefix delegation bits
        ]);

    [Fact]
    public void UeIpAddress_Ipv6_WithPrefixLength() =>
        PfcpAssert.LeafRoundTrip(IeType.UeIpAddress, new UeIpAddress { Ipv6 = Ip("2001:db8:1::"), Ipv6PrefixLength = 56 }, [
            0x00, 0x5D, 0x00, 0x12, // UE IP Address, length 18
            0x41,                   // flags: IP6PL | V6
            0x20, 0x01, 0x0D, 0xB8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            56,                     // IPv6 prefix length
        ]);

    [Fact]
    public void UeIpAddress_ChooseV4AndV6_AsksTheUpFunctionToAllocate() =>
        PfcpAssert.LeafRoundTrip(IeType.UeIpAddress, new UeIpAddress { ChooseIpv4 = true, ChooseIpv6 = true }, [
            0x00, 0x5D, 0x00, 0x01, // UE IP Address, length 1
            0x30,                   // flags: CHV6 | CHV4
        ]);

    [Fact]
    public void SdfFilter_WithAFlowDescription()
    {
        const string flow = "permit out ip from any to assigned";
        PfcpAssert.LeafRoundTrip(IeType.SdfFilter, new SdfFilter { FlowDescription = flow }, [
            0x00, 0x17, 0x00, 0x26,  // type 23 SDF Filter, length 38
            0x01,                    // flags: FD
            0x00,                    // spare
            0x00, 0x22,              // flow description length 34
            .. "permit out ip from any to assigned"u8.ToArray(),
        ]);
    }

    [Fact]
    public void SdfFilter_WithTrafficClass_Spi_FlowLabel_AndFilterId() =>
        PfcpAssert.LeafRoundTrip(IeType.SdfFilter,
            new SdfFilter { TosTrafficClass = 0xB8FC, SecurityParameterIndex = 0x01020304, FlowLabel = 0x0ABCDE, FilterId = 9 },
            [
                0x00, 0x17, 0x00, 0x0F,     // SDF Filter, length 15
                0x1E,                       // flags: BID | FL | SPI | TTC
                0x00,                       // spare
                0xB8, 0xFC,                 // ToS/traffic class and mask
                0x01, 0x02, 0x03, 0x04,     // security parameter index
                0x0A, 0xBC, 0xDE,           // flow label (20 bits in 3 octets)
                0x00, 0x00, 0x00, 0x09,     // SDF filter ID
            ]);

    [Fact]
    public void SdfFilter_FlowDescriptionRunningPastTheIe_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => SdfFilter.Decode([0x01, 0x00, 0x00, 0x10, (byte)'p']));

    [Fact]
    public void Qfi_IsSixBits() =>
        PfcpAssert.LeafRoundTrip(IeType.Qfi, (byte)9, [0x00, 0x7C, 0x00, 0x01, 0x09]);

    [Fact]
    public void OuterHeaderRemoval_GtpuUdpIpv4() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderRemoval, new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4), [
            0x00, 0x5F, 0x00, 0x01, // type 95 Outer Header Removal, length 1
            0x00,                   // GTP-U/UDP/IPv4
        ]);

    [Fact]
    public void OuterHeaderRemoval_WithExtensionHeaderDeletion() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderRemoval, new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIp, 0x01), [
            0x00, 0x5F, 0x00, 0x02, // Outer Header Removal, length 2
            0x06,                   // GTP-U/UDP/IP (either version)
            0x01,                   // delete the PDU Session Container extension header
        ]);

    /// <summary>Uplink PDI: from Access, UP allocates the F-TEID, UE 10.45.0.2, one SDF filter, QFI 9.</summary>
    private static readonly byte[] UplinkPdi =
    [
        0x00, 0x02, 0x00, 0x38,                                 // type 2 PDI, length 56
        0x00, 0x14, 0x00, 0x01, 0x00,                           //   Source Interface: Access
        0x00, 0x15, 0x00, 0x01, 0x05,                           //   F-TEID: CH | V4
        0x00, 0x16, 0x00, 0x09, 0x08, .. "internet"u8.ToArray(), //   Network Instance "internet"
        0x00, 0x5D, 0x00, 0x05, 0x02, 10, 45, 0, 2,             //   UE IP Address: V4 source
        0x00, 0x17, 0x00, 0x0F, 0x01, 0x00, 0x00, 0x0B,         //   SDF Filter: FD, 11 octets
        .. "permit out "u8.ToArray(),
        0x00, 0x7C, 0x00, 0x01, 0x09,                           //   QFI 9
    ];

    private static Pdi UplinkPdiRecord() =>
        new(SourceInterface.Access)
        {
            LocalFTeid = FTeid.ChooseByUp(),
            NetworkInstance = DnsName.FromLabels("internet"),
            UeIpAddresses = [UeIpAddress.Source(Ip("10.45.0.2"))],
            SdfFilters = [new SdfFilter { FlowDescription = "permit out " }],
            Qfis = [9],
        };

    [Fact]
    public void Pdi_GroupsTheMatchFields() =>
        PfcpAssert.RoundTrip(IeType.Pdi, UplinkPdiRecord(), Pdi.Decode, UplinkPdi);

    [Fact]
    public void Pdi_WithoutSourceInterface_IsMissingAMandatoryIe()
    {
        var e = PfcpAssert.Fails(PfcpCause.MandatoryIeMissing, () => Pdi.Decode(PfcpIe.Group(IeType.Pdi, PfcpIe.Raw(IeType.Qfi, new byte[] { 9 }))));
        Assert.Equal((ushort)IeType.SourceInterface, e.OffendingIe);
    }

    [Fact]
    public void CreatePdr_ForUplink_PointsAtItsFarAndQer()
    {
        var pdr = new CreatePdr(1, UplinkPdiRecord())
        {
            Precedence = 200,
            OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
            FarId = 1,
            QerIds = [1],
            UrrIds = [1, 2],
        };
        PfcpAssert.RoundTrip(IeType.CreatePdr, pdr, CreatePdr.Decode, [
            0x00, 0x01, 0x00, 0x6F,                                 // type 1 Create PDR, length 111
            0x00, 0x38, 0x00, 0x02, 0x00, 0x01,                     //   PDR ID 1
            0x00, 0x1D, 0x00, 0x04, 0x00, 0x00, 0x00, 0xC8,         //   Precedence 200
            .. UplinkPdi,                                           //   PDI (60 octets)
            0x00, 0x5F, 0x00, 0x01, 0x00,                           //   Outer Header Removal: GTP-U/UDP/IPv4
            0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,         //   FAR ID 1
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,         //   URR ID 1
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,         //   URR ID 2
            0x00, 0x6D, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,         //   QER ID 1
        ]);
    }

    [Fact]
    public void CreatePdr_WithoutFarIdOrPredefinedRules_IsMissingAConditionalIe()
    {
        var ie = PfcpIe.Of(IeType.CreatePdr, new CreatePdr(3, new Pdi(SourceInterface.Core)) { Precedence = 1 });
        var e = PfcpAssert.Fails(PfcpCause.ConditionalIeMissing, () => CreatePdr.Decode(ie));
        Assert.Equal((ushort)IeType.FarId, e.OffendingIe);
    }

    [Fact]
    public void CreatePdr_ActivatingPredefinedRules_NeedsNoFarId()
    {
        var pdr = new CreatePdr(3, new Pdi(SourceInterface.Core)) { ActivatePredefinedRules = [OctetString.FromAscii("gold")] };
        Assert.Equal(pdr, CreatePdr.Decode(PfcpIe.Of(IeType.CreatePdr, pdr)));
    }

    [Fact]
    public void CreatedPdr_ReturnsTheAllocatedFTeid() =>
        PfcpAssert.RoundTrip(IeType.CreatedPdr, new CreatedPdr(1) { LocalFTeid = FTeid.Of(0x0000ABCD, Ip("192.0.2.1")) }, CreatedPdr.Decode, [
            0x00, 0x08, 0x00, 0x13,             // type 8 Created PDR, length 19
            0x00, 0x38, 0x00, 0x02, 0x00, 0x01, //   PDR ID 1
            0x00, 0x15, 0x00, 0x09, 0x01,       //   F-TEID: V4
            0x00, 0x00, 0xAB, 0xCD,             //     TEID
            192, 0, 2, 1,                       //     IPv4
        ]);

    [Fact]
    public void UpdatePdr_ChangesOnlyWhatItCarries() =>
        PfcpAssert.RoundTrip(IeType.UpdatePdr, new UpdatePdr(2) { FarId = 5, Precedence = 10 }, UpdatePdr.Decode, [
            0x00, 0x09, 0x00, 0x16,                         // type 9 Update PDR, length 22
            0x00, 0x38, 0x00, 0x02, 0x00, 0x02,             //   PDR ID 2
            0x00, 0x1D, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0A, //   Precedence 10
            0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, //   FAR ID 5
        ]);
}

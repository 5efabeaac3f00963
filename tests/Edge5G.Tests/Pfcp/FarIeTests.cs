using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>Forwarding: FAR, Apply Action, Forwarding Parameters, outer header creation, buffering (BAR).</summary>
public class FarIeTests
{
    private static IPAddress Ip(string address) => IPAddress.Parse(address);

    [Fact]
    public void FarId_IsFourOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.FarId, 1u, [0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01]);

    [Fact]
    public void ApplyAction_Forward_InTheOneOctetForm() =>
        PfcpAssert.LeafRoundTrip(IeType.ApplyAction, new ApplyAction(ApplyActionFlags.Forw), [
            0x00, 0x2C, 0x00, 0x01, // type 44 Apply Action, length 1
            0x02,                   // bit 2 FORW
        ]);

    [Fact]
    public void ApplyAction_BufferAndNotify_WhileTheGnbIsUnknown() =>
        PfcpAssert.LeafRoundTrip(IeType.ApplyAction, new ApplyAction(ApplyActionFlags.Buff | ApplyActionFlags.Nocp), [
            0x00, 0x2C, 0x00, 0x01, 0x0C, // BUFF | NOCP
        ]);

    [Fact]
    public void ApplyAction_SecondOctetFlags_UseTheTwoOctetForm() =>
        PfcpAssert.LeafRoundTrip(IeType.ApplyAction, new ApplyAction(ApplyActionFlags.Buff | ApplyActionFlags.Ddpn), [
            0x00, 0x2C, 0x00, 0x02, // Apply Action, length 2
            0x04,                   // octet 5: BUFF
            0x04,                   // octet 6: bit 3 DDPN
        ]);

    [Fact]
    public void ApplyAction_ReceivedInTheTwoOctetForm_KeepsIt()
    {
        byte[] bytes = [0x00, 0x2C, 0x00, 0x02, 0x02, 0x00];
        var action = (ApplyAction)LeafIes.Decode(PfcpIe.Parse(bytes));
        Assert.True(action.Has(ApplyActionFlags.Forw));
        Assert.Equal(2, action.Octets);
        PfcpAssert.SameOctets(bytes, LeafIes.Encode(IeType.ApplyAction, action).ToBytes());
    }

    [Theory]
    [InlineData(ApplyActionFlags.Drop, 0, 0x01)]
    [InlineData(ApplyActionFlags.Forw, 0, 0x02)]
    [InlineData(ApplyActionFlags.Buff, 0, 0x04)]
    [InlineData(ApplyActionFlags.Nocp, 0, 0x08)]
    [InlineData(ApplyActionFlags.Dupl, 0, 0x10)]
    [InlineData(ApplyActionFlags.Ipma, 0, 0x20)]
    [InlineData(ApplyActionFlags.Ipmd, 0, 0x40)]
    [InlineData(ApplyActionFlags.Dfrt, 0, 0x80)]
    [InlineData(ApplyActionFlags.Edrt, 1, 0x01)]
    [InlineData(ApplyActionFlags.Bdpn, 1, 0x02)]
    [InlineData(ApplyActionFlags.Ddpn, 1, 0x04)]
    [InlineData(ApplyActionFlags.Fssm, 1, 0x08)]
    [InlineData(ApplyActionFlags.Mbsu, 1, 0x10)]
    public void ApplyAction_EachFlag_HasItsBit(ApplyActionFlags flag, int octet, byte bit)
    {
        var bytes = PfcpIe.Of(IeType.ApplyAction, new ApplyAction(flag)).Value.ToArray();
        Assert.Equal(octet + 1, bytes.Length);
        Assert.Equal(bit, bytes[octet]);
    }

    [Fact]
    public void ApplyAction_Empty_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => ApplyAction.Decode([]));

    [Fact]
    public void DestinationInterface_N6Lan() =>
        PfcpAssert.LeafRoundTrip(IeType.DestinationInterface, DestinationInterface.SgiLanN6Lan, [0x00, 0x2A, 0x00, 0x01, 0x02]);

    [Fact]
    public void OuterHeaderCreation_GtpuUdpIpv4_TowardsTheGnb() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderCreation, OuterHeaderCreation.GtpuIpv4(0x00000D0A, Ip("192.168.72.141")), [
            0x00, 0x54, 0x00, 0x0A, // type 84 Outer Header Creation, length 10
            0x01, 0x00,             // description: octet 5 bit 1 GTP-U/UDP/IPv4
            0x00, 0x00, 0x0D, 0x0A, // TEID
            192, 168, 72, 141,      // IPv4 address
        ]);

    [Fact]
    public void OuterHeaderCreation_GtpuUdpIpv6() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderCreation, OuterHeaderCreation.GtpuIpv6(1, Ip("2001:db8::1")), [
            0x00, 0x54, 0x00, 0x16, // Outer Header Creation, length 22
            0x02, 0x00,             // description: GTP-U/UDP/IPv6
            0x00, 0x00, 0x00, 0x01, // TEID
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        ]);

    [Fact]
    public void OuterHeaderCreation_UdpIpv4_CarriesAPort() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderCreation,
            new OuterHeaderCreation(OuterHeaderCreationDescription.UdpIpv4) { Ipv4 = Ip("198.51.100.1"), Port = 2152 },
            [
                0x00, 0x54, 0x00, 0x08, // Outer Header Creation, length 8
                0x04, 0x00,             // description: UDP/IPv4
                198, 51, 100, 1,        // IPv4 address
                0x08, 0x68,             // port 2152
            ]);

    [Fact]
    public void OuterHeaderCreation_Ipv4WithCTagAndSTag() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderCreation,
            new OuterHeaderCreation(OuterHeaderCreationDescription.Ipv4 | OuterHeaderCreationDescription.CTag | OuterHeaderCreationDescription.STag)
            {
                Ipv4 = Ip("198.51.100.1"), CTag = 0x070064, STag = 0x0700C8,
            },
            [
                0x00, 0x54, 0x00, 0x0C, // Outer Header Creation, length 12
                0xD0, 0x00,             // description: S-TAG | C-TAG | IPv4
                198, 51, 100, 1,        // IPv4 address
                0x07, 0x00, 0x64,       // C-TAG (flags, PCP/DEI/VID)
                0x07, 0x00, 0xC8,       // S-TAG
            ]);

    [Fact]
    public void OuterHeaderCreation_N19Indication_IsInTheSecondOctet() =>
        PfcpAssert.LeafRoundTrip(IeType.OuterHeaderCreation,
            new OuterHeaderCreation(OuterHeaderCreationDescription.GtpuUdpIpv4 | OuterHeaderCreationDescription.N19Indication) { Teid = 2, Ipv4 = Ip("10.0.0.2") },
            [0x00, 0x54, 0x00, 0x0A, 0x01, 0x01, 0x00, 0x00, 0x00, 0x02, 10, 0, 0, 2]);

    [Fact]
    public void OuterHeaderCreation_MissingItsTeid_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => OuterHeaderCreation.Decode([0x01, 0x00, 0x00, 0x01]));

    [Fact]
    public void TransportLevelMarking_IsTosAndMask() =>
        PfcpAssert.LeafRoundTrip(IeType.TransportLevelMarking, (ushort)0xB8FC, [0x00, 0x1E, 0x00, 0x02, 0xB8, 0xFC]);

    private static readonly ForwardingParameters DownlinkToGnb =
        new(DestinationInterface.Access)
        {
            NetworkInstance = DnsName.FromLabels("access"),
            OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(0x0D0A, Ip("192.168.72.141")),
        };

    private static readonly byte[] DownlinkToGnbBytes =
    [
        0x00, 0x04, 0x00, 0x1E,                           // type 4 Forwarding Parameters, length 30
        0x00, 0x2A, 0x00, 0x01, 0x00,                     //   Destination Interface: Access
        0x00, 0x16, 0x00, 0x07, 0x06, .. "access"u8.ToArray(), //   Network Instance "access"
        0x00, 0x54, 0x00, 0x0A, 0x01, 0x00,               //   Outer Header Creation: GTP-U/UDP/IPv4
        0x00, 0x00, 0x0D, 0x0A, 192, 168, 72, 141,        //     TEID, gNB address
    ];

    [Fact]
    public void ForwardingParameters_SayWhereAndHowToSend() =>
        PfcpAssert.RoundTrip(IeType.ForwardingParameters, DownlinkToGnb, ForwardingParameters.Decode, DownlinkToGnbBytes);

    [Fact]
    public void CreateFar_Forwarding_ToTheGnb() =>
        PfcpAssert.RoundTrip(IeType.CreateFar, new CreateFar(2, new ApplyAction(ApplyActionFlags.Forw)) { ForwardingParameters = DownlinkToGnb },
            CreateFar.Decode,
            [
                0x00, 0x03, 0x00, 0x2F,                         // type 3 Create FAR, length 47
                0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, //   FAR ID 2
                0x00, 0x2C, 0x00, 0x01, 0x02,                   //   Apply Action: FORW
                .. DownlinkToGnbBytes,                          //   Forwarding Parameters
            ]);

    [Fact]
    public void CreateFar_Buffering_PointsAtItsBar() =>
        PfcpAssert.RoundTrip(IeType.CreateFar, new CreateFar(2, new ApplyAction(ApplyActionFlags.Buff | ApplyActionFlags.Nocp)) { BarId = 1 },
            CreateFar.Decode,
            [
                0x00, 0x03, 0x00, 0x12,                         // Create FAR, length 18
                0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, //   FAR ID 2
                0x00, 0x2C, 0x00, 0x01, 0x0C,                   //   Apply Action: BUFF | NOCP
                0x00, 0x58, 0x00, 0x01, 0x01,                   //   BAR ID 1
            ]);

    [Fact]
    public void CreateFar_ThatForwardsWithoutForwardingParameters_IsMissingAConditionalIe()
    {
        var ie = PfcpIe.Group(IeType.CreateFar,
            PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }),
            PfcpIe.Raw(IeType.ApplyAction, new byte[] { 0x02 }));
        var e = PfcpAssert.Fails(PfcpCause.ConditionalIeMissing, () => CreateFar.Decode(ie));
        Assert.Equal((ushort)IeType.ForwardingParameters, e.OffendingIe);
    }

    [Fact]
    public void UpdateFar_SwitchesTheGnb_AndAsksForEndMarkers()
    {
        var update = new UpdateFar(2)
        {
            ApplyAction = new ApplyAction(ApplyActionFlags.Forw),
            UpdateForwardingParameters = new UpdateForwardingParameters
            {
                OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(0x0E0B, Ip("192.168.72.142")),
                SmReqFlags = PfcpSmReqFlags.Sndem,
            },
        };
        PfcpAssert.RoundTrip(IeType.UpdateFar, update, UpdateFar.Decode, [
            0x00, 0x0A, 0x00, 0x24,                         // type 10 Update FAR, length 36
            0x00, 0x6C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, //   FAR ID 2
            0x00, 0x2C, 0x00, 0x01, 0x02,                   //   Apply Action: FORW
            0x00, 0x0B, 0x00, 0x13,                         //   type 11 Update Forwarding Parameters, length 19
            0x00, 0x54, 0x00, 0x0A, 0x01, 0x00,             //     Outer Header Creation: GTP-U/UDP/IPv4
            0x00, 0x00, 0x0E, 0x0B, 192, 168, 72, 142,      //       TEID, new gNB address
            0x00, 0x31, 0x00, 0x01, 0x02,                   //     PFCPSMReq-Flags: SNDEM
        ]);
        Assert.True(update.UpdateForwardingParameters!.SendEndMarker);
    }

    [Fact]
    public void BarId_IsOneOctet() =>
        PfcpAssert.LeafRoundTrip(IeType.BarId, (byte)5, [0x00, 0x58, 0x00, 0x01, 0x05]);

    [Fact]
    public void CreateBar_WithNotificationDelay() =>
        PfcpAssert.RoundTrip(IeType.CreateBar, new CreateBar(1) { DownlinkDataNotificationDelay = 2, SuggestedBufferingPacketsCount = 10 },
            CreateBar.Decode,
            [
                0x00, 0x55, 0x00, 0x0F,       // type 85 Create BAR, length 15
                0x00, 0x58, 0x00, 0x01, 0x01, //   BAR ID 1
                0x00, 0x2E, 0x00, 0x01, 0x02, //   Downlink Data Notification Delay: 2 x 50 ms
                0x00, 0x8C, 0x00, 0x01, 0x0A, //   Suggested Buffering Packets Count 10
            ]);

    [Fact]
    public void UpdateBar_InASessionReportResponse_CarriesTheBufferingDuration() =>
        PfcpAssert.RoundTrip(IeType.UpdateBarSessionReportResponse, new UpdateBar(1) { DlBufferingDuration = new TimerValue(0, 15) },
            UpdateBar.Decode,
            [
                0x00, 0x0C, 0x00, 0x0A,       // type 12 Update BAR (Session Report Response), length 10
                0x00, 0x58, 0x00, 0x01, 0x01, //   BAR ID 1
                0x00, 0x2F, 0x00, 0x01, 0x0F, //   DL Buffering Duration: 15 x 2 s
            ]);

    [Fact]
    public void DownlinkDataNotificationDelay_Unset_StaysOutOfTheRecord() =>
        Assert.Null(CreateBar.Decode(PfcpIe.Of(IeType.CreateBar, new CreateBar(9))).DownlinkDataNotificationDelay);

    [Fact]
    public void UnmodelledForwardingChildren_LikeRedirectInformation_AreKept()
    {
        var redirect = PfcpIe.Raw(IeType.RedirectInformation, OctetString.FromHex("0200106874747073"));
        var fp = new ForwardingParameters(DestinationInterface.Core) { Other = [redirect] };
        Assert.Equal(fp, ForwardingParameters.Decode(PfcpIe.Of(IeType.ForwardingParameters, fp)));
    }
}

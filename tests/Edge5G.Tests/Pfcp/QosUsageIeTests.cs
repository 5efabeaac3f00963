using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>QoS enforcement (QER) and usage reporting (URR, Usage Report) IEs.</summary>
public class QosUsageIeTests
{
    private static readonly DateTime Noon = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void QerId_IsFourOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.QerId, 7u, [0x00, 0x6D, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07]);

    [Theory]
    [InlineData(GateState.Open, GateState.Open, 0x00)]
    [InlineData(GateState.Open, GateState.Closed, 0x01)]
    [InlineData(GateState.Closed, GateState.Open, 0x04)]
    [InlineData(GateState.Closed, GateState.Closed, 0x05)]
    public void GateStatus_UplinkInBits4To3_DownlinkInBits2To1(GateState uplink, GateState downlink, byte octet) =>
        PfcpAssert.LeafRoundTrip(IeType.GateStatus, new GateStatus(uplink, downlink), [0x00, 0x19, 0x00, 0x01, octet]);

    [Fact]
    public void Mbr_Is40BitKbpsUplinkThenDownlink() =>
        PfcpAssert.LeafRoundTrip(IeType.Mbr, new BitRate(1_000_000, 2_000_000), [
            0x00, 0x1A, 0x00, 0x0A,       // type 26 MBR, length 10
            0x00, 0x00, 0x0F, 0x42, 0x40, // UL 1 000 000 kbps
            0x00, 0x00, 0x1E, 0x84, 0x80, // DL 2 000 000 kbps
        ]);

    [Fact]
    public void Gbr_UsesTheFull40Bits() =>
        PfcpAssert.LeafRoundTrip(IeType.Gbr, new BitRate(BitRate.MaxKbps, 1), [
            0x00, 0x1B, 0x00, 0x0A,       // type 27 GBR, length 10
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // UL: 2^40 - 1 kbps
            0x00, 0x00, 0x00, 0x00, 0x01, // DL: 1 kbps
        ]);

    [Fact]
    public void BitRate_Above40Bits_CannotBeEncoded() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PfcpIe.Of(IeType.Mbr, new BitRate(BitRate.MaxKbps + 1, 0)));

    [Fact]
    public void CreateQer_GateMbrAndQfi() =>
        PfcpAssert.RoundTrip(IeType.CreateQer,
            new CreateQer(1, GateStatus.Open) { Mbr = new BitRate(100_000, 200_000), Qfi = 9 },
            CreateQer.Decode,
            [
                0x00, 0x07, 0x00, 0x20,                         // type 7 Create QER, length 32
                0x00, 0x6D, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   QER ID 1
                0x00, 0x19, 0x00, 0x01, 0x00,                   //   Gate Status: UL open, DL open
                0x00, 0x1A, 0x00, 0x0A,                         //   MBR
                0x00, 0x00, 0x01, 0x86, 0xA0,                   //     UL 100 000 kbps
                0x00, 0x00, 0x03, 0x0D, 0x40,                   //     DL 200 000 kbps
                0x00, 0x7C, 0x00, 0x01, 0x09,                   //   QFI 9
            ]);

    [Fact]
    public void UpdateQer_ClosesTheGate() =>
        PfcpAssert.RoundTrip(IeType.UpdateQer, new UpdateQer(1) { GateStatus = GateStatus.Closed }, UpdateQer.Decode, [
            0x00, 0x0E, 0x00, 0x0D,                         // type 14 Update QER, length 13
            0x00, 0x6D, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   QER ID 1
            0x00, 0x19, 0x00, 0x01, 0x05,                   //   Gate Status: both closed
        ]);

    [Fact]
    public void UrrId_IsFourOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.UrrId, 3u, [0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03]);

    [Fact]
    public void MeasurementMethod_DurationAndVolume() =>
        PfcpAssert.LeafRoundTrip(IeType.MeasurementMethod, (byte)(MeasurementMethod.Durat | MeasurementMethod.Volum), [0x00, 0x3E, 0x00, 0x01, 0x03]);

    [Fact]
    public void ReportingTriggers_Rel15TwoOctets() =>
        PfcpAssert.LeafRoundTrip(IeType.ReportingTriggers, new ReportingTriggers(ReportingTriggerFlags.Perio | ReportingTriggerFlags.Volth), [
            0x00, 0x25, 0x00, 0x02, // type 37 Reporting Triggers, length 2
            0x03,                   // octet 5: VOLTH | PERIO
            0x00,                   // octet 6
        ]);

    [Fact]
    public void ReportingTriggers_ThirdOctet_ForUserPlaneInactivity() =>
        PfcpAssert.LeafRoundTrip(IeType.ReportingTriggers, new ReportingTriggers(ReportingTriggerFlags.Volqu | ReportingTriggerFlags.Upint), [
            0x00, 0x25, 0x00, 0x03, // Reporting Triggers, length 3
            0x00,                   // octet 5
            0x01,                   // octet 6: VOLQU
            0x02,                   // octet 7: UPINT
        ]);

    [Fact]
    public void VolumeThreshold_TotalUplinkDownlink() =>
        PfcpAssert.LeafRoundTrip(IeType.VolumeThreshold, new Volume(3_000, 1_000, 2_000), [
            0x00, 0x1F, 0x00, 0x19,                         // type 31 Volume Threshold, length 25
            0x07,                                           // flags: DLVOL | ULVOL | TOVOL
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0B, 0xB8, // total 3000 octets
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, // uplink 1000
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xD0, // downlink 2000
        ]);

    [Fact]
    public void VolumeQuota_DownlinkOnly() =>
        PfcpAssert.LeafRoundTrip(IeType.VolumeQuota, new Volume(Downlink: 1UL << 32), [
            0x00, 0x49, 0x00, 0x09,                         // type 73 Volume Quota, length 9
            0x04,                                           // flags: DLVOL
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // downlink 2^32 octets
        ]);

    [Fact]
    public void TimeThreshold_AndMeasurementPeriod_AreSeconds()
    {
        PfcpAssert.LeafRoundTrip(IeType.TimeThreshold, 3600u, [0x00, 0x20, 0x00, 0x04, 0x00, 0x00, 0x0E, 0x10]);
        PfcpAssert.LeafRoundTrip(IeType.MeasurementPeriod, 60u, [0x00, 0x40, 0x00, 0x04, 0x00, 0x00, 0x00, 0x3C]);
    }

    [Fact]
    public void CreateUrr_PeriodicVolumeReporting() =>
        PfcpAssert.RoundTrip(IeType.CreateUrr,
            new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Perio)) { MeasurementPeriod = 60 },
            CreateUrr.Decode,
            [
                0x00, 0x06, 0x00, 0x1B,                         // type 6 Create URR, length 27
                0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   URR ID 1
                0x00, 0x3E, 0x00, 0x01, 0x02,                   //   Measurement Method: VOLUM
                0x00, 0x25, 0x00, 0x02, 0x01, 0x00,             //   Reporting Triggers: PERIO
                0x00, 0x40, 0x00, 0x04, 0x00, 0x00, 0x00, 0x3C, //   Measurement Period 60 s
            ]);

    [Theory]
    [InlineData(ReportingTriggerFlags.Perio, IeType.MeasurementPeriod)]
    [InlineData(ReportingTriggerFlags.Volth, IeType.VolumeThreshold)]
    [InlineData(ReportingTriggerFlags.Timth, IeType.TimeThreshold)]
    [InlineData(ReportingTriggerFlags.Volqu, IeType.VolumeQuota)]
    [InlineData(ReportingTriggerFlags.Timqu, IeType.TimeQuota)]
    [InlineData(ReportingTriggerFlags.Quvti, IeType.QuotaValidityTime)]
    public void CreateUrr_TriggerWithoutItsThresholdOrQuota_IsMissingAConditionalIe(ReportingTriggerFlags trigger, IeType needed)
    {
        var ie = PfcpIe.Of(IeType.CreateUrr, new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(trigger)));
        var e = PfcpAssert.Fails(PfcpCause.ConditionalIeMissing, () => CreateUrr.Decode(ie));
        Assert.Equal((ushort)needed, e.OffendingIe);
    }

    [Fact]
    public void VolumeMeasurement_OctetsAndPackets() =>
        PfcpAssert.LeafRoundTrip(IeType.VolumeMeasurement,
            new VolumeMeasurement { TotalVolume = 300, UplinkVolume = 100, DownlinkVolume = 200, TotalPackets = 3, UplinkPackets = 1, DownlinkPackets = 2 },
            [
                0x00, 0x42, 0x00, 0x31, // type 66 Volume Measurement, length 49
                0x3F,                   // flags: DLNOP ULNOP TONOP DLVOL ULVOL TOVOL
                0, 0, 0, 0, 0, 0, 0x01, 0x2C, // total volume 300
                0, 0, 0, 0, 0, 0, 0x00, 0x64, // uplink volume 100
                0, 0, 0, 0, 0, 0, 0x00, 0xC8, // downlink volume 200
                0, 0, 0, 0, 0, 0, 0x00, 0x03, // total packets 3
                0, 0, 0, 0, 0, 0, 0x00, 0x01, // uplink packets 1
                0, 0, 0, 0, 0, 0, 0x00, 0x02, // downlink packets 2
            ]);

    [Fact]
    public void UsageReportTrigger_IsThreeOctets_WithTerminationInTheSecond() =>
        PfcpAssert.LeafRoundTrip(IeType.UsageReportTrigger, new UsageReportTrigger(UsageReportTriggerFlags.Termr), [
            0x00, 0x3F, 0x00, 0x03, // type 63 Usage Report Trigger, length 3
            0x00,                   // octet 5
            0x08,                   // octet 6: bit 4 TERMR
            0x00,                   // octet 7
        ]);

    [Fact]
    public void UrSeqn_StartAndEndTime_AndDuration()
    {
        PfcpAssert.LeafRoundTrip(IeType.UrSeqn, 4u, [0x00, 0x68, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04]);
        PfcpAssert.LeafRoundTrip(IeType.StartTime, Noon, [0x00, 0x4B, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x40]);
        PfcpAssert.LeafRoundTrip(IeType.EndTime, Noon.AddSeconds(10), [0x00, 0x4C, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x4A]);
        PfcpAssert.LeafRoundTrip(IeType.DurationMeasurement, 10u, [0x00, 0x43, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0A]);
    }

    /// <summary>A periodic report of 10 s carrying 300 octets.</summary>
    private static readonly UsageReport PeriodicReport =
        new(1, 4, new UsageReportTrigger(UsageReportTriggerFlags.Perio))
        {
            StartTime = Noon,
            EndTime = Noon.AddSeconds(10),
            VolumeMeasurement = new VolumeMeasurement { TotalVolume = 300 },
            DurationMeasurement = 10,
        };

    [Fact]
    public void UsageReport_InASessionReportRequest()
    {
        PfcpAssert.RoundTrip(IeType.UsageReportSessionReportRequest, PeriodicReport, UsageReport.Decode, [
            0x00, 0x50, 0x00, 0x3C,                         // type 80 Usage Report (Session Report Request), length 60
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, //   URR ID 1
            0x00, 0x68, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, //   UR-SEQN 4
            0x00, 0x3F, 0x00, 0x03, 0x01, 0x00, 0x00,       //   Usage Report Trigger: PERIO
            0x00, 0x4B, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x40, //   Start Time 12:00:00
            0x00, 0x4C, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x4A, //   End Time 12:00:10
            0x00, 0x42, 0x00, 0x09, 0x01,                   //   Volume Measurement: TOVOL
            0, 0, 0, 0, 0, 0, 0x01, 0x2C,                   //     300 octets
            0x00, 0x43, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0A, //   Duration Measurement 10 s
        ]);
    }

    [Fact]
    public void UsageReport_HasTheSameShape_InModificationAndDeletionResponses()
    {
        var inModification = PfcpIe.Of(IeType.UsageReportSessionModificationResponse, PeriodicReport);
        var inDeletion = PfcpIe.Of(IeType.UsageReportSessionDeletionResponse, PeriodicReport);
        Assert.Equal(78, inModification.Type);
        Assert.Equal(79, inDeletion.Type);
        Assert.Equal(inModification.Value, inDeletion.Value);
        Assert.Equal(PeriodicReport, UsageReport.Decode(inDeletion));
    }

    [Fact]
    public void UsageReport_WithoutUrSeqn_IsMissingAMandatoryIe()
    {
        var ie = PfcpIe.Group(IeType.UsageReportSessionReportRequest,
            PfcpIe.Raw(IeType.UrrId, new byte[] { 0, 0, 0, 1 }),
            PfcpIe.Raw(IeType.UsageReportTrigger, new byte[] { 1, 0, 0 }));
        var e = PfcpAssert.Fails(PfcpCause.MandatoryIeMissing, () => UsageReport.Decode(ie));
        Assert.Equal((ushort)IeType.UrSeqn, e.OffendingIe);
    }

    [Fact]
    public void UpdateUrr_NewQuota() =>
        PfcpAssert.RoundTrip(IeType.UpdateUrr, new UpdateUrr(2) { VolumeQuota = new Volume(Total: 5) }, UpdateUrr.Decode, [
            0x00, 0x0D, 0x00, 0x15,                         // type 13 Update URR, length 21
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, //   URR ID 2
            0x00, 0x49, 0x00, 0x09, 0x01,                   //   Volume Quota: TOVOL
            0, 0, 0, 0, 0, 0, 0, 0x05,                      //     5 octets
        ]);

    [Fact]
    public void VolumeFlagsPromisingMoreThanSent_IsInvalidLength() =>
        PfcpAssert.Fails(PfcpCause.InvalidLength, () => Volume.Decode([0x03, 0, 0, 0, 0, 0, 0, 0, 1]));
}

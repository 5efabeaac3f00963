using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>The IEs whose value is a single number, time or flag octet, one row per IE type.</summary>
public class ScalarIeTests
{
    private static readonly DateTime Noon = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    public static TheoryData<IeType, object, byte[]> Scalars() => new()
    {
        // IE type, typed value, expected octets: type (2), length (2), value
        { IeType.QerCorrelationId, 9u, [0x00, 0x1C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x09] },
        { IeType.MonitoringTime, Noon, [0x00, 0x21, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x40] },
        { IeType.SubsequentVolumeThreshold, new Volume(Total: 1), [0x00, 0x22, 0x00, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x01] },
        { IeType.SubsequentTimeThreshold, 30u, [0x00, 0x23, 0x00, 0x04, 0x00, 0x00, 0x00, 0x1E] },
        { IeType.InactivityDetectionTime, 20u, [0x00, 0x24, 0x00, 0x04, 0x00, 0x00, 0x00, 0x14] },
        { IeType.DownlinkDataNotificationDelay, (byte)4, [0x00, 0x2E, 0x00, 0x01, 0x04] },
        { IeType.DlBufferingDuration, new TimerValue(3, 1), [0x00, 0x2F, 0x00, 0x01, 0x61] },
        { IeType.PfcpSrRspFlags, (byte)PfcpSrRspFlags.Drobu, [0x00, 0x32, 0x00, 0x01, 0x01] },
        { IeType.SequenceNumber, 0xFFFFFFFFu, [0x00, 0x34, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF] },
        { IeType.Metric, (byte)100, [0x00, 0x35, 0x00, 0x01, 0x64] },
        { IeType.Timer, new TimerValue(TimerValue.InfiniteUnit, 0), [0x00, 0x37, 0x00, 0x01, 0xE0] },
        { IeType.TimeOfFirstPacket, Noon, [0x00, 0x45, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x40] },
        { IeType.TimeOfLastPacket, Noon.AddSeconds(10), [0x00, 0x46, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x4A] },
        { IeType.QuotaHoldingTime, 15u, [0x00, 0x47, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0F] },
        { IeType.TimeQuota, 600u, [0x00, 0x4A, 0x00, 0x04, 0x00, 0x00, 0x02, 0x58] },
        { IeType.LinkedUrrId, 2u, [0x00, 0x52, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02] },
        { IeType.UsageInformation, (byte)0x01, [0x00, 0x5A, 0x00, 0x01, 0x01] },
        { IeType.MeasurementInformation, (byte)0x10, [0x00, 0x64, 0x00, 0x01, 0x10] },
        { IeType.DeactivatePredefinedRules, OctetString.FromAscii("gold"), [0x00, 0x6B, 0x00, 0x04, (byte)'g', (byte)'o', (byte)'l', (byte)'d'] },
        { IeType.OciFlags, (byte)OciFlags.Aoci, [0x00, 0x6E, 0x00, 0x01, 0x01] },
        { IeType.SubsequentVolumeQuota, new Volume(Uplink: 2), [0x00, 0x79, 0x00, 0x09, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x02] },
        { IeType.Rqi, (byte)1, [0x00, 0x7B, 0x00, 0x01, 0x01] },
        { IeType.QueryUrrReference, 0x12345678u, [0x00, 0x7D, 0x00, 0x04, 0x12, 0x34, 0x56, 0x78] },
        { IeType.TrafficEndpointId, (byte)3, [0x00, 0x83, 0x00, 0x01, 0x03] },
        { IeType.SuggestedBufferingPacketsCount, (byte)8, [0x00, 0x8C, 0x00, 0x01, 0x08] },
        { IeType.AveragingWindow, 2000u, [0x00, 0x9D, 0x00, 0x04, 0x00, 0x00, 0x07, 0xD0] },
        { IeType.PagingPolicyIndicator, (byte)5, [0x00, 0x9E, 0x00, 0x01, 0x05] },
        { IeType.ActivationTime, Noon, [0x00, 0xA3, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x40] },
        { IeType.DeactivationTime, Noon, [0x00, 0xA4, 0x00, 0x04, 0xE9, 0xDC, 0xAD, 0x40] },
        { IeType.ApplicationId, OctetString.FromAscii("app1"), [0x00, 0x18, 0x00, 0x04, (byte)'a', (byte)'p', (byte)'p', (byte)'1'] },
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void ScalarIe_EncodesToItsLayout_AndDecodesBack(IeType type, object value, byte[] expected) =>
        PfcpAssert.LeafRoundTrip(type, value, expected);

    [Fact]
    public void EveryTypedLeafIe_IsCoveredByAHandWrittenLayoutTest()
    {
        // Types checked elsewhere with their own story-named tests.
        IeType[] elsewhere =
        [
            IeType.Cause, IeType.SourceInterface, IeType.FTeid, IeType.NetworkInstance, IeType.SdfFilter, IeType.GateStatus,
            IeType.Mbr, IeType.Gbr, IeType.Precedence, IeType.TransportLevelMarking, IeType.VolumeThreshold, IeType.TimeThreshold,
            IeType.ReportingTriggers, IeType.ReportType, IeType.OffendingIe, IeType.DestinationInterface, IeType.UpFunctionFeatures,
            IeType.ApplyAction, IeType.DownlinkDataServiceInformation, IeType.PfcpSmReqFlags, IeType.PdrId, IeType.FSeid, IeType.NodeId,
            IeType.MeasurementMethod, IeType.UsageReportTrigger, IeType.MeasurementPeriod, IeType.VolumeMeasurement,
            IeType.DurationMeasurement, IeType.VolumeQuota, IeType.StartTime, IeType.EndTime, IeType.UrrId, IeType.OuterHeaderCreation,
            IeType.BarId, IeType.CpFunctionFeatures, IeType.UeIpAddress, IeType.OuterHeaderRemoval, IeType.RecoveryTimeStamp,
            IeType.NodeReportType, IeType.UrSeqn, IeType.ActivatePredefinedRules, IeType.FarId, IeType.QerId,
            IeType.PfcpAssociationReleaseRequest, IeType.GracefulReleasePeriod, IeType.PdnType, IeType.FailedRuleId,
            IeType.UserPlaneIpResourceInformation, IeType.UserPlaneInactivityTimer, IeType.Qfi, IeType.ApnDnn,
            IeType.ThreeGppInterfaceType, IeType.Snssai, IeType.SourceIpAddress,
        ];
        var here = Scalars().Select(row => (IeType)row[0]);
        var uncovered = LeafIes.Types.Except(elsewhere).Except(here).ToList();
        Assert.True(uncovered.Count == 0, "no layout test for " + string.Join(", ", uncovered));
    }
}

using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// The non-grouped IE types this codec understands, each with its typed decoder and encoder.
/// Used for logging and diagnostics, and by tests that check every typed IE found in real
/// traffic re-encodes to its original octets.
/// </summary>
public static class LeafIes
{
    private sealed record Codec(Func<PfcpIe, object> Decode, Action<PfcpWriter, object> Encode);

    private static readonly Dictionary<IeType, Codec> Codecs = [];

    static LeafIes()
    {
        foreach (var t in new[] { IeType.QerCorrelationId, IeType.Precedence, IeType.TimeThreshold, IeType.SubsequentTimeThreshold,
                     IeType.InactivityDetectionTime, IeType.SequenceNumber, IeType.MeasurementPeriod, IeType.DurationMeasurement,
                     IeType.QuotaHoldingTime, IeType.TimeQuota, IeType.UrrId, IeType.LinkedUrrId, IeType.UrSeqn, IeType.FarId,
                     IeType.QerId, IeType.UserPlaneInactivityTimer, IeType.QueryUrrReference, IeType.AveragingWindow })
            Add(t, IeDecoders.U32, (w, v) => w.U32(v));
        foreach (var t in new[] { IeType.TransportLevelMarking, IeType.OffendingIe, IeType.PdrId })
            Add(t, IeDecoders.U16, (w, v) => w.U16(v));
        foreach (var t in new[] { IeType.DownlinkDataNotificationDelay, IeType.Metric, IeType.BarId, IeType.UsageInformation,
                     IeType.MeasurementInformation, IeType.Rqi, IeType.TrafficEndpointId, IeType.SuggestedBufferingPacketsCount,
                     IeType.PagingPolicyIndicator, IeType.ReportType, IeType.PfcpSmReqFlags, IeType.PfcpSrRspFlags,
                     IeType.MeasurementMethod, IeType.NodeReportType, IeType.OciFlags, IeType.PfcpAssociationReleaseRequest })
            Add(t, IeDecoders.U8, (w, v) => w.U8(v));
        foreach (var t in new[] { IeType.MonitoringTime, IeType.TimeOfFirstPacket, IeType.TimeOfLastPacket, IeType.StartTime,
                     IeType.EndTime, IeType.RecoveryTimeStamp, IeType.ActivationTime, IeType.DeactivationTime })
            Add(t, IeDecoders.Ntp, (w, v) => w.U32(NtpTime.FromDateTime(v)));
        foreach (var t in new[] { IeType.VolumeThreshold, IeType.SubsequentVolumeThreshold, IeType.VolumeQuota, IeType.SubsequentVolumeQuota })
            Add(t, IeDecoders.Volume, Value);
        foreach (var t in new[] { IeType.Timer, IeType.GracefulReleasePeriod, IeType.DlBufferingDuration })
            Add(t, IeDecoders.Timer, Value);
        foreach (var t in new[] { IeType.NetworkInstance, IeType.ApnDnn })
            Add(t, IeDecoders.DnsName, (w, v) => w.Bytes(v.Raw.Span));
        foreach (var t in new[] { IeType.ActivatePredefinedRules, IeType.DeactivatePredefinedRules, IeType.ApplicationId })
            Add(t, IeDecoders.Octets, (w, v) => w.Bytes(v.Span));
        foreach (var t in new[] { IeType.Mbr, IeType.Gbr })
            Add(t, IeDecoders.BitRate, Value);

        Add(IeType.Cause, IeDecoders.Cause, (w, v) => w.U8((byte)v));
        Add(IeType.SourceInterface, IeDecoders.SourceInterface, (w, v) => w.U8((byte)v));
        Add(IeType.DestinationInterface, IeDecoders.DestinationInterface, (w, v) => w.U8((byte)v));
        Add(IeType.ThreeGppInterfaceType, IeDecoders.InterfaceType, (w, v) => w.U8((byte)v));
        Add(IeType.PdnType, IeDecoders.PdnType, (w, v) => w.U8((byte)v));
        Add(IeType.Qfi, IeDecoders.Qfi, (w, v) => w.U8(v));
        Add(IeType.FTeid, IeDecoders.FTeid, Value);
        Add(IeType.SdfFilter, IeDecoders.SdfFilter, Value);
        Add(IeType.GateStatus, IeDecoders.GateStatus, Value);
        Add(IeType.ReportingTriggers, IeDecoders.ReportingTriggers, Value);
        Add(IeType.UpFunctionFeatures, IeDecoders.UpFunctionFeatures, Value);
        Add(IeType.CpFunctionFeatures, IeDecoders.CpFunctionFeatures, Value);
        Add(IeType.ApplyAction, IeDecoders.ApplyAction, Value);
        Add(IeType.DownlinkDataServiceInformation, IeDecoders.DownlinkDataServiceInformation, Value);
        Add(IeType.FSeid, IeDecoders.FSeid, Value);
        Add(IeType.NodeId, IeDecoders.NodeId, Value);
        Add(IeType.UsageReportTrigger, IeDecoders.UsageReportTrigger, Value);
        Add(IeType.VolumeMeasurement, IeDecoders.VolumeMeasurement, Value);
        Add(IeType.OuterHeaderCreation, IeDecoders.OuterHeaderCreation, Value);
        Add(IeType.OuterHeaderRemoval, IeDecoders.OuterHeaderRemoval, Value);
        Add(IeType.UeIpAddress, IeDecoders.UeIpAddress, Value);
        Add(IeType.FailedRuleId, IeDecoders.FailedRuleId, Value);
        Add(IeType.UserPlaneIpResourceInformation, IeDecoders.UserPlaneIpResourceInformation, Value);
        Add(IeType.Snssai, IeDecoders.Snssai, Value);
        Add(IeType.SourceIpAddress, IeDecoders.SourceIpAddress, Value);
    }

    private static void Value<T>(PfcpWriter writer, T value) where T : IIeValue => value.WriteValue(writer);

    private static void Add<T>(IeType type, IeDecoder<T> decode, Action<PfcpWriter, T> encode) where T : notnull =>
        Codecs.Add(type, new Codec(ie => decode(ie), (w, v) => encode(w, (T)v)));

    public static IReadOnlyCollection<IeType> Types => Codecs.Keys;

    public static bool IsTyped(ushort type) => Codecs.ContainsKey((IeType)type);

    /// <summary>The typed value of a leaf IE (e.g. an <see cref="FTeid"/>, a uint, a DateTime); throws <see cref="PfcpFormatException"/>.</summary>
    public static object Decode(PfcpIe ie)
    {
        if (!Codecs.TryGetValue((IeType)ie.Type, out var codec))
            throw new ArgumentException($"{ie.Name} has no typed codec", nameof(ie));
        try
        {
            return codec.Decode(ie);
        }
        catch (PfcpFormatException e)
        {
            throw e.In(ie.Type, ie.Name);
        }
    }

    /// <summary>An IE of the given type holding a value of the type <see cref="Decode"/> returns for it.</summary>
    public static PfcpIe Encode(IeType type, object value)
    {
        if (!Codecs.TryGetValue(type, out var codec))
            throw new ArgumentException($"{IeTypes.Name(type)} has no typed codec", nameof(type));
        var writer = new PfcpWriter();
        codec.Encode(writer, value);
        return PfcpIe.Raw(type, OctetString.Own(writer.ToArray()));
    }
}

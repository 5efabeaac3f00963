using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>
/// Create URR (Table 7.5.2.4-1): what to measure and when to report. The threshold and quota IEs
/// are conditional on the reporting triggers that use them: PERIO needs Measurement Period,
/// VOLTH Volume Threshold, TIMTH Time Threshold, VOLQU Volume Quota, TIMQU Time Quota.
/// </summary>
public sealed record CreateUrr(uint UrrId, MeasurementMethod MeasurementMethod, ReportingTriggers ReportingTriggers) : IIeValue
{
    public uint? MeasurementPeriod { get; init; }
    public Volume? VolumeThreshold { get; init; }
    public Volume? VolumeQuota { get; init; }
    public uint? TimeThreshold { get; init; }
    public uint? TimeQuota { get; init; }
    public uint? QuotaHoldingTime { get; init; }
    /// <summary>Quota Validity Time (s): how long a granted quota is valid; reported (QUVTI) when it runs out.</summary>
    public uint? QuotaValidityTime { get; init; }
    public DateTime? MonitoringTime { get; init; }
    public Volume? SubsequentVolumeThreshold { get; init; }
    public uint? SubsequentTimeThreshold { get; init; }
    public uint? InactivityDetectionTime { get; init; }
    public ValueList<uint> LinkedUrrIds { get; init; } = [];
    public byte? MeasurementInformation { get; init; }
    /// <summary>FAR ID for Quota Action (IE type FAR ID): the FAR the URR's PDRs take once a quota is used up.</summary>
    public uint? FarIdForQuotaAction { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    private static readonly RecentDecodes<CreateUrr> Recent = new(64);

    /// <summary>
    /// A Create URR as an SMF repeats it from session to session (the same template per DNN and
    /// profile): identical octets decode to one shared instance (<see cref="RecentDecodes{T}"/>).
    /// </summary>
    public static readonly IeDecoder<CreateUrr> DecodeShared = ie => Recent.Get(ie.Value.Span, ie, static ie => Decode(ie)); // a static lambda: one delegate, not one per call

    public static CreateUrr Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        var urr = new CreateUrr(
            s.Mandatory(IeType.UrrId, IeDecoders.U32),
            s.Mandatory(IeType.MeasurementMethod, IeDecoders.MeasurementMethod),
            s.Mandatory(IeType.ReportingTriggers, IeDecoders.ReportingTriggers))
        {
            MeasurementPeriod = s.OptionalValue(IeType.MeasurementPeriod, IeDecoders.U32),
            VolumeThreshold = s.Optional(IeType.VolumeThreshold, IeDecoders.Volume),
            VolumeQuota = s.Optional(IeType.VolumeQuota, IeDecoders.Volume),
            TimeThreshold = s.OptionalValue(IeType.TimeThreshold, IeDecoders.U32),
            TimeQuota = s.OptionalValue(IeType.TimeQuota, IeDecoders.U32),
            QuotaHoldingTime = s.OptionalValue(IeType.QuotaHoldingTime, IeDecoders.U32),
            QuotaValidityTime = s.OptionalValue(IeType.QuotaValidityTime, IeDecoders.U32),
            MonitoringTime = s.OptionalValue(IeType.MonitoringTime, IeDecoders.Ntp),
            SubsequentVolumeThreshold = s.Optional(IeType.SubsequentVolumeThreshold, IeDecoders.Volume),
            SubsequentTimeThreshold = s.OptionalValue(IeType.SubsequentTimeThreshold, IeDecoders.U32),
            InactivityDetectionTime = s.OptionalValue(IeType.InactivityDetectionTime, IeDecoders.U32),
            LinkedUrrIds = s.Many(IeType.LinkedUrrId, IeDecoders.U32),
            MeasurementInformation = s.OptionalValue(IeType.MeasurementInformation, IeDecoders.U8),
            FarIdForQuotaAction = s.OptionalValue(IeType.FarId, IeDecoders.U32),
            Other = s.Rest(),
        };
        RequireFor(urr.ReportingTriggers, ReportingTriggerFlags.Perio, urr.MeasurementPeriod.HasValue, IeType.MeasurementPeriod);
        RequireFor(urr.ReportingTriggers, ReportingTriggerFlags.Volth, urr.VolumeThreshold is not null, IeType.VolumeThreshold);
        RequireFor(urr.ReportingTriggers, ReportingTriggerFlags.Timth, urr.TimeThreshold.HasValue, IeType.TimeThreshold);
        RequireFor(urr.ReportingTriggers, ReportingTriggerFlags.Volqu, urr.VolumeQuota is not null, IeType.VolumeQuota);
        RequireFor(urr.ReportingTriggers, ReportingTriggerFlags.Timqu, urr.TimeQuota.HasValue, IeType.TimeQuota);
        RequireFor(urr.ReportingTriggers, ReportingTriggerFlags.Quvti, urr.QuotaValidityTime.HasValue, IeType.QuotaValidityTime);
        return urr;
    }

    private static void RequireFor(ReportingTriggers triggers, ReportingTriggerFlags trigger, bool present, IeType needed)
    {
        if (triggers.Has(trigger) && !present)
            throw new PfcpFormatException(PfcpCause.ConditionalIeMissing,
                $"reporting trigger {trigger.ToString().ToUpperInvariant()} needs {IeTypes.Name(needed)}", (ushort)needed, IeTypes.Name(needed));
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.UrrId, UrrId);
        w.IeU8(IeType.MeasurementMethod, (byte)MeasurementMethod);
        w.Ie(IeType.ReportingTriggers, ReportingTriggers);
        w.OptU32(IeType.MeasurementPeriod, MeasurementPeriod);
        w.Opt(IeType.VolumeThreshold, VolumeThreshold);
        w.Opt(IeType.VolumeQuota, VolumeQuota);
        w.OptU32(IeType.TimeThreshold, TimeThreshold);
        w.OptU32(IeType.TimeQuota, TimeQuota);
        w.OptU32(IeType.QuotaHoldingTime, QuotaHoldingTime);
        w.OptU32(IeType.QuotaValidityTime, QuotaValidityTime);
        w.OptNtp(IeType.MonitoringTime, MonitoringTime);
        w.Opt(IeType.SubsequentVolumeThreshold, SubsequentVolumeThreshold);
        w.OptU32(IeType.SubsequentTimeThreshold, SubsequentTimeThreshold);
        w.OptU32(IeType.InactivityDetectionTime, InactivityDetectionTime);
        w.EachU32(IeType.LinkedUrrId, LinkedUrrIds);
        w.OptU8(IeType.MeasurementInformation, MeasurementInformation);
        w.OptU32(IeType.FarId, FarIdForQuotaAction);
        w.Verbatim(Other);
    }
}

/// <summary>Update URR (Table 7.5.4.4-1): the URR ID and whatever changes.</summary>
public sealed record UpdateUrr(uint UrrId) : IIeValue
{
    public MeasurementMethod? MeasurementMethod { get; init; }
    public ReportingTriggers? ReportingTriggers { get; init; }
    public uint? MeasurementPeriod { get; init; }
    public Volume? VolumeThreshold { get; init; }
    public Volume? VolumeQuota { get; init; }
    public uint? TimeThreshold { get; init; }
    public uint? TimeQuota { get; init; }
    public uint? QuotaHoldingTime { get; init; }
    public uint? QuotaValidityTime { get; init; }
    public DateTime? MonitoringTime { get; init; }
    public uint? InactivityDetectionTime { get; init; }
    public ValueList<uint> LinkedUrrIds { get; init; } = [];
    public byte? MeasurementInformation { get; init; }
    public uint? FarIdForQuotaAction { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static UpdateUrr Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UpdateUrr(s.Mandatory(IeType.UrrId, IeDecoders.U32))
        {
            MeasurementMethod = s.OptionalValue(IeType.MeasurementMethod, IeDecoders.MeasurementMethod),
            ReportingTriggers = s.Optional(IeType.ReportingTriggers, IeDecoders.ReportingTriggers),
            MeasurementPeriod = s.OptionalValue(IeType.MeasurementPeriod, IeDecoders.U32),
            VolumeThreshold = s.Optional(IeType.VolumeThreshold, IeDecoders.Volume),
            VolumeQuota = s.Optional(IeType.VolumeQuota, IeDecoders.Volume),
            TimeThreshold = s.OptionalValue(IeType.TimeThreshold, IeDecoders.U32),
            TimeQuota = s.OptionalValue(IeType.TimeQuota, IeDecoders.U32),
            QuotaHoldingTime = s.OptionalValue(IeType.QuotaHoldingTime, IeDecoders.U32),
            QuotaValidityTime = s.OptionalValue(IeType.QuotaValidityTime, IeDecoders.U32),
            MonitoringTime = s.OptionalValue(IeType.MonitoringTime, IeDecoders.Ntp),
            InactivityDetectionTime = s.OptionalValue(IeType.InactivityDetectionTime, IeDecoders.U32),
            LinkedUrrIds = s.Many(IeType.LinkedUrrId, IeDecoders.U32),
            MeasurementInformation = s.OptionalValue(IeType.MeasurementInformation, IeDecoders.U8),
            FarIdForQuotaAction = s.OptionalValue(IeType.FarId, IeDecoders.U32),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.UrrId, UrrId);
        if (MeasurementMethod is { } method) w.IeU8(IeType.MeasurementMethod, (byte)method);
        w.Opt(IeType.ReportingTriggers, ReportingTriggers);
        w.OptU32(IeType.MeasurementPeriod, MeasurementPeriod);
        w.Opt(IeType.VolumeThreshold, VolumeThreshold);
        w.Opt(IeType.VolumeQuota, VolumeQuota);
        w.OptU32(IeType.TimeThreshold, TimeThreshold);
        w.OptU32(IeType.TimeQuota, TimeQuota);
        w.OptU32(IeType.QuotaHoldingTime, QuotaHoldingTime);
        w.OptU32(IeType.QuotaValidityTime, QuotaValidityTime);
        w.OptNtp(IeType.MonitoringTime, MonitoringTime);
        w.OptU32(IeType.InactivityDetectionTime, InactivityDetectionTime);
        w.EachU32(IeType.LinkedUrrId, LinkedUrrIds);
        w.OptU8(IeType.MeasurementInformation, MeasurementInformation);
        w.OptU32(IeType.FarId, FarIdForQuotaAction);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Usage Report. The same shape travels as three IE types: in a Session Modification Response
/// (78), a Session Deletion Response (79) and a Session Report Request (80); the message picks
/// the type when encoding. UE IP Address and Network Instance occur only in the report request form.
/// </summary>
public sealed record UsageReport(uint UrrId, uint UrSeqn, UsageReportTrigger Trigger) : IIeValue
{
    public DateTime? StartTime { get; init; }
    public DateTime? EndTime { get; init; }
    public VolumeMeasurement? VolumeMeasurement { get; init; }
    /// <summary>Seconds measured.</summary>
    public uint? DurationMeasurement { get; init; }
    public DateTime? TimeOfFirstPacket { get; init; }
    public DateTime? TimeOfLastPacket { get; init; }
    public byte? UsageInformation { get; init; }
    public uint? QueryUrrReference { get; init; }
    public UeIpAddress? UeIpAddress { get; init; }
    public DnsName? NetworkInstance { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static UsageReport Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UsageReport(
            s.Mandatory(IeType.UrrId, IeDecoders.U32),
            s.Mandatory(IeType.UrSeqn, IeDecoders.U32),
            s.Mandatory(IeType.UsageReportTrigger, IeDecoders.UsageReportTrigger))
        {
            StartTime = s.OptionalValue(IeType.StartTime, IeDecoders.Ntp),
            EndTime = s.OptionalValue(IeType.EndTime, IeDecoders.Ntp),
            VolumeMeasurement = s.Optional(IeType.VolumeMeasurement, IeDecoders.VolumeMeasurement),
            DurationMeasurement = s.OptionalValue(IeType.DurationMeasurement, IeDecoders.U32),
            TimeOfFirstPacket = s.OptionalValue(IeType.TimeOfFirstPacket, IeDecoders.Ntp),
            TimeOfLastPacket = s.OptionalValue(IeType.TimeOfLastPacket, IeDecoders.Ntp),
            UsageInformation = s.OptionalValue(IeType.UsageInformation, IeDecoders.U8),
            QueryUrrReference = s.OptionalValue(IeType.QueryUrrReference, IeDecoders.U32),
            UeIpAddress = s.Optional(IeType.UeIpAddress, IeDecoders.UeIpAddress),
            NetworkInstance = s.Optional(IeType.NetworkInstance, IeDecoders.DnsName),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.UrrId, UrrId);
        w.IeU32(IeType.UrSeqn, UrSeqn);
        w.Ie(IeType.UsageReportTrigger, Trigger);
        w.OptNtp(IeType.StartTime, StartTime);
        w.OptNtp(IeType.EndTime, EndTime);
        w.Opt(IeType.VolumeMeasurement, VolumeMeasurement);
        w.OptU32(IeType.DurationMeasurement, DurationMeasurement);
        w.OptNtp(IeType.TimeOfFirstPacket, TimeOfFirstPacket);
        w.OptNtp(IeType.TimeOfLastPacket, TimeOfLastPacket);
        w.OptU8(IeType.UsageInformation, UsageInformation);
        w.OptU32(IeType.QueryUrrReference, QueryUrrReference);
        w.Opt(IeType.UeIpAddress, UeIpAddress);
        w.OptName(IeType.NetworkInstance, NetworkInstance);
        w.Verbatim(Other);
    }
}

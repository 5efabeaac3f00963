using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>Downlink Data Report (Table 7.5.8.2-1): which PDRs received downlink data to buffer.</summary>
public sealed record DownlinkDataReport(ValueList<ushort> PdrIds) : IIeValue
{
    public ValueList<DownlinkDataServiceInformation> ServiceInformation { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static DownlinkDataReport Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new DownlinkDataReport(s.AtLeastOne(IeType.PdrId, IeDecoders.U16))
        {
            ServiceInformation = s.Many(IeType.DownlinkDataServiceInformation, IeDecoders.DownlinkDataServiceInformation),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        foreach (var id in PdrIds) w.IeU16(IeType.PdrId, id);
        w.Each(IeType.DownlinkDataServiceInformation, ServiceInformation);
        w.Verbatim(Other);
    }
}

/// <summary>Error Indication Report (Table 7.5.8.4-1): remote F-TEIDs a GTP-U Error Indication named.</summary>
public sealed record ErrorIndicationReport(ValueList<FTeid> RemoteFTeids) : IIeValue
{
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static ErrorIndicationReport Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new ErrorIndicationReport(s.AtLeastOne(IeType.FTeid, IeDecoders.FTeid)) { Other = s.Rest() };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.Each(IeType.FTeid, RemoteFTeids);
        w.Verbatim(Other);
    }
}

/// <summary>Load Control Information (Table 7.5.3.3-1): the sender's load metric (0..100) and its sequence number.</summary>
public sealed record LoadControlInformation(uint SequenceNumber, byte Metric) : IIeValue
{
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static LoadControlInformation Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new LoadControlInformation(s.Mandatory(IeType.SequenceNumber, IeDecoders.U32), s.Mandatory(IeType.Metric, IeDecoders.U8))
        {
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.SequenceNumber, SequenceNumber);
        w.IeU8(IeType.Metric, Metric);
        w.Verbatim(Other);
    }
}

/// <summary>Overload Control Information (Table 7.5.3.4-1): reduction metric, its validity period and flags.</summary>
public sealed record OverloadControlInformation(uint SequenceNumber, byte Metric, TimerValue Validity) : IIeValue
{
    public OciFlags? Flags { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static OverloadControlInformation Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new OverloadControlInformation(
            s.Mandatory(IeType.SequenceNumber, IeDecoders.U32),
            s.Mandatory(IeType.Metric, IeDecoders.U8),
            s.Mandatory(IeType.Timer, IeDecoders.Timer))
        {
            Flags = s.OptionalValue(IeType.OciFlags, IeDecoders.OciFlags),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.SequenceNumber, SequenceNumber);
        w.IeU8(IeType.Metric, Metric);
        w.Ie(IeType.Timer, Validity);
        if (Flags is { } flags) w.IeU8(IeType.OciFlags, (byte)flags);
        w.Verbatim(Other);
    }
}

/// <summary>
/// The grouped IEs that just name one rule: Remove PDR/FAR/URR/QER/BAR/Traffic Endpoint and Query URR. Messages
/// expose them as lists of IDs.
/// </summary>
public static class RuleReferences
{
    public static readonly IeDecoder<ushort> PdrId = ie => IeSet.Of(ie).Mandatory(IeType.PdrId, IeDecoders.U16);
    public static readonly IeDecoder<uint> FarId = ie => IeSet.Of(ie).Mandatory(IeType.FarId, IeDecoders.U32);
    public static readonly IeDecoder<uint> UrrId = ie => IeSet.Of(ie).Mandatory(IeType.UrrId, IeDecoders.U32);
    public static readonly IeDecoder<uint> QerId = ie => IeSet.Of(ie).Mandatory(IeType.QerId, IeDecoders.U32);
    public static readonly IeDecoder<byte> BarId = ie => IeSet.Of(ie).Mandatory(IeType.BarId, IeDecoders.U8);
    public static readonly IeDecoder<byte> TrafficEndpointId = ie => IeSet.Of(ie).Mandatory(IeType.TrafficEndpointId, IeDecoders.U8);

    public static void WritePdr(PfcpWriter w, IeType group, ushort id)
    {
        int mark = w.BeginIe(group);
        w.IeU16(IeType.PdrId, id);
        w.EndIe(mark);
    }

    public static void WriteU32(PfcpWriter w, IeType group, IeType idType, uint id)
    {
        int mark = w.BeginIe(group);
        w.IeU32(idType, id);
        w.EndIe(mark);
    }

    public static void WriteBar(PfcpWriter w, IeType group, byte id) => WriteU8(w, group, IeType.BarId, id);

    public static void WriteU8(PfcpWriter w, IeType group, IeType idType, byte id)
    {
        int mark = w.BeginIe(group);
        w.IeU8(idType, id);
        w.EndIe(mark);
    }
}

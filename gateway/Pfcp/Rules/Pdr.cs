using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>
/// PDI, the packet detection information of a PDR (Table 7.5.2.2-2): which interface packets
/// come from and what they must match (local F-TEID, UE address, SDF filters, QFI...).
/// </summary>
public sealed record Pdi(SourceInterface SourceInterface) : IIeValue
{
    public FTeid? LocalFTeid { get; init; }
    public DnsName? NetworkInstance { get; init; }

    /// <summary>UE IP Address IEs (one per address family or prefix since Rel-16).</summary>
    public ValueList<UeIpAddress> UeIpAddresses { get; init; } = [];
    public ValueList<byte> TrafficEndpointIds { get; init; } = [];
    public ValueList<SdfFilter> SdfFilters { get; init; } = [];
    public OctetString? ApplicationId { get; init; }
    public ValueList<byte> Qfis { get; init; } = [];
    public ThreeGppInterfaceType? SourceInterfaceType { get; init; }

    /// <summary>Children this model does not name (Ethernet filters, framed routes...), kept verbatim.</summary>
    public ValueList<PfcpIe> Other { get; init; } = [];

    /// <summary>The first UE IP Address, the common single-address case.</summary>
    public UeIpAddress? UeIpAddress => UeIpAddresses.IsEmpty ? null : UeIpAddresses[0];

    public static Pdi Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new Pdi(s.Mandatory(IeType.SourceInterface, IeDecoders.SourceInterface))
        {
            LocalFTeid = s.Optional(IeType.FTeid, IeDecoders.FTeid),
            NetworkInstance = s.Optional(IeType.NetworkInstance, IeDecoders.DnsName),
            UeIpAddresses = s.Many(IeType.UeIpAddress, IeDecoders.UeIpAddress),
            TrafficEndpointIds = s.Octets(IeType.TrafficEndpointId, IeDecoders.U8),
            SdfFilters = s.Many(IeType.SdfFilter, IeDecoders.SdfFilter),
            ApplicationId = s.OptionalValue(IeType.ApplicationId, IeDecoders.Octets),
            Qfis = s.Octets(IeType.Qfi, IeDecoders.Qfi),
            SourceInterfaceType = s.OptionalValue(IeType.ThreeGppInterfaceType, IeDecoders.InterfaceType),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU8(IeType.SourceInterface, (byte)SourceInterface);
        w.Opt(IeType.FTeid, LocalFTeid);
        w.OptName(IeType.NetworkInstance, NetworkInstance);
        w.Each(IeType.UeIpAddress, UeIpAddresses);
        foreach (var id in TrafficEndpointIds) w.IeU8(IeType.TrafficEndpointId, id);
        w.Each(IeType.SdfFilter, SdfFilters);
        if (ApplicationId is { } app) w.Ie(IeType.ApplicationId, app.Span);
        foreach (var qfi in Qfis) w.IeU8(IeType.Qfi, qfi);
        if (SourceInterfaceType is { } type) w.IeU8(IeType.ThreeGppInterfaceType, (byte)type);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Create PDR (Table 7.5.2.2-1). FAR ID is conditional: it must be present unless the PDR
/// activates predefined rules or points at a MAR (multi-access rule) instead. Precedence is
/// conditional too: required on N4 and Sxb/Sxc, absent on Sxa (an SGW-U has one PDR per
/// bearer), so the codec accepts both and the node enforces it for its interface.
/// </summary>
public sealed record CreatePdr(ushort PdrId, Pdi Pdi) : IIeValue
{
    public uint? Precedence { get; init; }
    public OuterHeaderRemoval? OuterHeaderRemoval { get; init; }
    public uint? FarId { get; init; }
    public ValueList<uint> UrrIds { get; init; } = [];
    public ValueList<uint> QerIds { get; init; } = [];
    public ValueList<OctetString> ActivatePredefinedRules { get; init; } = [];
    public DateTime? ActivationTime { get; init; }
    public DateTime? DeactivationTime { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static CreatePdr Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        var pdr = new CreatePdr(s.Mandatory(IeType.PdrId, IeDecoders.U16), s.Mandatory(IeType.Pdi, Pdi.Decode))
        {
            Precedence = s.OptionalValue(IeType.Precedence, IeDecoders.U32),
            OuterHeaderRemoval = s.Optional(IeType.OuterHeaderRemoval, IeDecoders.OuterHeaderRemoval),
            FarId = s.OptionalValue(IeType.FarId, IeDecoders.U32),
            UrrIds = s.Ids(IeType.UrrId),
            QerIds = s.Ids(IeType.QerId),
            ActivatePredefinedRules = s.Many(IeType.ActivatePredefinedRules, IeDecoders.Octets),
            ActivationTime = s.OptionalValue(IeType.ActivationTime, IeDecoders.Ntp),
            DeactivationTime = s.OptionalValue(IeType.DeactivationTime, IeDecoders.Ntp),
        };
        if (pdr.FarId is null && pdr.ActivatePredefinedRules.IsEmpty && !s.Has(IeType.MarId))
            throw new PfcpFormatException(PfcpCause.ConditionalIeMissing,
                "FAR ID is required when no predefined rules or MAR are used", (ushort)IeType.FarId, IeTypes.Name(IeType.FarId));
        return pdr with { Other = s.Rest() };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU16(IeType.PdrId, PdrId);
        w.OptU32(IeType.Precedence, Precedence);
        w.Ie(IeType.Pdi, Pdi);
        w.Opt(IeType.OuterHeaderRemoval, OuterHeaderRemoval);
        w.OptU32(IeType.FarId, FarId);
        w.EachU32(IeType.UrrId, UrrIds);
        w.EachU32(IeType.QerId, QerIds);
        w.EachOctets(IeType.ActivatePredefinedRules, ActivatePredefinedRules);
        w.OptNtp(IeType.ActivationTime, ActivationTime);
        w.OptNtp(IeType.DeactivationTime, DeactivationTime);
        w.Verbatim(Other);
    }
}

/// <summary>Update PDR (Table 7.5.4.2-1): the PDR ID and whatever changes.</summary>
public sealed record UpdatePdr(ushort PdrId) : IIeValue
{
    public OuterHeaderRemoval? OuterHeaderRemoval { get; init; }
    public uint? Precedence { get; init; }
    public Pdi? Pdi { get; init; }
    public uint? FarId { get; init; }
    public ValueList<uint> UrrIds { get; init; } = [];
    public ValueList<uint> QerIds { get; init; } = [];
    public ValueList<OctetString> ActivatePredefinedRules { get; init; } = [];
    public ValueList<OctetString> DeactivatePredefinedRules { get; init; } = [];
    public DateTime? ActivationTime { get; init; }
    public DateTime? DeactivationTime { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static UpdatePdr Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UpdatePdr(s.Mandatory(IeType.PdrId, IeDecoders.U16))
        {
            OuterHeaderRemoval = s.Optional(IeType.OuterHeaderRemoval, IeDecoders.OuterHeaderRemoval),
            Precedence = s.OptionalValue(IeType.Precedence, IeDecoders.U32),
            Pdi = s.Optional(IeType.Pdi, Pdi.Decode),
            FarId = s.OptionalValue(IeType.FarId, IeDecoders.U32),
            UrrIds = s.Ids(IeType.UrrId),
            QerIds = s.Ids(IeType.QerId),
            ActivatePredefinedRules = s.Many(IeType.ActivatePredefinedRules, IeDecoders.Octets),
            DeactivatePredefinedRules = s.Many(IeType.DeactivatePredefinedRules, IeDecoders.Octets),
            ActivationTime = s.OptionalValue(IeType.ActivationTime, IeDecoders.Ntp),
            DeactivationTime = s.OptionalValue(IeType.DeactivationTime, IeDecoders.Ntp),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU16(IeType.PdrId, PdrId);
        w.Opt(IeType.OuterHeaderRemoval, OuterHeaderRemoval);
        w.OptU32(IeType.Precedence, Precedence);
        w.Opt(IeType.Pdi, Pdi);
        w.OptU32(IeType.FarId, FarId);
        w.EachU32(IeType.UrrId, UrrIds);
        w.EachU32(IeType.QerId, QerIds);
        w.EachOctets(IeType.ActivatePredefinedRules, ActivatePredefinedRules);
        w.EachOctets(IeType.DeactivatePredefinedRules, DeactivatePredefinedRules);
        w.OptNtp(IeType.ActivationTime, ActivationTime);
        w.OptNtp(IeType.DeactivationTime, DeactivationTime);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Created PDR (Table 7.5.3.2-1), returned by the UP function: the F-TEID (and UE address) it
/// allocated for a PDR that asked it to CHOOSE.
/// </summary>
public sealed record CreatedPdr(ushort PdrId) : IIeValue
{
    public FTeid? LocalFTeid { get; init; }
    public ValueList<UeIpAddress> UeIpAddresses { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static CreatedPdr Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new CreatedPdr(s.Mandatory(IeType.PdrId, IeDecoders.U16))
        {
            LocalFTeid = s.Optional(IeType.FTeid, IeDecoders.FTeid),
            UeIpAddresses = s.Many(IeType.UeIpAddress, IeDecoders.UeIpAddress),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU16(IeType.PdrId, PdrId);
        w.Opt(IeType.FTeid, LocalFTeid);
        w.Each(IeType.UeIpAddress, UeIpAddresses);
        w.Verbatim(Other);
    }
}

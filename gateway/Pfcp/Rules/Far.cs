using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>Forwarding Parameters of a Create FAR (Table 7.5.2.3-2): where and how to forward.</summary>
public sealed record ForwardingParameters(DestinationInterface DestinationInterface) : IIeValue
{
    public DnsName? NetworkInstance { get; init; }
    public OuterHeaderCreation? OuterHeaderCreation { get; init; }
    public ushort? TransportLevelMarking { get; init; }
    public byte? LinkedTrafficEndpointId { get; init; }
    public ThreeGppInterfaceType? DestinationInterfaceType { get; init; }

    /// <summary>Children this model does not name (Redirect Information, Forwarding Policy, Header Enrichment...).</summary>
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static ForwardingParameters Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new ForwardingParameters(s.Mandatory(IeType.DestinationInterface, IeDecoders.DestinationInterface))
        {
            NetworkInstance = s.Optional(IeType.NetworkInstance, IeDecoders.DnsName),
            OuterHeaderCreation = s.Optional(IeType.OuterHeaderCreation, IeDecoders.OuterHeaderCreation),
            TransportLevelMarking = s.OptionalValue(IeType.TransportLevelMarking, IeDecoders.U16),
            LinkedTrafficEndpointId = s.OptionalValue(IeType.TrafficEndpointId, IeDecoders.U8),
            DestinationInterfaceType = s.OptionalValue(IeType.ThreeGppInterfaceType, IeDecoders.InterfaceType),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU8(IeType.DestinationInterface, (byte)DestinationInterface);
        w.OptName(IeType.NetworkInstance, NetworkInstance);
        w.Opt(IeType.OuterHeaderCreation, OuterHeaderCreation);
        w.OptU16(IeType.TransportLevelMarking, TransportLevelMarking);
        w.OptU8(IeType.TrafficEndpointId, LinkedTrafficEndpointId);
        if (DestinationInterfaceType is { } type) w.IeU8(IeType.ThreeGppInterfaceType, (byte)type);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Update Forwarding Parameters of an Update FAR (Table 7.5.4.3-2). PFCPSMReq-Flags SNDEM asks
/// the UP function to send End Marker packets on the old path when the outer header changes.
/// </summary>
public sealed record UpdateForwardingParameters : IIeValue
{
    public DestinationInterface? DestinationInterface { get; init; }
    public DnsName? NetworkInstance { get; init; }
    public OuterHeaderCreation? OuterHeaderCreation { get; init; }
    public ushort? TransportLevelMarking { get; init; }
    public PfcpSmReqFlags? SmReqFlags { get; init; }
    public byte? LinkedTrafficEndpointId { get; init; }
    public ThreeGppInterfaceType? DestinationInterfaceType { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public bool SendEndMarker => SmReqFlags is { } flags && flags.HasFlag(PfcpSmReqFlags.Sndem);

    public static UpdateForwardingParameters Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UpdateForwardingParameters
        {
            DestinationInterface = s.OptionalValue(IeType.DestinationInterface, IeDecoders.DestinationInterface),
            NetworkInstance = s.Optional(IeType.NetworkInstance, IeDecoders.DnsName),
            OuterHeaderCreation = s.Optional(IeType.OuterHeaderCreation, IeDecoders.OuterHeaderCreation),
            TransportLevelMarking = s.OptionalValue(IeType.TransportLevelMarking, IeDecoders.U16),
            SmReqFlags = s.OptionalValue(IeType.PfcpSmReqFlags, IeDecoders.SmReqFlags),
            LinkedTrafficEndpointId = s.OptionalValue(IeType.TrafficEndpointId, IeDecoders.U8),
            DestinationInterfaceType = s.OptionalValue(IeType.ThreeGppInterfaceType, IeDecoders.InterfaceType),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        if (DestinationInterface is { } destination) w.IeU8(IeType.DestinationInterface, (byte)destination);
        w.OptName(IeType.NetworkInstance, NetworkInstance);
        w.Opt(IeType.OuterHeaderCreation, OuterHeaderCreation);
        w.OptU16(IeType.TransportLevelMarking, TransportLevelMarking);
        if (SmReqFlags is { } flags) w.IeU8(IeType.PfcpSmReqFlags, (byte)flags);
        w.OptU8(IeType.TrafficEndpointId, LinkedTrafficEndpointId);
        if (DestinationInterfaceType is { } type) w.IeU8(IeType.ThreeGppInterfaceType, (byte)type);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Create FAR (Table 7.5.2.3-1). Forwarding Parameters are conditional: required when the Apply
/// Action forwards (FORW). Duplicating Parameters stay in <see cref="Other"/>.
/// </summary>
public sealed record CreateFar(uint FarId, ApplyAction ApplyAction) : IIeValue
{
    public ForwardingParameters? ForwardingParameters { get; init; }
    public byte? BarId { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    private static readonly RecentDecodes<CreateFar> Recent = new(64);

    /// <summary>
    /// A Create FAR as an SMF repeats it from session to session (the same template per DNN and
    /// profile): identical octets decode to one shared instance (<see cref="RecentDecodes{T}"/>).
    /// </summary>
    public static readonly IeDecoder<CreateFar> DecodeShared = ie => Recent.Get(ie.Value.Span, ie, static ie => Decode(ie)); // a static lambda: one delegate, not one per call

    public static CreateFar Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        var far = new CreateFar(s.Mandatory(IeType.FarId, IeDecoders.U32), s.Mandatory(IeType.ApplyAction, IeDecoders.ApplyAction))
        {
            ForwardingParameters = s.Optional(IeType.ForwardingParameters, ForwardingParameters.Decode),
            BarId = s.OptionalValue(IeType.BarId, IeDecoders.U8),
            Other = s.Rest(),
        };
        if (far.ApplyAction.Has(ApplyActionFlags.Forw) && far.ForwardingParameters is null)
            throw new PfcpFormatException(PfcpCause.ConditionalIeMissing, "Apply Action FORW needs Forwarding Parameters",
                (ushort)IeType.ForwardingParameters, IeTypes.Name(IeType.ForwardingParameters));
        return far;
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.FarId, FarId);
        w.Ie(IeType.ApplyAction, ApplyAction);
        w.Opt(IeType.ForwardingParameters, ForwardingParameters);
        w.OptU8(IeType.BarId, BarId);
        w.Verbatim(Other);
    }
}

/// <summary>Update FAR (Table 7.5.4.3-1): the FAR ID and whatever changes.</summary>
public sealed record UpdateFar(uint FarId) : IIeValue
{
    public ApplyAction? ApplyAction { get; init; }
    public UpdateForwardingParameters? UpdateForwardingParameters { get; init; }
    public byte? BarId { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static UpdateFar Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UpdateFar(s.Mandatory(IeType.FarId, IeDecoders.U32))
        {
            ApplyAction = s.Optional(IeType.ApplyAction, IeDecoders.ApplyAction),
            UpdateForwardingParameters = s.Optional(IeType.UpdateForwardingParameters, UpdateForwardingParameters.Decode),
            BarId = s.OptionalValue(IeType.BarId, IeDecoders.U8),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.FarId, FarId);
        w.Opt(IeType.ApplyAction, ApplyAction);
        w.Opt(IeType.UpdateForwardingParameters, UpdateForwardingParameters);
        w.OptU8(IeType.BarId, BarId);
        w.Verbatim(Other);
    }
}

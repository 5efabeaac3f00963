using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>
/// A traffic endpoint (PDI optimisation, TS 29.244 5.2.1A.2): the local F-TEID, network
/// instance, UE addresses and QFIs that PDRs share by naming its Traffic Endpoint ID in their
/// PDI. The same children make Create Traffic Endpoint (Table 7.5.2.7-1), Update Traffic
/// Endpoint (7.5.4.13-1, each present child replaces) and Created Traffic Endpoint (7.5.3.5-1,
/// the F-TEID and UE addresses the UP function chose).
/// </summary>
public sealed record TrafficEndpoint(byte TrafficEndpointId) : IIeValue
{
    public FTeid? LocalFTeid { get; init; }
    public DnsName? NetworkInstance { get; init; }
    public ValueList<UeIpAddress> UeIpAddresses { get; init; } = [];
    public ValueList<byte> Qfis { get; init; } = [];
    /// <summary>Children this model does not name (framed routes, Ethernet PDU session information...), kept verbatim.</summary>
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static TrafficEndpoint Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new TrafficEndpoint(s.Mandatory(IeType.TrafficEndpointId, IeDecoders.U8))
        {
            LocalFTeid = s.Optional(IeType.FTeid, IeDecoders.FTeid),
            NetworkInstance = s.Optional(IeType.NetworkInstance, IeDecoders.DnsName),
            UeIpAddresses = s.Many(IeType.UeIpAddress, IeDecoders.UeIpAddress),
            Qfis = s.Octets(IeType.Qfi, IeDecoders.Qfi),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU8(IeType.TrafficEndpointId, TrafficEndpointId);
        w.Opt(IeType.FTeid, LocalFTeid);
        w.OptName(IeType.NetworkInstance, NetworkInstance);
        w.Each(IeType.UeIpAddress, UeIpAddresses);
        foreach (var qfi in Qfis) w.IeU8(IeType.Qfi, qfi);
        w.Verbatim(Other);
    }

    /// <summary>This endpoint with an Update Traffic Endpoint's present children in place of its own.</summary>
    public TrafficEndpoint With(TrafficEndpoint update) => this with
    {
        LocalFTeid = update.LocalFTeid ?? LocalFTeid,
        NetworkInstance = update.NetworkInstance ?? NetworkInstance,
        UeIpAddresses = update.UeIpAddresses.IsEmpty ? UeIpAddresses : update.UeIpAddresses,
        Qfis = update.Qfis.IsEmpty ? Qfis : update.Qfis,
        Other = update.Other.IsEmpty ? Other : update.Other,
    };
}

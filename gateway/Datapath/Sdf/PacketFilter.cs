using System.Net;
using System.Net.Sockets;

namespace LoxiLb.Edge5G.Datapath.Sdf;

/// <summary>
/// An SDF filter resolved for one PDR: in terms of the packet's own source and destination
/// (a flow description "out" is swapped for uplink PDRs), "assigned" replaced by the UE
/// address, one port range per side (port lists expand into several filters).
/// </summary>
public sealed record PacketFilter(
    int Family,           // 4, 6, or 0 = either
    byte Protocol,
    IPAddress? Source, int SourcePrefix,
    IPAddress? Destination, int DestinationPrefix,
    PortRange SourcePorts, PortRange DestinationPorts,
    byte Tos = 0, byte TosMask = 0)
{
    /// <summary>Filters for a PDR of the given direction (uplink = source interface access).</summary>
    /// <param name="framedRoutes">Networks behind the UE (framed routing): "assigned" covers them too.</param>
    public static IReadOnlyList<PacketFilter> Resolve(FlowDescription flow, bool uplink, IPAddress? ueIpv4, IPAddress? ueIpv6,
        byte tos = 0, byte tosMask = 0, IReadOnlyList<IPNetwork>? framedRoutes = null)
    {
        // The description's "from" is the packet source when it describes packets flowing the
        // PDR's way: "out" (downlink) for downlink PDRs, "in" (uplink) for uplink ones.
        var asIs = (flow.Direction == FlowDirection.Out) != uplink;
        var source = asIs ? flow.From : flow.To;
        var destination = asIs ? flow.To : flow.From;
        var family = FamilyOf(flow.From.Address) | FamilyOf(flow.To.Address);

        var filters = new List<PacketFilter>();
        foreach (var ue in UeCandidates(source, destination, ueIpv4, ueIpv6, framedRoutes, family))
        {
            var (src, srcLen) = Address(source, ue);
            var (dst, dstLen) = Address(destination, ue);
            var f = ue is not { } n ? family : (n.Address.AddressFamily == AddressFamily.InterNetwork ? 4 : 6);
            foreach (var sp in source.Ports)
                foreach (var dp in destination.Ports)
                    filters.Add(new PacketFilter(f, flow.Protocol, src, srcLen, dst, dstLen, sp, dp, tos, tosMask));
        }
        return filters;
    }

    private static int FamilyOf(IPAddress? a) => a?.AddressFamily switch
    {
        AddressFamily.InterNetwork => 4,
        AddressFamily.InterNetworkV6 => 6,
        _ => 0,
    };

    // "assigned" stands for the UE's addresses (its IPv4 /32, its IPv6 /64) and the networks
    // routed to it: one filter per candidate of a family the rule can apply to.
    private static IEnumerable<(IPAddress Address, int Prefix)?> UeCandidates(FlowEndpoint a, FlowEndpoint b, IPAddress? v4, IPAddress? v6,
        IReadOnlyList<IPNetwork>? framed, int family)
    {
        if (a.Kind != EndpointKind.Assigned && b.Kind != EndpointKind.Assigned)
        {
            yield return null;
            yield break;
        }
        if (v4 is null && v6 is null && (framed is null || framed.Count == 0))
            throw new FormatException("the flow description uses 'assigned' but the session has no UE address");
        if (v4 is not null && family != 6)
            yield return (v4, 32);
        if (v6 is not null && family != 4)
            yield return (v6, 64);
        foreach (var route in framed ?? [])
        {
            var routeFamily = route.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 4 : 6;
            if (family == 0 || family == routeFamily)
                yield return (route.BaseAddress, route.PrefixLength);
        }
    }

    private static (IPAddress?, int) Address(FlowEndpoint e, (IPAddress Address, int Prefix)? ue) => e.Kind switch
    {
        EndpointKind.Any => (null, 0),
        EndpointKind.Assigned => (ue!.Value.Address, ue.Value.Prefix),
        _ => (e.Address, e.PrefixLength),
    };

    public override string ToString() =>
        $"proto {(Protocol == 0 ? "any" : Protocol)} {Show(Source, SourcePrefix)}:{SourcePorts} -> {Show(Destination, DestinationPrefix)}:{DestinationPorts}";

    private static string Show(IPAddress? a, int len) => a is null ? "any" : $"{a}/{len}";
}

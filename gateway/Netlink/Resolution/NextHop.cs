using System.Net;
using System.Net.NetworkInformation;

namespace LoxiLb.Edge5G.Netlink;

/// <summary>
/// Everything the XDP datapath needs to bpf_redirect a packet towards a destination: the
/// egress interface, the Ethernet addresses to write and the MTU to respect.
/// </summary>
/// <param name="Gateway">The neighbour the frame is sent to: the route's gateway, or the destination itself when on-link.</param>
/// <param name="PreferredSource">The source address the kernel would pick (RTA_PREFSRC), if any.</param>
public sealed record NextHop(
    int Ifindex,
    string InterfaceName,
    PhysicalAddress SourceMac,
    PhysicalAddress DestinationMac,
    int Mtu,
    IPAddress Gateway,
    IPAddress? PreferredSource)
{
    /// <summary>True when the destination is on the link (no gateway in the route).</summary>
    public bool OnLink { get; init; }

    /// <summary>
    /// The egress is a VLAN device: XDP cannot transmit on it, so the datapath pushes this tag
    /// and transmits on the parent device.
    /// </summary>
    public VlanEgress? Vlan { get; init; }

    public override string ToString() =>
        $"via {Gateway}{(OnLink ? " (on-link)" : "")} dev {InterfaceName} (#{Ifindex}) {Format(SourceMac)} -> {Format(DestinationMac)} mtu {Mtu}" +
        (Vlan is { } v ? $" vlan {v.Id} (0x{v.Protocol:x4}) on #{v.ParentIfindex}" : "") +
        (PreferredSource is null ? "" : $" src {PreferredSource}");

    internal static string Format(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2")));
}

/// <summary>Why a destination has no usable next hop.</summary>
/// <summary>The tag a VLAN egress device adds, and the device under it that transmits.</summary>
public sealed record VlanEgress(ushort Id, ushort Protocol, int ParentIfindex);

public enum UnresolvedReason
{
    /// <summary>Resolved: not a failure.</summary>
    None,

    /// <summary>No route matches (ENETUNREACH).</summary>
    NoRoute,

    /// <summary>An "unreachable" route matches (EHOSTUNREACH).</summary>
    Unreachable,

    /// <summary>A "blackhole" route matches: the kernel silently drops.</summary>
    Blackhole,

    /// <summary>A "prohibit" route matches (EACCES).</summary>
    Prohibited,

    /// <summary>The destination is an address of this host (a local route).</summary>
    LocalDestination,

    /// <summary>Broadcast, multicast, throw or another route type that is not a unicast next hop.</summary>
    UnsupportedRouteType,

    /// <summary>The route leaves through a device without Ethernet addressing (loopback, tunnel, wireguard...).</summary>
    NotEthernet,

    /// <summary>The egress interface is administratively down or has no carrier.</summary>
    InterfaceDown,

    /// <summary>The neighbour (gateway or on-link destination) has no usable link-layer address yet; resolution was requested.</summary>
    NeighbourUnresolved,

    /// <summary>The egress is a VLAN device on another VLAN device (stacked tags): the datapath pushes one tag only.</summary>
    StackedVlan,
}

/// <summary>State of a kernel neighbour entry (NUD_* flags of rtnetlink(7)).</summary>
[Flags]
public enum NeighbourState : ushort
{
    None = 0x00,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>
/// The outcome of resolving one destination: a <see cref="NextHop"/>, or the reason there is
/// none. Value equality: two resolutions are equal when the datapath would program the same thing.
/// </summary>
public sealed record NextHopResolution
{
    private NextHopResolution(IPAddress destination, NextHop? nextHop, UnresolvedReason reason, string detail)
    {
        Destination = destination;
        NextHop = nextHop;
        Reason = reason;
        Detail = detail;
    }

    public IPAddress Destination { get; }

    /// <summary>The next hop when resolved, else null.</summary>
    public NextHop? NextHop { get; }

    public UnresolvedReason Reason { get; }

    /// <summary>Human-readable explanation ("neighbour 203.0.113.2 on e5g-a0 is FAILED").</summary>
    public string Detail { get; }

    /// <summary>Egress interface when the route is known (also when unresolved), else 0.</summary>
    public int Ifindex { get; private init; }

    /// <summary>The neighbour address the next hop needs (gateway or on-link destination), when known.</summary>
    public IPAddress? Gateway { get; private init; }

    /// <summary>State of the neighbour entry, for <see cref="UnresolvedReason.NeighbourUnresolved"/> and resolved hops.</summary>
    public NeighbourState NeighbourState { get; private init; }

    public bool IsResolved => NextHop is not null;

    public static NextHopResolution Resolved(IPAddress destination, NextHop nextHop, NeighbourState state) =>
        new(destination, nextHop, UnresolvedReason.None, nextHop.ToString())
        {
            Ifindex = nextHop.Ifindex,
            Gateway = nextHop.Gateway,
            NeighbourState = state,
        };

    public static NextHopResolution Unresolved(IPAddress destination, UnresolvedReason reason, string detail,
        int ifindex = 0, IPAddress? gateway = null, NeighbourState neighbourState = NeighbourState.None) =>
        reason == UnresolvedReason.None
            ? throw new ArgumentException("an unresolved next hop needs a reason", nameof(reason))
            : new(destination, null, reason, detail) { Ifindex = ifindex, Gateway = gateway, NeighbourState = neighbourState };

    // Neighbour state and detail text are left out: REACHABLE -> STALE -> DELAY, or INCOMPLETE
    // -> FAILED, do not change what the datapath writes and would only flood NextHopsChanged.
    public bool Equals(NextHopResolution? other) =>
        other is not null
        && Destination.Equals(other.Destination)
        && Equals(NextHop, other.NextHop)
        && Reason == other.Reason
        && Ifindex == other.Ifindex
        && Equals(Gateway, other.Gateway);

    public override int GetHashCode() => HashCode.Combine(Destination, NextHop, Reason, Ifindex, Gateway);

    public override string ToString() =>
        IsResolved ? $"{Destination}: {NextHop}" : $"{Destination}: unresolved ({Reason}): {Detail}";
}

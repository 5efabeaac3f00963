using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using LoxiLb.Edge5G.Netlink.Interop;
using LoxiLb.Edge5G.Netlink.Protocol;
using LoxiLb.Edge5G.Netlink.Sockets;

namespace LoxiLb.Edge5G.Netlink;

/// <summary>
/// Resolves a destination to the next hop the XDP datapath redirects to, by asking the kernel
/// over rtnetlink exactly what `ip route get`, `ip link show` and `ip neigh get` would show:
/// route lookup, then egress interface, then the neighbour entry of the gateway.
/// <para>
/// All queries concern the network namespace the constructing thread was in: the socket is
/// bound to it for life. Thread-safe (calls are serialised); one call costs three or four
/// netlink round trips, a few tens of microseconds.
/// </para>
/// </summary>
public sealed class RouteResolver : IDisposable
{
    /// <summary>Neighbour states whose link-layer address may be used (rtnetlink(7) NUD_*).</summary>
    public const NeighbourState UsableStates =
        NeighbourState.Reachable | NeighbourState.Stale | NeighbourState.Delay |
        NeighbourState.Probe | NeighbourState.Permanent | NeighbourState.NoArp;

    private readonly object _lock = new();
    private readonly NetlinkSocket _socket;
    private bool _disposed;

    /// <param name="replyTimeout">How long one request waits for the kernel (default 2 s).</param>
    public RouteResolver(TimeSpan? replyTimeout = null)
    {
        _socket = NetlinkSocket.Open(replyTimeout ?? TimeSpan.FromSeconds(2));
    }

    /// <summary>
    /// Resolves <paramref name="destination"/> (IPv4 or IPv6; an IPv6 scope id selects the
    /// egress interface of a link-local destination). When the route is fine but the neighbour
    /// has no usable link-layer address, the kernel is asked to resolve it (ARP / neighbour
    /// solicitation) unless <paramref name="requestNeighbourResolution"/> is false; a later call
    /// (or a <see cref="RouteMonitor"/> neighbour event) then sees the answer.
    /// </summary>
    public NextHopResolution Resolve(IPAddress destination, bool requestNeighbourResolution = true)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.IsIPv4MappedToIPv6)
            destination = destination.MapToIPv4();
        if (destination.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"{destination} is neither IPv4 nor IPv6", nameof(destination));
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ResolveLocked(destination, requestNeighbourResolution);
        }
    }

    private NextHopResolution ResolveLocked(IPAddress destination, bool requestNeighbourResolution)
    {
        var route = GetRoute(destination, out var refused);
        if (route is null)
            return refused!;
        var routeType = route.Type switch
        {
            Rtnl.RTN_UNICAST => UnresolvedReason.None,
            Rtnl.RTN_LOCAL => UnresolvedReason.LocalDestination,
            Rtnl.RTN_BLACKHOLE => UnresolvedReason.Blackhole,
            Rtnl.RTN_UNREACHABLE => UnresolvedReason.Unreachable,
            Rtnl.RTN_PROHIBIT => UnresolvedReason.Prohibited,
            _ => UnresolvedReason.UnsupportedRouteType,
        };
        if (routeType != UnresolvedReason.None)
            return NextHopResolution.Unresolved(destination, routeType,
                $"the route to {destination} is of type {RouteTypeName(route.Type)}", route.OutputIfindex);
        if (route.OutputIfindex <= 0)
            return NextHopResolution.Unresolved(destination, UnresolvedReason.UnsupportedRouteType,
                $"the route to {destination} has no output interface");

        var onLink = route.Gateway is null;
        var gateway = route.Gateway ?? destination;
        var link = GetLink(route.OutputIfindex);
        if (link.HardwareType != Rtnl.ARPHRD_ETHER || link.Address.Length != 6)
            return NextHopResolution.Unresolved(destination, UnresolvedReason.NotEthernet,
                $"the route to {destination} leaves through {link.Name}, which is not an Ethernet device (ARPHRD {link.HardwareType})",
                link.Index, gateway);
        if ((link.Flags & Rtnl.IFF_UP) == 0)
            return NextHopResolution.Unresolved(destination, UnresolvedReason.InterfaceDown,
                $"{link.Name} is administratively down", link.Index, gateway);
        if ((link.Flags & Rtnl.IFF_RUNNING) == 0 || (route.Flags & Rtnl.RTNH_F_LINKDOWN) != 0)
            return NextHopResolution.Unresolved(destination, UnresolvedReason.InterfaceDown,
                $"{link.Name} has no carrier (operational state {OperStateName(link.OperState)})", link.Index, gateway);

        VlanEgress? vlan = null;
        if (link.Vlan is { } tag)
        {
            var parent = GetLink(link.Link);
            if (parent.Vlan is not null)
                return NextHopResolution.Unresolved(destination, UnresolvedReason.StackedVlan,
                    $"{link.Name} is VLAN {tag.Id} on {parent.Name}, itself a VLAN device: the datapath pushes one tag only", link.Index, gateway);
            vlan = new VlanEgress(tag.Id, tag.Protocol, parent.Index);
        }

        var neighbour = GetNeighbour(link.Index, gateway);
        var state = neighbour?.State ?? NeighbourState.None;
        if ((state & UsableStates) != 0 && neighbour!.LinkAddress is { Length: 6 } lladdr)
        {
            var hop = new NextHop(link.Index, link.Name, new PhysicalAddress(link.Address), new PhysicalAddress(lladdr),
                route.Mtu != 0 ? (int)route.Mtu : link.Mtu, gateway, route.PreferredSource) { OnLink = onLink, Vlan = vlan };
            return NextHopResolution.Resolved(destination, hop, state);
        }
        // INCOMPLETE means the kernel is already soliciting: asking again would change nothing.
        var requested = !requestNeighbourResolution ? ""
            : state == NeighbourState.Incomplete ? "; resolution in progress"
            : RequestNeighbourResolution(link.Index, gateway);
        var stateText = neighbour is null ? "not in the neighbour table" : StateName(state);
        return NextHopResolution.Unresolved(destination, UnresolvedReason.NeighbourUnresolved,
            $"neighbour {gateway} on {link.Name} is {stateText}{requested}", link.Index, gateway, state);
    }

    /// <summary>RTM_GETROUTE; null with <paramref name="refused"/> set when the kernel's lookup itself fails.</summary>
    private RouteInfo? GetRoute(IPAddress destination, out NextHopResolution? refused)
    {
        var operation = $"RTM_GETROUTE {destination}";
        Span<byte> request = stackalloc byte[RtnetlinkRequests.MaxLength];
        var scope = destination.AddressFamily == AddressFamily.InterNetworkV6 ? (int)destination.ScopeId : 0;
        RouteInfo? route = null;
        refused = null;
        try
        {
            _socket.Request(RtnetlinkRequests.GetRoute(request, destination, scope, operation), operation,
                (in NetlinkMessage m) =>
                {
                    if (m.Type == Rtnl.RTM_NEWROUTE)
                        route = RouteInfo.Parse(m);
                });
        }
        // The fib lookup reports the matched reject route as an errno (both families, checked
        // on 6.18). A request the kernel rejects as malformed would carry extended-ack text.
        catch (NetlinkException e) when (e.KernelMessage is null && RefusalReason(e.Errno) is { } reason)
        {
            refused = NextHopResolution.Unresolved(destination, reason,
                $"route lookup for {destination} failed: {e.ErrnoName} ({reason})");
            return null;
        }
        if (route is null)
            throw new NetlinkFormatException(operation, "the kernel acknowledged without sending the route");
        return route;
    }

    private static UnresolvedReason? RefusalReason(int errno) => errno switch
    {
        NetlinkNative.ENETUNREACH => UnresolvedReason.NoRoute,
        NetlinkNative.EHOSTUNREACH => UnresolvedReason.Unreachable,
        NetlinkNative.EINVAL => UnresolvedReason.Blackhole,
        NetlinkNative.EACCES => UnresolvedReason.Prohibited,
        _ => null,
    };

    private LinkInfo GetLink(int ifindex)
    {
        var operation = $"RTM_GETLINK ifindex {ifindex}";
        Span<byte> request = stackalloc byte[RtnetlinkRequests.MaxLength];
        LinkInfo? link = null;
        _socket.Request(RtnetlinkRequests.GetLink(request, ifindex, operation), operation,
            (in NetlinkMessage m) =>
            {
                if (m.Type == Rtnl.RTM_NEWLINK)
                    link = LinkInfo.Parse(m);
            });
        return link ?? throw new NetlinkFormatException(operation, "the kernel acknowledged without sending the link");
    }

    /// <summary>RTM_GETNEIGH for one entry; null when the kernel has none (ENOENT).</summary>
    private NeighbourInfo? GetNeighbour(int ifindex, IPAddress address)
    {
        var operation = $"RTM_GETNEIGH {address} ifindex {ifindex}";
        Span<byte> request = stackalloc byte[RtnetlinkRequests.MaxLength];
        NeighbourInfo? neighbour = null;
        try
        {
            _socket.Request(RtnetlinkRequests.GetNeighbour(request, ifindex, address, operation), operation,
                (in NetlinkMessage m) =>
                {
                    if (m.Type == Rtnl.RTM_NEWNEIGH)
                        neighbour = NeighbourInfo.Parse(m);
                });
        }
        catch (NetlinkException e) when (e.Errno == NetlinkNative.ENOENT)
        {
            return null;
        }
        return neighbour;
    }

    /// <summary>Asks the kernel to solicit the neighbour; returns the text for the resolution's detail.</summary>
    private string RequestNeighbourResolution(int ifindex, IPAddress address)
    {
        var operation = $"RTM_NEWNEIGH NTF_USE {address} ifindex {ifindex}";
        Span<byte> request = stackalloc byte[RtnetlinkRequests.MaxLength];
        try
        {
            _socket.Request(RtnetlinkRequests.UseNeighbour(request, ifindex, address, operation), operation, null);
            return "; resolution requested";
        }
        // Without CAP_NET_ADMIN the lookups still work; only this request is refused.
        catch (NetlinkException e) when (e.Errno is 1 /* EPERM */ or NetlinkNative.EACCES)
        {
            return $"; resolution could not be requested ({e.ErrnoName})";
        }
    }

    internal static string StateName(NeighbourState state) =>
        state == NeighbourState.None ? "NONE" : state.ToString().ToUpperInvariant().Replace(", ", "|");

    private static string RouteTypeName(byte type) => type switch
    {
        Rtnl.RTN_UNICAST => "unicast",
        Rtnl.RTN_LOCAL => "local",
        Rtnl.RTN_BROADCAST => "broadcast",
        Rtnl.RTN_ANYCAST => "anycast",
        Rtnl.RTN_MULTICAST => "multicast",
        Rtnl.RTN_BLACKHOLE => "blackhole",
        Rtnl.RTN_UNREACHABLE => "unreachable",
        Rtnl.RTN_PROHIBIT => "prohibit",
        Rtnl.RTN_THROW => "throw",
        _ => $"#{type}",
    };

    // IF_OPER_* of RFC 2863, as in linux/if.h.
    private static string OperStateName(byte state) => state switch
    {
        0 => "UNKNOWN",
        1 => "NOTPRESENT",
        2 => "DOWN",
        3 => "LOWERLAYERDOWN",
        4 => "TESTING",
        5 => "DORMANT",
        6 => "UP",
        _ => $"#{state}",
    };

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _socket.Dispose();
        }
    }
}

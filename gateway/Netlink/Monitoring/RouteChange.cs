using System.Net;

namespace LoxiLb.Edge5G.Netlink;

/// <summary>What kinds of kernel state a <see cref="RouteChange"/> covers.</summary>
[Flags]
public enum RouteChangeKinds
{
    None = 0,
    Link = 1,
    Address = 2,
    Route = 4,
    Neighbour = 8,
    /// <summary>Policy routing rules (ip rule).</summary>
    Rule = 16,
    /// <summary>Nexthop objects (ip nexthop), which routes may reference by id.</summary>
    NextHopObject = 32,
    /// <summary>The kernel dropped notifications (socket overrun) or one did not parse.</summary>
    Lost = 64,
}

/// <summary>An affected neighbour entry: interface and protocol address.</summary>
public readonly record struct NeighbourKey(int Ifindex, IPAddress Address);

/// <summary>
/// A batch of kernel changes the <see cref="RouteMonitor"/> saw within its coalescing window,
/// with enough detail to decide which next hops need resolving again.
/// </summary>
public sealed class RouteChange
{
    internal RouteChange(RouteChangeKinds kinds, IReadOnlySet<int> interfaces, IReadOnlyList<IPNetwork> routes,
        IReadOnlySet<NeighbourKey> neighbours, int messages)
    {
        Kinds = kinds;
        Interfaces = interfaces;
        Routes = routes;
        Neighbours = neighbours;
        Messages = messages;
    }

    public RouteChangeKinds Kinds { get; }

    /// <summary>Interfaces whose link state or addresses changed.</summary>
    public IReadOnlySet<int> Interfaces { get; }

    /// <summary>Prefixes of routes added, removed or replaced (any table).</summary>
    public IReadOnlyList<IPNetwork> Routes { get; }

    /// <summary>Neighbour entries added, removed or changed (IPv4 and IPv6 only).</summary>
    public IReadOnlySet<NeighbourKey> Neighbours { get; }

    /// <summary>Number of notifications merged into this batch.</summary>
    public int Messages { get; }

    /// <summary>
    /// True when any destination may be affected: notifications were lost, or rules or
    /// nexthop objects changed (a rule redirects whole tables; routes name nexthop objects by id).
    /// </summary>
    public bool AffectsEverything =>
        (Kinds & (RouteChangeKinds.Lost | RouteChangeKinds.Rule | RouteChangeKinds.NextHopObject)) != 0;

    /// <summary>
    /// Whether <paramref name="resolution"/> may now resolve differently. A route change
    /// matters only to destinations inside its prefix (a route can match nothing else); a
    /// neighbour change to hops through that neighbour; a link or address change to hops on
    /// that interface, and to every unresolved hop, since IPv4 flushes routes on link down
    /// without a notification and a link coming back may make any of them resolvable.
    /// </summary>
    public bool MayAffect(NextHopResolution resolution)
    {
        ArgumentNullException.ThrowIfNull(resolution);
        if (AffectsEverything)
            return true;
        foreach (var prefix in Routes)
            if (prefix.Contains(resolution.Destination))
                return true;
        if (Interfaces.Count > 0 && (!resolution.IsResolved || Interfaces.Contains(resolution.Ifindex)))
            return true;
        return resolution.Gateway is not null && Neighbours.Contains(new NeighbourKey(resolution.Ifindex, resolution.Gateway));
    }

    public override string ToString() =>
        $"{Kinds} ({Messages} messages): links [{string.Join(',', Interfaces)}] routes [{string.Join(", ", Routes)}] " +
        $"neighbours [{string.Join(", ", Neighbours.Select(n => $"{n.Address}%{n.Ifindex}"))}]";
}

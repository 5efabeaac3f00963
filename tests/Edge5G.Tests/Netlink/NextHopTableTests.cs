using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Netlink;

namespace LoxiLb.Edge5G.Tests.Netlink;

/// <summary>Id allocation, reference counting and selective refresh, over a scripted resolver.</summary>
public class NextHopTableTests
{
    private static readonly IPAddress D1 = IPAddress.Parse("203.0.113.10");
    private static readonly IPAddress D2 = IPAddress.Parse("203.0.113.20");
    private static readonly IPAddress D3 = IPAddress.Parse("2001:db8:2::30");
    private static readonly IPAddress Gw = IPAddress.Parse("198.51.100.2");

    private readonly Dictionary<IPAddress, NextHopResolution> _answers = [];
    private readonly List<IPAddress> _asked = [];

    private NextHopTable Table(int capacity = 8) => new(d =>
    {
        _asked.Add(d);
        return _answers.TryGetValue(d, out var r) ? r : Hop(d, "02:00:00:00:00:01");
    }, monitor: null, capacity, owned: []);

    [Fact]
    public void SameDestination_SharesOneId_UntilTheLastRelease_AndFreedIdsAreReusedSmallestFirst()
    {
        using var table = Table();
        Assert.Equal(0, table.Acquire(D1).Id);
        Assert.Equal(1, table.Acquire(D2).Id);
        Assert.Equal(0, table.Acquire(IPAddress.Parse("::ffff:203.0.113.10")).Id); // IPv4-mapped is the same destination
        Assert.Equal(2, table.Acquire(D3).Id);
        Assert.Equal([D1, D2, D3], _asked); // held destinations are not resolved again

        Assert.True(table.Release(0));
        Assert.True(table.TryGet(0, out _)); // one reference left
        Assert.True(table.Release(0));
        Assert.False(table.TryGet(0, out _));
        Assert.True(table.Release(1));
        Assert.False(table.Release(1));
        Assert.False(table.Release(99));

        Assert.Equal(0, table.Acquire(IPAddress.Parse("192.0.2.1")).Id);
        Assert.Equal(1, table.Acquire(IPAddress.Parse("192.0.2.2")).Id);
        Assert.Equal(3, table.Acquire(IPAddress.Parse("192.0.2.3")).Id);
        Assert.Equal(4, table.Count);
    }

    [Fact]
    public void FullTable_Throws_WithoutLosingAnId()
    {
        using var table = Table(capacity: 2);
        table.Acquire(D1);
        table.Acquire(D2);
        var e = Assert.Throws<InvalidOperationException>(() => table.Acquire(D3));
        Assert.Equal("all 2 next-hop ids are in use", e.Message);
        Assert.DoesNotContain(D3, _asked); // nothing resolved (and no ARP sent) for a refused entry
        table.Release(1);
        Assert.Equal(1, table.Acquire(D3).Id);
    }

    [Fact]
    public void Refresh_ResolvesOnlyAffectedEntries_AndReportsOnlyThoseThatChanged()
    {
        using var table = Table();
        _answers[D1] = Hop(D1, "02:00:00:00:00:01");
        _answers[D2] = Hop(D2, "02:00:00:00:00:01");
        _answers[D3] = NextHopResolution.Unresolved(D3, UnresolvedReason.NoRoute, "no route");
        table.Acquire(D1);
        table.Acquire(D2);
        table.Acquire(D3);
        var reported = new List<IReadOnlyList<NextHopEntry>>();
        table.NextHopsChanged += reported.Add;

        // A route change for 203.0.113.16/28 concerns D2 only; D2's answer changed.
        _answers[D2] = Hop(D2, "02:00:00:00:00:02");
        _asked.Clear();
        var changed = table.Refresh(Change(routes: [IPNetwork.Parse("203.0.113.16/28")]));
        Assert.Equal([D2], _asked);
        Assert.Equal(1, Assert.Single(changed).Id);
        Assert.Same(changed, Assert.Single(reported));

        // A neighbour change for the gateway concerns D1 and D2, but neither changes.
        _asked.Clear();
        Assert.Empty(table.Refresh(Change(neighbours: [new NeighbourKey(5, Gw)])));
        Assert.Equal([D1, D2], _asked);
        Assert.Single(reported);

        // A link change on another interface concerns only the unresolved entry.
        _asked.Clear();
        table.Refresh(Change(interfaces: [9]));
        Assert.Equal([D3], _asked);

        // Lost notifications concern everything.
        _asked.Clear();
        table.Refresh(Change(kinds: RouteChangeKinds.Lost));
        Assert.Equal([D1, D2, D3], _asked);
    }

    [Fact]
    public void NeighbourStateAlone_IsNotAChange()
    {
        var mac = PhysicalAddress.Parse("02-00-00-00-00-01");
        var hop = new NextHop(5, "e5g-a0", mac, mac, 1500, Gw, null);
        Assert.Equal(NextHopResolution.Resolved(D1, hop, NeighbourState.Reachable),
            NextHopResolution.Resolved(D1, hop, NeighbourState.Stale));
        Assert.NotEqual(NextHopResolution.Resolved(D1, hop, NeighbourState.Reachable),
            NextHopResolution.Resolved(D1, hop with { Mtu = 1400 }, NeighbourState.Reachable));
    }

    private static NextHopResolution Hop(IPAddress destination, string mac) =>
        NextHopResolution.Resolved(destination,
            new NextHop(5, "e5g-a0", PhysicalAddress.Parse("02-00-00-00-00-aa"), PhysicalAddress.Parse(mac.Replace(':', '-')), 1500, Gw, null),
            NeighbourState.Reachable);

    private static RouteChange Change(RouteChangeKinds kinds = RouteChangeKinds.None, int[]? interfaces = null,
        IPNetwork[]? routes = null, NeighbourKey[]? neighbours = null) =>
        new(kinds, new HashSet<int>(interfaces ?? []), routes ?? [], new HashSet<NeighbourKey>(neighbours ?? []), 1);
}

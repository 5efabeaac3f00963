using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Netlink;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Netlink;

/// <summary>The resolver against real routes and neighbours in lab namespaces.</summary>
public class RouteResolverTests
{
    private static readonly PhysicalAddress OtherMac = PhysicalAddress.Parse("02-00-5E-00-53-01");

    [SkippableFact]
    public void OnLinkDestinations_WithStaticNeighbours_ResolveToInterfaceMacsAndMtu()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        lab.A.Run("ip", "link", "set", "dev", TwoHostLab.DevA, "mtu", "1400");
        lab.StaticNeighbourOnA(TwoHostLab.B4, lab.MacB);
        lab.StaticNeighbourOnA(TwoHostLab.B6, lab.MacB);
        using var resolver = lab.ResolverInA();

        foreach (var (destination, source) in new[] { (TwoHostLab.B4, TwoHostLab.A4), (TwoHostLab.B6, TwoHostLab.A6) })
        {
            var result = resolver.Resolve(destination);
            Assert.True(result.IsResolved, result.ToString());
            var hop = result.NextHop!;
            Assert.Equal(lab.IfindexA, hop.Ifindex);
            Assert.Equal(TwoHostLab.DevA, hop.InterfaceName);
            Assert.Equal(lab.MacA, hop.SourceMac);
            Assert.Equal(lab.MacB, hop.DestinationMac);
            Assert.Equal(1400, hop.Mtu);
            Assert.Equal(destination, hop.Gateway);
            Assert.True(hop.OnLink);
            Assert.Equal(source, hop.PreferredSource);
            Assert.Equal(NeighbourState.Permanent, result.NeighbourState);
        }
    }

    [SkippableFact]
    public void GatewayRoutes_ResolveToTheGatewaysMac_AndTheRouteMtu()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        lab.A.Run("ip", "route", "add", "203.0.113.128/25", "via", "203.0.113.2");
        lab.A.Run("ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.2", "mtu", "1300");
        lab.A.Run("ip", "-6", "route", "add", "2001:db8:ff::/48", "via", "2001:db8:1::2");
        lab.StaticNeighbourOnA(TwoHostLab.GatewayB4, lab.MacB);
        lab.StaticNeighbourOnA(TwoHostLab.B4, OtherMac);
        lab.StaticNeighbourOnA(TwoHostLab.B6, lab.MacB);
        using var resolver = lab.ResolverInA();

        var viaGateway = resolver.Resolve(IPAddress.Parse("203.0.113.200")).NextHop;
        Assert.NotNull(viaGateway);
        Assert.Equal(TwoHostLab.GatewayB4, viaGateway.Gateway);
        Assert.False(viaGateway.OnLink);
        Assert.Equal(lab.MacB, viaGateway.DestinationMac);
        Assert.Equal(IPAddress.Parse("203.0.113.1"), viaGateway.PreferredSource);
        Assert.Equal(1500, viaGateway.Mtu);

        var withMtu = resolver.Resolve(IPAddress.Parse("192.0.2.10")).NextHop;
        Assert.NotNull(withMtu);
        Assert.Equal(TwoHostLab.B4, withMtu.Gateway);
        Assert.Equal(OtherMac, withMtu.DestinationMac);
        Assert.Equal(1300, withMtu.Mtu);

        var v6 = resolver.Resolve(IPAddress.Parse("2001:db8:ff::7")).NextHop;
        Assert.NotNull(v6);
        Assert.Equal(TwoHostLab.B6, v6.Gateway);
        Assert.Equal(lab.MacB, v6.DestinationMac);
        Assert.Equal(lab.IfindexA, v6.Ifindex);
    }

    [SkippableFact]
    public void LinkLocalGateways_IPv6NextHopsOfIPv4Routes_AndScopedDestinations_Resolve()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        var linkLocalB = lab.LinkLocalB;
        // The usual IPv6 default route: via the router's link-local address.
        lab.A.Run("ip", "-6", "route", "add", "2001:db8:ee::/48", "via", linkLocalB.ToString(), "dev", TwoHostLab.DevA);
        // RFC 5549 style: an IPv4 prefix whose next hop is an IPv6 address (RTA_VIA).
        lab.A.Run("ip", "route", "add", "192.0.2.0/24", "via", "inet6", TwoHostLab.B6.ToString(), "dev", TwoHostLab.DevA);
        lab.StaticNeighbourOnA(linkLocalB, lab.MacB);
        lab.StaticNeighbourOnA(TwoHostLab.B6, lab.MacB);
        using var resolver = lab.ResolverInA();

        var viaLinkLocal = resolver.Resolve(IPAddress.Parse("2001:db8:ee::1")).NextHop;
        Assert.NotNull(viaLinkLocal);
        Assert.Equal(linkLocalB, viaLinkLocal.Gateway);
        Assert.Equal(lab.MacB, viaLinkLocal.DestinationMac);

        var v4ViaV6 = resolver.Resolve(IPAddress.Parse("192.0.2.1")).NextHop;
        Assert.NotNull(v4ViaV6);
        Assert.Equal(TwoHostLab.B6, v4ViaV6.Gateway);
        Assert.Equal(lab.MacB, v4ViaV6.DestinationMac);

        var scoped = new IPAddress(linkLocalB.GetAddressBytes(), lab.IfindexA);
        var direct = resolver.Resolve(scoped).NextHop;
        Assert.NotNull(direct);
        Assert.Equal(lab.IfindexA, direct.Ifindex);
        Assert.True(direct.OnLink);
        Assert.Equal(lab.MacB, direct.DestinationMac);
    }

    [SkippableFact]
    public void UnknownNeighbour_IsReportedUnresolved_ThenResolvedAfterTheRequestedResolution()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        lab.A.Run("ip", "route", "add", "203.0.113.128/25", "via", "203.0.113.2");
        using var resolver = lab.ResolverInA();

        foreach (var (destination, gateway) in new[]
                 {
                     (IPAddress.Parse("203.0.113.200"), TwoHostLab.GatewayB4),
                     (TwoHostLab.B6, TwoHostLab.B6),
                 })
        {
            var quiet = resolver.Resolve(destination, requestNeighbourResolution: false);
            Assert.Equal(UnresolvedReason.NeighbourUnresolved, quiet.Reason);
            Assert.Contains("not in the neighbour table", quiet.Detail);

            var first = resolver.Resolve(destination);
            Assert.False(first.IsResolved);
            Assert.Equal(UnresolvedReason.NeighbourUnresolved, first.Reason);
            Assert.Equal(gateway, first.Gateway);
            Assert.Equal(lab.IfindexA, first.Ifindex);
            Assert.Contains("resolution requested", first.Detail);

            NextHopResolution? later = null;
            Assert.True(TwoHostLab.Eventually(() => (later = resolver.Resolve(destination)).IsResolved, TimeSpan.FromSeconds(2)),
                $"still unresolved: {later}");
            Assert.Equal(lab.MacB, later!.NextHop!.DestinationMac);
            Assert.Equal(gateway, later.NextHop.Gateway);
        }
    }

    [SkippableFact]
    public void RejectRoutesAndMissingRoutes_HavePreciseReasons()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        foreach (var (kind, prefix) in new[]
                 {
                     ("blackhole", "192.0.2.0/26"), ("unreachable", "192.0.2.64/26"), ("prohibit", "192.0.2.128/26"),
                     ("blackhole", "2001:db8:b::/48"), ("unreachable", "2001:db8:c::/48"), ("prohibit", "2001:db8:d::/48"),
                 })
            lab.A.Run("ip", "route", "add", kind, prefix);
        using var resolver = lab.ResolverInA();

        Assert.Equal(UnresolvedReason.Blackhole, resolver.Resolve(IPAddress.Parse("192.0.2.1")).Reason);
        Assert.Equal(UnresolvedReason.Unreachable, resolver.Resolve(IPAddress.Parse("192.0.2.65")).Reason);
        Assert.Equal(UnresolvedReason.Prohibited, resolver.Resolve(IPAddress.Parse("192.0.2.129")).Reason);
        Assert.Equal(UnresolvedReason.NoRoute, resolver.Resolve(IPAddress.Parse("192.0.2.200")).Reason);
        Assert.Equal(UnresolvedReason.Blackhole, resolver.Resolve(IPAddress.Parse("2001:db8:b::1")).Reason);
        Assert.Equal(UnresolvedReason.Unreachable, resolver.Resolve(IPAddress.Parse("2001:db8:c::1")).Reason);
        Assert.Equal(UnresolvedReason.Prohibited, resolver.Resolve(IPAddress.Parse("2001:db8:d::1")).Reason);
        var none = resolver.Resolve(IPAddress.Parse("2001:db8:e::1"));
        Assert.Equal(UnresolvedReason.NoRoute, none.Reason);
        Assert.Contains("ENETUNREACH", none.Detail);
    }

    [SkippableFact]
    public void LocalAddresses_LoopbackRoutes_AndALinkWithoutCarrier_AreNotUsableNextHops()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        lab.A.Run("ip", "route", "add", "192.0.2.0/24", "dev", "lo");
        lab.StaticNeighbourOnA(TwoHostLab.B4, lab.MacB);
        using var resolver = lab.ResolverInA();

        Assert.Equal(UnresolvedReason.LocalDestination, resolver.Resolve(TwoHostLab.A4).Reason);
        Assert.Equal(UnresolvedReason.LocalDestination, resolver.Resolve(TwoHostLab.A6).Reason);
        var loopback = resolver.Resolve(IPAddress.Parse("192.0.2.1"));
        Assert.Equal(UnresolvedReason.NotEthernet, loopback.Reason);
        Assert.Contains("lo", loopback.Detail);
        Assert.Equal(UnresolvedReason.UnsupportedRouteType, resolver.Resolve(IPAddress.Parse("198.51.100.255")).Reason);

        // The peer end going down takes A's carrier away; the connected route stays (linkdown).
        lab.B.Run("ip", "link", "set", TwoHostLab.DevB, "down");
        var down = resolver.Resolve(TwoHostLab.B4);
        Assert.Equal(UnresolvedReason.InterfaceDown, down.Reason);
        Assert.Equal(lab.IfindexA, down.Ifindex);
        Assert.Contains("no carrier", down.Detail);

        // Taking A's own end down removes its routes altogether.
        lab.A.Run("ip", "link", "set", TwoHostLab.DevA, "down");
        Assert.Equal(UnresolvedReason.NoRoute, resolver.Resolve(TwoHostLab.B4).Reason);
    }

    [SkippableFact]
    public void AResolverCreatedOutsideTheLab_DoesNotSeeTheLabsRoutes()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        lab.A.Run("ip", "route", "add", "blackhole", "192.0.2.0/24");
        using var inLab = lab.ResolverInA();
        using var outside = new RouteResolver();
        Assert.Equal(UnresolvedReason.Blackhole, inLab.Resolve(IPAddress.Parse("192.0.2.1")).Reason);
        Assert.NotEqual(UnresolvedReason.Blackhole, outside.Resolve(IPAddress.Parse("192.0.2.1")).Reason);
    }
}

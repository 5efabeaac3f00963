using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// Framed routing over PFCP (FRRT, TS 29.244 5.2.1A): Framed-Route and Framed-IPv6-Route carry
/// RADIUS attribute text (RFC 2865 5.22, RFC 3162 2.5); Framed-Routing (RFC 2865 5.10) is
/// accepted. Each route becomes a key of the framed_routes trie publishing its PDR's match.
/// </summary>
public class FramedRoutingTests
{
    private static PfcpIe Route(string text) => PfcpIe.Raw(IeType.FramedRoute, OctetString.FromAscii(text));
    private static PfcpIe Route6(string text) => PfcpIe.Raw(IeType.FramedIpv6Route, OctetString.FromAscii(text));
    private static PfcpIe Routing(params byte[] value) => PfcpIe.Raw(IeType.FramedRouting, value);

    /// <summary>The node's usual establishment with <paramref name="downlink"/> in PDR 2's PDI and <paramref name="uplink"/> in PDR 1's.</summary>
    private static SessionEstablishmentRequest WithFramed(NodeUnderTest n, ulong cpSeid, PfcpIe[] downlink, PfcpIe[]? uplink = null)
    {
        var request = n.EstablishmentRequest(cpSeid);
        var pdrs = request.CreatePdrs.ToArray();
        pdrs[0] = pdrs[0] with { Pdi = pdrs[0].Pdi with { Other = ValueList.Create<PfcpIe>(uplink ?? []) } };
        pdrs[1] = pdrs[1] with { Pdi = pdrs[1].Pdi with { Other = ValueList.Create<PfcpIe>(downlink) } };
        return request with { CreatePdrs = [.. pdrs] };
    }

    private static Dictionary<RouteKey, MatchEntry> Trie(NodeUnderTest n) =>
        ((MemoryTable<RouteKey, MatchEntry>)n.Tables.FramedRoutes).Entries;

    [Fact]
    public void Establishment_WithFramedRoutes_InstallsEachAsAKeyOfItsPdr_AndTheUplinkPdrAcceptsThem()
    {
        using var n = new NodeUnderTest();
        n.Associate();

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithFramed(n, 0x20,
            // A host route without a length, a network with gateway and metric, the same network
            // again (one route), an IPv6 route, and Framed-Routing "listen".
            downlink: [Route("203.0.113.77"), Route("203.0.113.128/25 192.0.2.1 1"), Route("203.0.113.128/25"),
                Route6("2001:db8:aa::/48 :: 1"), Routing(0, 0, 0, 2)],
            uplink: [Route("203.0.113.128/25 192.0.2.1 1")])).Body);

        Assert.Equal(PfcpCause.RequestAccepted, response.Cause);
        Assert.True(n.Table.TryGet(response.UpFSeid!.Seid, out var compiled));
        var pdrs = compiled.Session.Pdrs.ToDictionary(p => p.Id);
        Assert.Equal(["203.0.113.77/32", "203.0.113.128/25", "2001:db8:aa::/48"], pdrs[2].Pdi.Routes.Select(r => r.ToString()));
        Assert.Equal(["203.0.113.128/25"], pdrs[1].Pdi.Routes.Select(r => r.ToString()));
        // Each downlink route publishes PDR 2 (only downlink PDRs are looked up by destination).
        var trie = Trie(n);
        Assert.Equal(["2001:db8:aa::/48", "203.0.113.128/25", "203.0.113.77/32"], trie.Keys.Select(k => k.ToString()).Order());
        Assert.Equal(128U, trie.Keys.Single(k => k.ToString() == "203.0.113.77/32").Prefixlen); // IPv4-mapped: 96 + 32
        var pdr2 = compiled.PdrSlotById[2];
        Assert.All(trie.Values, m => Assert.Equal(pdr2, m.Pdr));
        Assert.Contains(n.Table.Occupancy(), o => o == ("framed_routes", 3U, n.Tables.FramedRoutes.Capacity));

        // Deleting the session takes its routes out.
        Assert.Equal(PfcpCause.RequestAccepted,
            Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), response.UpFSeid.Seid).Body).Cause);
        Assert.Empty(trie);
    }

    public static TheoryData<string, PfcpIe> Malformed => new()
    {
        { "bits past the length", Route("203.0.113.129/25 0.0.0.0 1") },
        { "length out of range", Route("203.0.113.0/33") },
        { "default route", Route("0.0.0.0/0 0.0.0.0 1") },
        { "IPv6 in Framed-Route", Route("2001:db8::/32") },
        { "IPv4 in Framed-IPv6-Route", Route6("203.0.113.0/24 0.0.0.0 1") },
        { "not an address", Route6("gateway-7/48") },
        { "empty", Route("") },
        { "Framed-Routing of 2 octets", Routing(0, 1) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AMalformedFramedRoute_IsRuleCreationFailure_NamingThePdrAndTheIe_AndNothingIsInstalled(string what, PfcpIe ie)
    {
        using var n = new NodeUnderTest();
        n.Associate();

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithFramed(n, 0x21, downlink: [Route("198.51.100.0/24"), ie])).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 2), response.FailedRuleId);
        Assert.Equal(ie.Type, response.OffendingIe);
        Assert.Equal(0, n.Table.Count);
        Assert.Empty(Trie(n));
        _ = what; // names the case in the test list
    }

    [Fact]
    public void ARouteAnotherSessionOwns_IsRefused_AndTheFirstKeepsIt()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var first = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithFramed(n, 0x22, downlink: [Route("198.51.100.0/24")])).Body);
        Assert.Equal(PfcpCause.RequestAccepted, first.Cause);

        var second = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithFramed(n, 0x23, downlink: [Route("198.51.100.0/24 0.0.0.0 5")])).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, second.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 2), second.FailedRuleId);
        Assert.Equal(1, n.Table.Count);
        Assert.True(n.Table.TryGet(first.UpFSeid!.Seid, out var owner));
        Assert.Equal(owner.PdrSlotById[2], Assert.Single(Trie(n)).Value.Pdr);
        // A longer route inside it is another key, and is accepted.
        var third = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithFramed(n, 0x24, downlink: [Route("198.51.100.64/26")])).Body);
        Assert.Equal(PfcpCause.RequestAccepted, third.Cause);
        Assert.Equal(2, Trie(n).Count);
    }

    [Fact]
    public void UpdatePdr_WithOtherRoutes_ReplacesTheKeys()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithFramed(n, 0x25, downlink: [Route("198.51.100.0/24")])).Body).UpFSeid!.Seid;
        Assert.True(n.Table.TryGet(seid, out var before));
        var pdi = before.Session.Pdrs.Single(p => p.Id == 2).Pdi;

        var update = n.Request(new SessionModificationRequest
        {
            UpdatePdrs = [new UpdatePdr(2)
            {
                Pdi = new Pdi(SourceInterface.Core)
                {
                    UeIpAddresses = [new UeIpAddress { Ipv4 = pdi.UeIpv4, IsDestination = true }],
                    Other = [Route("198.51.100.128/25"), Route6("2001:db8:bb::/56")],
                },
            }],
        }, seid);

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(update.Body).Cause);
        Assert.Equal(["198.51.100.128/25", "2001:db8:bb::/56"], Trie(n).Keys.Select(k => k.ToString()).Order());
    }
}

using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Datapath.Sdf;
using LoxiLb.Edge5G.Datapath.Tables;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// Framed routes without the kernel: the two text forms (rules files, RADIUS text in PFCP),
/// "assigned" in SDF filters, the JSON form, the trie keys and the compiler's refusals.
/// </summary>
public class FramedRouteModelTests
{
    [Theory]
    [InlineData("192.0.2.128/26 0.0.0.0 1", false, "192.0.2.128/26")]
    [InlineData("192.0.2.7", false, "192.0.2.7/32")]          // no length: one host
    [InlineData("  198.51.100.0/24  ", false, "198.51.100.0/24")]
    [InlineData("2001:db8:77::/48 :: 1", true, "2001:db8:77::/48")]
    [InlineData("2001:db8:77::5", true, "2001:db8:77::5/128")]
    public void RadiusText_GivesItsPrefix(string text, bool ipv6, string expected)
    {
        Assert.Equal(expected, FramedRoutes.ParseRadius(text, ipv6).ToString());
    }

    [Theory]
    [InlineData("192.0.2.129/26", false, "bits are set past the prefix length (the network is 192.0.2.128/26)")]
    [InlineData("192.0.2.0/33", false, "prefix length '33' is not a number from 1 to 32")]
    [InlineData("192.0.2.0/-1", false, "prefix length '-1' is not a number from 1 to 32")]
    [InlineData("0.0.0.0/0 0.0.0.0 1", false, "a route of length 0 would take every destination")]
    [InlineData("2001:db8::/32", false, "Framed-Route holds IPv4 routes")]
    [InlineData("192.0.2.0/24", true, "Framed-IPv6-Route holds IPv6 routes")]
    [InlineData("fe80::1%eth0/64", true, "is not an IP address")]
    [InlineData("", false, "Framed-Route is empty")]
    public void BadRadiusText_IsRefusedWithTheReason(string text, bool ipv6, string reason)
    {
        var e = Assert.Throws<FormatException>(() => FramedRoutes.ParseRadius(text, ipv6));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ThePrefixForm_NeedsALength()
    {
        Assert.Equal("2001:db8:77::/48", FramedRoutes.ParsePrefix("2001:db8:77::/48").ToString());
        Assert.Contains("is not a prefix (address/length)", Assert.Throws<FormatException>(() => FramedRoutes.ParsePrefix("192.0.2.7")).Message);
    }

    [Fact]
    public void TrieKeys_MapIpv4IntoIpv6_AndPrintAsWritten()
    {
        var v4 = RouteKey.Create(IPNetwork.Parse("192.0.2.128/26"));
        Assert.Equal(96U + 26, v4.Prefixlen);
        Assert.Equal("192.0.2.128/26", v4.ToString());
        var v6 = RouteKey.Create(IPNetwork.Parse("2001:db8:77::/48"));
        Assert.Equal(48U, v6.Prefixlen);
        Assert.Equal("2001:db8:77::/48", v6.ToString());
        Assert.NotEqual(v4, RouteKey.Create(IPNetwork.Parse("192.0.2.128/25")));
        Assert.Equal(v4, RouteKey.Create(IPNetwork.Parse("192.0.2.128/26")));
    }

    [Fact]
    public void Assigned_CoversTheFramedRoutesOfItsFamily()
    {
        var flow = FlowDescription.Parse("permit out 17 from any to assigned");
        var routes = new[] { IPNetwork.Parse("192.0.2.128/26"), IPNetwork.Parse("2001:db8:77::/48") };

        var filters = PacketFilter.Resolve(flow, uplink: false, Ue, null, framedRoutes: routes);

        Assert.Equal([("192.0.2.10", 32), ("192.0.2.128", 26), ("2001:db8:77::", 48)],
            filters.Select(f => (f.Destination!.ToString(), f.DestinationPrefix)));
        var v4Only = PacketFilter.Resolve(FlowDescription.Parse("permit out ip from 203.0.113.0/24 to assigned"), uplink: true, Ue, null, framedRoutes: routes);
        Assert.Equal([("192.0.2.10", 32), ("192.0.2.128", 26)], v4Only.Select(f => (f.Source!.ToString(), f.SourcePrefix)));
    }

    [Fact]
    public void RulesJson_CarriesFramedRoutes_BothWays_AndNamesABadOne()
    {
        var session = Basic() with { Pdrs = [.. Basic().Pdrs.Select(p => p with { Pdi = p.Pdi with { FramedRoutes = [IPNetwork.Parse("192.0.2.128/26")] } })] };

        var json = RulesJson.FromModel(session);

        Assert.Equal(["192.0.2.128/26"], json.Pdrs[1].FramedRoutes!);
        var back = RulesJson.ToModel(JsonSerializer.Deserialize<SessionJson>(JsonSerializer.Serialize(json, RulesDocument.JsonOptions), RulesDocument.JsonOptions)!, "s");
        Assert.Equal(session.Pdrs[1].Pdi.Routes.ToArray(), back.Pdrs[1].Pdi.Routes.ToArray());
        var bad = json with { Pdrs = [json.Pdrs[0], json.Pdrs[1] with { FramedRoutes = ["192.0.2.129/26"] }] };
        var e = Assert.Throws<RulesFormatException>(() => RulesJson.ToModel(bad, "sessions[0]"));
        Assert.Equal("sessions[0].pdrs[1].framedRoutes[0]: framed route '192.0.2.129/26': bits are set past the prefix length (the network is 192.0.2.128/26)", e.Message);
    }

    [Fact]
    public void Compiler_RefusesADefaultRoute_AndAFullTrie_ChangingNothing()
    {
        var tables = DatapathTables.InMemory(sessions: 4) with { FramedRoutes = new MemoryTable<RouteKey, MatchEntry>(2) };
        var table = new SessionTable(tables, new GtpAddresses(N3));
        Session With(ulong seid, uint teid, string ue, params string[] routes)
        {
            var s = Basic(seid, teid, IPAddress.Parse(ue), teid + 100);
            return s with { Pdrs = [s.Pdrs[0], s.Pdrs[1] with { Pdi = s.Pdrs[1].Pdi with { FramedRoutes = [.. routes.Select(IPNetwork.Parse)] } }] };
        }

        var everything = Assert.Throws<RuleException>(() => table.Establish(With(1, 0x100, "192.0.2.10", "0.0.0.0/0")));
        Assert.Equal("PDR 2: framed route 0.0.0.0/0 would take every destination", everything.Message);

        table.Establish(With(2, 0x200, "192.0.2.20", "198.51.100.0/25", "198.51.100.128/25"));
        var full = Assert.Throws<RuleException>(() => table.Establish(With(3, 0x300, "192.0.2.30", "203.0.113.0/24")));
        Assert.Equal(RuleError.NoResources, full.Error);
        Assert.Equal("table framed_routes is full: 1 more needed, 0 free of 2", full.Message);
        Assert.Equal(1, table.Count);
        Assert.Equal(2, ((MemoryTable<RouteKey, MatchEntry>)tables.FramedRoutes).Entries.Count);
        // A modification keeping one route and dropping the other needs no room.
        table.Modify(With(2, 0x200, "192.0.2.20", "198.51.100.0/25"));
        Assert.Equal(["198.51.100.0/25"], ((MemoryTable<RouteKey, MatchEntry>)tables.FramedRoutes).Entries.Keys.Select(k => k.ToString()));
    }

    [Fact]
    public void Compiler_ADownlinkPdrWithOnlyFramedRoutes_IsAccepted_AnUplinkPdrWithRoutesGetsARuleList()
    {
        var tables = DatapathTables.InMemory(sessions: 4);
        var table = new SessionTable(tables, new GtpAddresses(N3));
        var basic = Basic();
        var session = basic with
        {
            Pdrs =
            [
                basic.Pdrs[0] with { Pdi = basic.Pdrs[0].Pdi with { FramedRoutes = [IPNetwork.Parse("198.51.100.0/24")] } },
                basic.Pdrs[1] with { Pdi = new Pdi(InterfaceType.Core, FramedRoutes: [IPNetwork.Parse("198.51.100.0/24")]) },
            ],
        };

        var compiled = table.Establish(session);

        var match = Assert.Single(((MemoryTable<RouteKey, MatchEntry>)tables.FramedRoutes).Entries).Value;
        Assert.Equal(compiled.PdrSlotById[2], match.Pdr);
        Assert.Empty(((MemoryTable<uint, MatchEntry>)tables.Ue4).Entries); // the PDR names no UE address
        // The uplink PDR's F-TEID leads to a rule list: the UE /32 and the route, as sources.
        var uplink = Assert.Single(((MemoryTable<FteidKey, MatchEntry>)tables.Fteids).Entries).Value;
        Assert.Equal(AbiConstants.None, uplink.Pdr);
        var list = ((MemoryTable<uint, RuleListEntry>)tables.RuleLists).Entries[uplink.RuleList];
        Assert.Equal(2U, list.Count);
    }
    [Fact]
    public void ARestartedTable_AdoptsTheRoutes_AndSweepsOneNoRecordOwns()
    {
        var tables = DatapathTables.InMemory(sessions: 8);
        var first = new SessionTable(tables, new GtpAddresses(N3));
        var basic = Basic();
        var routed = basic with { Pdrs = [basic.Pdrs[0], basic.Pdrs[1] with { Pdi = basic.Pdrs[1].Pdi with { FramedRoutes = [IPNetwork.Parse("198.51.100.0/24")] } }] };
        first.Establish(routed);
        var records = first.Export();
        var trie = (MemoryTable<RouteKey, MatchEntry>)tables.FramedRoutes;
        var kept = trie.Entries.Single();
        // A route the previous process published after its last save.
        trie.Put(RouteKey.Create(IPNetwork.Parse("203.0.113.0/24")), kept.Value);

        var second = new SessionTable(tables, new GtpAddresses(N3));
        var orphans = second.Adopt(records);

        Assert.Equal(1, orphans);
        Assert.Equal([kept.Key], trie.Entries.Keys.ToArray());
        Assert.Equal(kept.Value.Pdr, trie.Entries[kept.Key].Pdr);
        // The adopted session owns its route again.
        var other = Basic(2, 0x2000, IPAddress.Parse("192.0.2.20"), 0x2100);
        var claim = other with { Pdrs = [other.Pdrs[0], other.Pdrs[1] with { Pdi = other.Pdrs[1].Pdi with { FramedRoutes = [IPNetwork.Parse("198.51.100.0/24")] } }] };
        var e = Assert.Throws<RuleException>(() => second.Establish(claim));
        Assert.Equal("framed route 198.51.100.0/24 already belongs to session SEID 1", e.Message);
    }
    [Fact]
    public void AnUplinkPdr_ChecksAtMostARuleListOfSources_AndOneMoreRouteIsRefused()
    {
        var table = new SessionTable(DatapathTables.InMemory(sessions: 4, ruleLists: 8, sdfFilters: 64), new GtpAddresses(N3));
        var basic = Basic();
        Session WithUplinkRoutes(int n) => basic with
        {
            Pdrs = [basic.Pdrs[0] with { Pdi = basic.Pdrs[0].Pdi with { FramedRoutes = [.. Enumerable.Range(0, n).Select(i => IPNetwork.Parse($"198.51.100.{i * 8}/29"))] } }, basic.Pdrs[1]],
        };

        var e = Assert.Throws<RuleException>(() => table.Establish(WithUplinkRoutes(AbiConstants.RulesPerList)));

        Assert.Equal(RuleError.NoResources, e.Error);
        Assert.Equal($"the PDRs matching fteid {UplinkTeid:x8}@{N3} need {AbiConstants.RulesPerList + 1} rules; the datapath holds {AbiConstants.RulesPerList} per tunnel or UE address", e.Message);
        Assert.Equal(0, table.Count);
        table.Establish(WithUplinkRoutes(AbiConstants.RulesPerList - 1)); // the UE address and 15 routes fit
    }
    /// <summary>The keys of one downlink PDR with SDF filters (its UE address, its routes) share one rule list and its filters.</summary>
    [Fact]
    public void KeysOfOnePdr_ShareOneRuleList()
    {
        var tables = DatapathTables.InMemory(sessions: 4, ruleLists: 8, sdfFilters: 16);
        var table = new SessionTable(tables, new GtpAddresses(N3));
        var basic = Basic();
        var filtered = basic with
        {
            Pdrs =
            [
                basic.Pdrs[0],
                basic.Pdrs[1] with
                {
                    Pdi = basic.Pdrs[1].Pdi with
                    {
                        SdfFilters = [new SdfFilter("permit out 17 from any to assigned")],
                        FramedRoutes = [IPNetwork.Parse("198.51.100.0/25"), IPNetwork.Parse("198.51.100.128/25")],
                    },
                },
            ],
        };

        table.Establish(filtered);

        var inUse = table.Occupancy().ToDictionary(o => o.Table, o => o.InUse);
        Assert.Equal((1U, 3U), (inUse["rule_lists"], inUse["sdf_filters"])); // one list; "assigned": the UE /32 and the two routes
        var lists = new[] { ((MemoryTable<uint, MatchEntry>)tables.Ue4).Entries.Values.Single().RuleList }
            .Concat(((MemoryTable<RouteKey, MatchEntry>)tables.FramedRoutes).Entries.Values.Select(m => m.RuleList)).Distinct();
        Assert.Single(lists);
        table.Delete(1);
        Assert.Equal(0U, table.Occupancy().Single(o => o.Table == "rule_lists").InUse);
    }
}

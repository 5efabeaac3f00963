using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// Framed routing (TS 29.244 5.2.1A): networks behind a UE, through the real XDP program.
/// Downlink to them is encapsulated towards the UE's tunnel, uplink from them is accepted by
/// the uplink PDR that names them; the longest route wins, and a UE's own address before any.
/// </summary>
public class GtpFramedRouteTests
{
    private static readonly IPNetwork Behind = IPNetwork.Parse("192.0.2.128/26");
    private static readonly IPNetwork Behind6 = IPNetwork.Parse("2001:db8:77::/48");

    /// <summary><see cref="TestSessions.Basic"/> with framed routes on both its PDRs.</summary>
    private static Session Routed(ulong seid = 1, uint ulTeid = UplinkTeid, IPAddress? ue = null, uint dlTeid = DownlinkTeid,
        params IPNetwork[] routes)
    {
        var s = Basic(seid, ulTeid, ue, dlTeid);
        return s with
        {
            Pdrs = [.. s.Pdrs.Select(p => p with { Pdi = p.Pdi with { FramedRoutes = [.. routes] } })],
        };
    }

    [SkippableFact]
    public void Downlink_IntoTheUesFramedRoute_IsEncapsulatedOnItsTunnel_AndOutsideItGoesToTheStack()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Routed(routes: Behind));
        var packet = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.130"), 5001, 40000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
        Assert.Equal(new Counter { Packets = 1, Bytes = (ulong)packet.TotalLength }, h.PdrCounter(1, 2));

        // Just past the /26: not ours.
        var outside = Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.192"), 5001, 40000));
        var passed = h.Run(outside);
        Assert.Equal(XdpAction.Pass, passed.Verdict);
        PacketAssert.Equal(outside, passed.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.PassNotOurs));
    }

    [SkippableFact]
    public void Downlink_TheLongestRouteWins_AndAUesOwnAddressInsideAnothersRoute_ReachesThatUe()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        // Session 1 routes the /26; session 2 the covering /25, and its own UE address lies
        // inside session 1's /26.
        h.Sessions.Establish(Routed(routes: Behind));
        h.Sessions.Establish(Routed(seid: 2, ulTeid: UplinkTeid + 1, ue: IPAddress.Parse("192.0.2.140"), dlTeid: DownlinkTeid + 1,
            routes: IPNetwork.Parse("192.0.2.128/25")));

        foreach (var (destination, teid) in new[] { ("192.0.2.130", DownlinkTeid), ("192.0.2.200", DownlinkTeid + 1), ("192.0.2.140", DownlinkTeid + 1) })
        {
            var packet = InnerUdp4(LocalServer, IPAddress.Parse(destination), 5001, 40000);

            var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

            Assert.Equal(XdpAction.Tx, run.Verdict);
            PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, teid, Forwarded(packet), qfi: 9), run.Output);
        }
        // Session 1 gone: its /26 falls back to the covering /25 of session 2.
        h.Sessions.Delete(1);
        var again = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.130"), 5001, 40000);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid + 1, Forwarded(again), qfi: 9),
            h.Run(Ethernet(RouterMac, GatewayMac, again)).Output);
        h.Sessions.Delete(2);
        Assert.Equal(XdpAction.Pass, h.Run(Ethernet(RouterMac, GatewayMac, again)).Verdict);
        Assert.Empty(h.Datapath.Tables.FramedRoutes.Keys());
    }

    [SkippableFact]
    public void DownlinkIpv6_IntoAFramedIpv6Route_IsEncapsulated()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Routed(routes: Behind6));
        var packet = InnerUdp6(Serverv6, IPAddress.Parse("2001:db8:77:5::1"), 443, 50000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
        Assert.Equal(XdpAction.Pass, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp6(Serverv6, IPAddress.Parse("2001:db8:78::1"), 443, 50000))).Verdict);
    }

    [SkippableFact]
    public void Uplink_FromTheFramedNetwork_IsDecapsulated_FromAnywhereElse_Dropped()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Routed(routes: Behind));

        foreach (var source in new[] { "192.0.2.130", "192.0.2.10" }) // a host behind the UE, the UE itself
        {
            var inner = InnerUdp4(IPAddress.Parse(source), LocalServer, 40000, 5001);

            var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

            Assert.Equal(XdpAction.Tx, run.Verdict);
            PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), run.Output);
        }
        Assert.Equal(2UL, h.PdrCounter(1, 1).Packets);

        var spoofed = h.Run(Uplink(UplinkTeid, InnerUdp4(IPAddress.Parse("192.0.2.66"), LocalServer, 40000, 5001), qfi: 9));
        Assert.Equal(XdpAction.Drop, spoofed.Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropNoRule));
    }

    [SkippableFact]
    public void AModificationMovingTheRoute_TakesTheOldNetworkOut_AndPutsTheNewOneIn()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Routed(routes: Behind));
        var moved = IPNetwork.Parse("192.0.2.64/27");

        h.Sessions.Modify(Routed(routes: moved));

        Assert.Equal(XdpAction.Pass, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.130"), 1, 2))).Verdict);
        var packet = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.70"), 1, 2);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9),
            h.Run(Ethernet(RouterMac, GatewayMac, packet)).Output);
        Assert.Equal([RouteKey.Create(moved)], h.Datapath.Tables.FramedRoutes.Keys().ToArray());
    }
    /// <summary>"assigned" in a downlink SDF filter covers the framed routes: the filter applies to packets into them.</summary>
    [SkippableFact]
    public void ADownlinkSdfFilterToAssigned_CoversTheFramedRoute()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var s = Routed(routes: Behind);
        h.Sessions.Establish(s with
        {
            Pdrs = [s.Pdrs[0], s.Pdrs[1] with { Pdi = s.Pdrs[1].Pdi with { SdfFilters = [new SdfFilter("permit out 17 from any 5000-5100 to assigned")] } }],
        });
        var inside = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.150"), 5001, 40000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, inside));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(inside), qfi: 9), run.Output);
        // Into the route, but from a port the filter does not name: no rule of the session matches.
        var other = h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.150"), 6001, 40000)));
        Assert.Equal(XdpAction.Drop, other.Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropNoRule));
    }
    /// <summary>A restarted gateway adopts the routes in the kernel's trie and sweeps one no saved session owns.</summary>
    [SkippableFact]
    public void ARestartedTable_AdoptsTheTriesRoutes_AndSweepsAnOrphan()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Routed(routes: [Behind, Behind6, IPNetwork.Parse("198.51.100.0/24")]));
        var records = h.Sessions.Export();
        var trie = h.Datapath.Tables.FramedRoutes;
        Assert.True(trie.TryGet(RouteKey.Create(Behind), out var match));
        trie.Put(RouteKey.Create(IPNetwork.Parse("203.0.113.0/24")), match); // published after the last save

        // A new process: tables of its own over the same maps (nothing written by them yet).
        var tables = DatapathTables.FromObject(h.Datapath.Object, h.Datapath.Options.Dense);
        var restarted = new SessionTable(tables, new GtpAddresses(N3, N3v6), h.NextHops);

        Assert.Equal(1, restarted.Adopt(records));
        Assert.Equal(["192.0.2.128/26", "198.51.100.0/24", "2001:db8:77::/48"], trie.Keys().Select(k => k.ToString()).Order());
        // Keys it did not write read exactly: the adopted route's own value, an absent prefix inside it absent.
        Assert.True(tables.FramedRoutes.TryGet(RouteKey.Create(Behind), out var adopted));
        Assert.Equal(match.Pdr, adopted.Pdr);
        Assert.False(tables.FramedRoutes.TryGet(RouteKey.Create(IPNetwork.Parse("192.0.2.160/27")), out _));
        var packet = InnerUdp4(LocalServer, IPAddress.Parse("198.51.100.7"), 5001, 40000);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9),
            h.Run(Ethernet(RouterMac, GatewayMac, packet)).Output);
        Assert.Equal(XdpAction.Pass, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, IPAddress.Parse("203.0.113.7"), 1, 2))).Verdict);
        restarted.Delete(1);
        Assert.Empty(trie.Keys());
    }
    /// <summary>
    /// Nested routes of two sessions at one address (192.0.2.128/25 and /26): a modification of
    /// the /25's session that the kernel refuses halfway puts the /25's own value back, and the
    /// table reads an absent prefix as absent, not as the shorter route covering it (the
    /// kernel's trie lookup would).
    /// </summary>
    [SkippableFact]
    public void ARefusedModification_PutsBackTheRoutesOwnValue_NotALongerRoutesAtTheSameAddress()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var refusing = false;
        var inner = h.Datapath.Tables;
        // Emptying a dense TEID slot (giving up an F-TEID) fails while refusing.
        var tables = inner with { TeidSlots = new RefusingTable<uint, TeidSlot>(inner.TeidSlots, (_, slot) => refusing && slot.Teid == 0) };
        var table = new SessionTable(tables, new GtpAddresses(N3, N3v6), h.NextHops);
        var wide = IPNetwork.Parse("192.0.2.128/25");
        table.Establish(Routed(routes: wide));
        table.Establish(Routed(seid: 2, ulTeid: UplinkTeid + 1, ue: IPAddress.Parse("192.0.2.20"), dlTeid: DownlinkTeid + 1, routes: Behind));
        var toWide = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.200"), 5001, 40000);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(toWide), qfi: 9), h.Run(Ethernet(RouterMac, GatewayMac, toWide)).Output);

        // Session 1 moves to another uplink TEID and a new gNB TEID; giving up the old TEID fails.
        refusing = true;
        Assert.Throws<BpfException>(() => table.Modify(Routed(ulTeid: UplinkTeid + 2, dlTeid: 0x0badcafe, routes: wide)));

        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(toWide), qfi: 9), h.Run(Ethernet(RouterMac, GatewayMac, toWide)).Output);
        var toNarrow = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.130"), 5001, 40000);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid + 1, Forwarded(toNarrow), qfi: 9), h.Run(Ethernet(RouterMac, GatewayMac, toNarrow)).Output);
        var trie = inner.FramedRoutes;
        Assert.False(trie.TryGet(RouteKey.Create(IPNetwork.Parse("192.0.2.192/26")), out _)); // inside the /25, not in the trie
        Assert.True(trie.TryGet(RouteKey.Create(wide), out var own));
        Assert.True(trie.TryGet(RouteKey.Create(Behind), out var narrow));
        Assert.NotEqual(own.Pdr, narrow.Pdr);
        refusing = false;
        table.Delete(1);
        table.Delete(2);
        Assert.False(trie.TryGet(RouteKey.Create(wide), out _));
    }
}

using System.Collections.Immutable;
using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>The rule compiler on in-memory tables: what it writes, in what order, and what it refuses.</summary>
public class SessionTableTests
{
    private static (SessionTable Table, DatapathTables Tables) NewTable(uint sessions = 64, uint ruleLists = 8, uint sdf = 32, ManualTime? time = null)
    {
        var tables = DatapathTables.InMemory(sessions, ruleLists, sdf);
        return (new SessionTable(tables, new GtpAddresses(N3, N3v6), time: time), tables);
    }

    private static MemoryTable<TK, TV> Mem<TK, TV>(IMapTable<TK, TV> t) where TK : unmanaged where TV : unmanaged => (MemoryTable<TK, TV>)t;

    private static string Snapshot(DatapathTables t) => string.Join("|",
        Mem(t.Fteids).Entries.Count, Mem(t.Ue4).Entries.Count, Mem(t.Pdrs).Entries.Count,
        Mem(t.Qers).Entries.Count, Mem(t.RuleLists).Entries.Count, Mem(t.SdfFilters).Entries.Count,
        string.Join(",", Mem(t.Fteids).Entries.Select(kv => $"{kv.Key.Teid}:{kv.Value.Pdr}:{kv.Value.RuleList}")),
        string.Join(",", Mem(t.Ue4).Entries.Select(kv => $"{kv.Key}:{kv.Value.Pdr}")));

    [Fact]
    public void GetMany_FindsEachSessionAsTryGetDoes_AndNullForTheMissing()
    {
        var (table, _) = NewTable();
        table.Establish(Basic());
        Assert.True(table.TryGet(1, out var one));

        var found = new CompiledSession?[4];
        table.GetMany([1, 99, 1], found);
        Assert.Same(one, found[0]);
        Assert.Null(found[1]);
        Assert.Same(one, found[2]);
        Assert.Null(found[3]); // not asked for: untouched

        var e = Assert.Throws<ArgumentException>(() => table.GetMany([1, 2, 3], new CompiledSession?[2]));
        Assert.Contains("room for 2 sessions, 3 asked for", e.Message);
    }

    [Fact]
    public void Establish_OneCatchAllUplinkPdr_PublishesADirectMatchWithTheUeSourceCheck()
    {
        var (table, tables) = NewTable();
        table.Establish(Basic());

        var match = Mem(tables.Fteids).Entries[FteidKey.Create(UplinkTeid, N3)];
        Assert.Equal(AbiConstants.None, match.RuleList);
        Assert.Equal(MatchFlags.UeV4, match.Flags);
        Assert.Equal(BitConverter.ToUInt32(Ue.GetAddressBytes()), match.UeIpv4);
        var pdr = Mem(tables.Pdrs).Entries[match.Pdr];
        Assert.Equal((Direction.Uplink, OuterHeaderRemovalKind.Gtpu), (pdr.Direction, pdr.OuterHeaderRemoval));
        var far = pdr.Forwarding;
        Assert.Equal((FarAction.Forw, OuterHeaderCreationKind.None, InterfaceKind.Core), (far.Action, far.OuterHeaderCreation, far.DestInterface));
    }

    [Fact]
    public unsafe void Establish_DownlinkFar_CarriesTeidPeerAndOurN3AsSource_AndTheQerQfi()
    {
        var (table, tables) = NewTable();
        table.Establish(Basic());

        var match = Mem(tables.Ue4).Entries[BitConverter.ToUInt32(Ue.GetAddressBytes())];
        var pdr = Mem(tables.Pdrs).Entries[match.Pdr];
        var far = pdr.Forwarding;
        Assert.Equal(OuterHeaderCreationKind.GtpuIpv4, far.OuterHeaderCreation);
        Assert.Equal((uint)IPAddress.HostToNetworkOrder(unchecked((int)DownlinkTeid)), far.Teid);
        Assert.Equal(Gnb.GetAddressBytes(), new ReadOnlySpan<byte>(far.Peer, 4).ToArray());
        Assert.Equal(N3.GetAddressBytes(), new ReadOnlySpan<byte>(far.Local, 4).ToArray());
        Assert.Equal(9, Mem(tables.Qers).Entries[pdr.Qer].Qfi);
    }

    /// <summary>Past the scan limit the compiler finds a session's match keys through a dictionary; every key still gets its own PDR.</summary>
    [Fact]
    public void ASessionWithElevenMatchKeys_PublishesEachWithItsOwnPdr()
    {
        var (table, tables) = NewTable();
        var basic = Basic();
        var uplinks = Enumerable.Range(0, 10).Select(i => new Pdr((ushort)(10 + i), 100,
            new Pdi(InterfaceType.Access, new FTeid(0x1000u + (uint)i, N3), UeIpv4: Ue), FarId: 1, RemoveOuterHeader: true));
        table.Establish(basic with { Pdrs = [.. uplinks, basic.Pdrs[1]] });

        var fteids = Mem(tables.Fteids).Entries;
        Assert.Equal(10, fteids.Count);
        var pdrIds = new HashSet<uint>();
        for (uint i = 0; i < 10; i++)
        {
            var match = fteids[FteidKey.Create(0x1000u + i, N3)];
            Assert.True(pdrIds.Add(match.Pdr), $"TEID 0x{0x1000 + i:x}: PDR slot {match.Pdr} is shared");
            Assert.Equal(Direction.Uplink, Mem(tables.Pdrs).Entries[match.Pdr].Direction);
        }
        Assert.Single(Mem(tables.Ue4).Entries);
    }

    /// <summary>Several QERs on one PDR (session AMBR and a flow's MBR): one QER entry combining them.</summary>
    [Fact]
    public unsafe void SeveralQersOnOnePdr_CloseWhereAnyIsClosed_TakeTheSmallestMbrPerDirection_AndTheFirstQfi()
    {
        var (table, tables) = NewTable();
        var basic = Basic();
        var session = basic with
        {
            Pdrs = [.. basic.Pdrs.Select(p => p with { QerIds = [1, 2, 3] })],
            Qers = [new Qer(1, DownlinkGate: GateStatus.Closed, UplinkMbrKbps: 10_000, DownlinkMbrKbps: 20_000),
                    new Qer(2, UplinkMbrKbps: 5_000, DownlinkMbrKbps: 0, Qfi: 5),
                    new Qer(3, Qfi: 9)],
        };
        table.Establish(session);

        var match = Mem(tables.Ue4).Entries[BitConverter.ToUInt32(Ue.GetAddressBytes())];
        var qer = Mem(tables.Qers).Entries[Mem(tables.Pdrs).Entries[match.Pdr].Qer];
        Assert.Equal(((byte)Gate.Open, (byte)Gate.Closed), (qer.Gate[0], qer.Gate[1]));
        Assert.Equal(5, qer.Qfi); // the first QER naming a QFI
        // 5,000 kbit/s uplink (the smaller), 20,000 downlink (an MBR of 0 sets no limit).
        Assert.Equal((625_000UL, 2_500_000UL), (qer.Mbr[0], qer.Mbr[1]));
        Assert.Equal((SessionTable.Burst(625_000), SessionTable.Burst(2_500_000)), (qer.Burst[0], qer.Burst[1]));
    }

    [Fact]
    public unsafe void UlclSession_CompilesARuleListInPrecedenceOrder_WithTheFilterSwappedForUplink()
    {
        var (table, tables) = NewTable();
        table.Establish(UlclSessions.Session());

        var match = Mem(tables.Fteids).Entries[FteidKey.Create(UplinkTeid, N3)];
        var list = Mem(tables.RuleLists).Entries[match.RuleList];
        Assert.Equal(2u, list.Count);
        var local = Mem(tables.SdfFilters).Entries[list.Rules[0].Sdf];
        Assert.Equal(Ue.GetAddressBytes(), new ReadOnlySpan<byte>(local.Src, 4).ToArray());
        Assert.Equal(new byte[] { 203, 0, 113, 128 }, new ReadOnlySpan<byte>(local.Dst, 4).ToArray());
        Assert.Equal(new byte[] { 255, 255, 255, 128 }, new ReadOnlySpan<byte>(local.DstMask, 4).ToArray());
        // The catch-all uplink PDR 2 keeps the UE source check as a filter of its own.
        var rest = Mem(tables.SdfFilters).Entries[list.Rules[1].Sdf];
        Assert.Equal(Ue.GetAddressBytes(), new ReadOnlySpan<byte>(rest.Src, 4).ToArray());
        Assert.Equal(new byte[4], new ReadOnlySpan<byte>(rest.DstMask, 4).ToArray());
        var n9Far = Mem(tables.Pdrs).Entries[list.Rules[1].Pdr].Forwarding;
        Assert.Equal(OuterHeaderCreationKind.GtpuIpv4, n9Far.OuterHeaderCreation);
        Assert.Equal(InterfaceKind.Core, n9Far.DestInterface);
    }

    [Fact]
    public void Establish_WritesEverythingBeforeTheMatchEntriesThatPublishIt_AndDeleteUnpublishesFirst()
    {
        var log = new List<string>();
        var tables = RecordingTables.Wrap(DatapathTables.InMemory(), log);
        var table = new SessionTable(tables, new GtpAddresses(N3));
        table.Establish(Basic());
        var firstPublish = log.FindIndex(l => l.StartsWith("put fteids") || l.StartsWith("put ue4"));
        Assert.True(firstPublish > 0);
        Assert.All(log.Take(firstPublish), l => Assert.DoesNotMatch("^put (fteids|ue4)", l));
        Assert.Contains(log.Take(firstPublish), l => l.StartsWith("put pdrs"));

        log.Clear();
        table.Delete(1);
        Assert.Equal(["delete fteids", "delete ue4"], log);
    }

    [Fact]
    public void Modify_WritesFreshSlots_KeepsPdrCounters_AndSwitchesTheMatchEntry()
    {
        var (table, tables) = NewTable();
        var first = table.Establish(Basic());
        var statsBefore = first.PdrStats[2];
        var ueKey = BitConverter.ToUInt32(Ue.GetAddressBytes());
        var pdrBefore = Mem(tables.Ue4).Entries[ueKey].Pdr;

        // The normal second step of PDU session setup: the gNB's new F-TEID.
        var moved = Basic(dlTeid: 0x0badcafe);
        var second = table.Modify(moved);

        Assert.Equal(statsBefore, second.PdrStats[2]);
        var pdrAfter = Mem(tables.Ue4).Entries[ueKey].Pdr;
        Assert.NotEqual(pdrBefore, pdrAfter);
        var far = Mem(tables.Pdrs).Entries[pdrAfter].Forwarding;
        Assert.Equal((uint)IPAddress.HostToNetworkOrder(unchecked((int)0x0badcafe)), far.Teid);
    }

    [Fact]
    public void ReleasedSlots_AreQuarantined_BeforeReuse()
    {
        var time = new ManualTime();
        var (table, tables) = NewTable(time: time);
        uint UplinkPdrSlot() => Mem(tables.Fteids).Entries[FteidKey.Create(UplinkTeid, N3)].Pdr;
        table.Establish(Basic());                  // PDR slots 0, 1
        table.Modify(Basic(dlTeid: 2));            // 2, 3; 0 and 1 quarantined
        table.Modify(Basic(dlTeid: 3));            // 4, 5: the quarantined ones are not reused yet
        Assert.Equal(4u, UplinkPdrSlot());

        time.Advance(SlotAllocator.DefaultQuarantine);
        table.Delete(1);                            // 4, 5 quarantined now
        table.Establish(Basic());
        // Slots released a quarantine ago come back; the ones just released do not.
        Assert.InRange(UplinkPdrSlot(), 0u, 3u);
    }

    public static TheoryData<string, Func<Session, Session>, RuleError, string> Refusals() => new()
    {
        { "missing FAR", s => s with { Pdrs = [s.Pdrs[0] with { FarId = 9 }, s.Pdrs[1]] }, RuleError.Inconsistent, "PDR 1 refers to FAR 9, which the session does not have" },
        { "missing QER", s => s with { Pdrs = [s.Pdrs[0], s.Pdrs[1] with { QerIds = [7] }] }, RuleError.Inconsistent, "PDR 2 refers to QER 7" },
        { "duplicate PDR", s => s with { Pdrs = [s.Pdrs[0], s.Pdrs[0]] }, RuleError.Inconsistent, "PDR id 1 appears more than once" },
        { "bad filter", s => s with { Pdrs = [s.Pdrs[0] with { Pdi = s.Pdrs[0].Pdi with { SdfFilters = [new SdfFilter("permit out ip from 10.0.0.0/99 to assigned")] } }, s.Pdrs[1]] }, RuleError.Invalid, "PDR 1: flow description 'permit out ip from 10.0.0.0/99 to assigned': prefix length" },
        { "foreign F-TEID address", s => s with { Pdrs = [s.Pdrs[0] with { Pdi = s.Pdrs[0].Pdi with { LocalFTeid = new FTeid(1, IPAddress.Parse("198.51.100.99")) } }, s.Pdrs[1]] }, RuleError.Invalid, "F-TEID address 198.51.100.99 is not a GTP-U address of this gateway" },
        { "uplink without F-TEID", s => s with { Pdrs = [s.Pdrs[0] with { Pdi = s.Pdrs[0].Pdi with { LocalFTeid = null } }, s.Pdrs[1]] }, RuleError.Invalid, "PDR 1: source interface Access needs a local F-TEID" },
        { "DUPL", s => s with { Fars = [s.Fars[0], s.Fars[1] with { Action = ApplyAction.Forward | ApplyAction.Duplicate }] }, RuleError.Invalid, "FAR 2: apply action DUPL" },
        { "FORW without parameters", s => s with { Fars = [s.Fars[0], new Far(2, ApplyAction.Forward)] }, RuleError.Invalid, "FAR 2: FORW needs forwarding parameters" },
        { "DROP and FORW", s => s with { Fars = [s.Fars[0], s.Fars[1] with { Action = ApplyAction.Forward | ApplyAction.Drop }] }, RuleError.Invalid, "must be exactly one of DROP, FORW, BUFF" },
        { "plain IP to access", s => s with { Fars = [s.Fars[0], new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access))] }, RuleError.Invalid, "forwarding to the access side needs outer header creation" },
        { "QFI out of range", s => s with { Qers = [new Qer(1, Qfi: 64)] }, RuleError.Invalid, "QER 1: QFI 64 is out of range 0-63" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void InconsistentSessions_AreRefusedWithAPreciseMessage_AndChangeNothing(string name, Func<Session, Session> spoil, RuleError error, string message)
    {
        var (table, tables) = NewTable();
        table.Establish(Basic(seid: 5, ulTeid: 0x5555, ue: IPAddress.Parse("192.0.2.55")));
        var before = Snapshot(tables);

        var e = Assert.Throws<RuleException>(() => table.Establish(spoil(Basic())));

        Assert.Equal(error, e.Error);
        Assert.Contains(message, e.Message);
        Assert.Equal(before, Snapshot(tables));
        Assert.Equal(1, table.Count);
        _ = name;
    }

    [Fact]
    public void ATeidAnotherSessionOwns_IsAConflict_NamingTheOwner()
    {
        var (table, tables) = NewTable();
        table.Establish(Basic(seid: 1));
        var before = Snapshot(tables);
        var e = Assert.Throws<RuleException>(() => table.Establish(Basic(seid: 2, ue: IPAddress.Parse("192.0.2.11"))));
        Assert.Equal(RuleError.Conflict, e.Error);
        Assert.Contains("fteid 12345678@198.51.100.1 already belongs to session SEID 1", e.Message);
        Assert.Equal(before, Snapshot(tables));
    }

    [Fact]
    public void AUeAddressAnotherSessionOwns_IsAConflict()
    {
        var (table, _) = NewTable();
        table.Establish(Basic(seid: 1));
        var e = Assert.Throws<RuleException>(() => table.Establish(Basic(seid: 2, ulTeid: 0x999)));
        Assert.Contains("ue4 192.0.2.10 already belongs to session SEID 1", e.Message);
    }

    /// <summary>
    /// The first session of a /64 owns the /64, later ones their exact address; a clash names
    /// whichever key is taken, in the form the operator configured it.
    /// </summary>
    [Fact]
    public void AUeIpv6AnotherSessionOwns_IsAConflict_NamingTheSlash64OrTheExactAddress()
    {
        var (table, _) = NewTable();
        Session WithV6(ulong seid, string v6) => Basic(seid, ulTeid: 0x100u + (uint)seid, ue: IPAddress.Parse($"192.0.2.{10 + seid}")) is var s
            ? s with { Pdrs = [s.Pdrs[0], new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv6: IPAddress.Parse(v6)), FarId: 2)] }
            : throw new InvalidOperationException();
        table.Establish(WithV6(1, "2001:db8:10:1::10"));
        table.Establish(WithV6(2, "2001:db8:10:1::11"));

        var exact = Assert.Throws<RuleException>(() => table.Establish(WithV6(3, "2001:db8:10:1::11")));
        var prefix = Assert.Throws<RuleException>(() => table.Establish(WithV6(4, "2001:db8:10:1::")));

        Assert.Equal(RuleError.Conflict, exact.Error);
        Assert.Contains("ue6 2001:db8:10:1::11 already belongs to session SEID 2", exact.Message);
        Assert.Contains("ue6 2001:db8:10:1::/64 already belongs to session SEID 1", prefix.Message);
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void AFullTable_IsNoResources_AndChangesNothing()
    {
        var (table, tables) = NewTable(ruleLists: 1);
        table.Establish(UlclSessions.Session(seid: 1));
        var before = Snapshot(tables);
        var second = UlclSessions.Session(seid: 2) with
        {
            Pdrs = UlclSessions.Session().Pdrs.Select(p => p.Pdi.LocalFTeid is null ? p with { Pdi = p.Pdi with { UeIpv4 = IPAddress.Parse("192.0.2.20") } }
                : p with { Pdi = p.Pdi with { LocalFTeid = p.Pdi.LocalFTeid with { Teid = p.Pdi.LocalFTeid.Teid + 1 }, UeIpv4 = IPAddress.Parse("192.0.2.20") } }).ToImmutableArray(),
        };
        var e = Assert.Throws<RuleException>(() => table.Establish(second));
        Assert.Equal(RuleError.NoResources, e.Error);
        Assert.Contains("table rule_lists is full", e.Message);
        Assert.Equal(before, Snapshot(tables));
    }

    [Fact]
    public void MoreRulesThanATunnelHolds_IsNoResources()
    {
        var (table, _) = NewTable(sdf: 64);
        var basic = Basic();
        var filters = Enumerable.Range(0, 17).Select(i => new SdfFilter($"permit out ip from 203.0.113.{i} to assigned")).ToImmutableArray();
        var e = Assert.Throws<RuleException>(() => table.Establish(basic with
        {
            Pdrs = [basic.Pdrs[0] with { Pdi = basic.Pdrs[0].Pdi with { SdfFilters = filters } }, basic.Pdrs[1]],
        }));
        Assert.Contains("need 17 rules; the datapath holds 16", e.Message);
    }

    [Fact]
    public void ModifyOrDeleteOfAnUnknownSeid_IsUnknownSession()
    {
        var (table, _) = NewTable();
        Assert.Equal(RuleError.UnknownSession, Assert.Throws<RuleException>(() => table.Modify(Basic(seid: 77))).Error);
        Assert.Equal(RuleError.UnknownSession, Assert.Throws<RuleException>(() => table.Delete(77)).Error);
    }

    /// <summary>
    /// A PDR's entry carries its FAR (the program reads both in one line): PDRs that share a
    /// FAR carry the same entry and the same FAR slot, and a modification that changes the FAR
    /// writes it into the PDR's new entry, leaving the other PDR's FAR as it was.
    /// </summary>
    [Fact]
    public void EveryPdrEntry_CarriesItsFar_SharedFarsAlike_AndAChangedFarInTheNewEntry()
    {
        // ULCL: four PDRs, three FARs; the two downlink PDRs (from N6 and from N9) share FAR 3.
        var (ulcl, u) = NewTable();
        var compiled = ulcl.Establish(UlclSessions.Session());
        var entries = compiled.PdrSlotById.ToDictionary(p => p.Key, p => Mem(u.Pdrs).Entries[p.Value]);
        Assert.Equal(4, entries.Count);
        var byFar = entries.Values.GroupBy(e => e.Far).ToArray();
        Assert.Equal(3, byFar.Length);
        Assert.All(byFar, g => Assert.All(g, e => Assert.Equal(g.First().Forwarding, e.Forwarding)));
        Assert.Equal(3, byFar.Select(g => g.First().Forwarding).Distinct().Count());

        var (table, t) = NewTable();
        var before = table.Establish(Basic());
        var uplinkBefore = Mem(t.Pdrs).Entries[before.PdrSlotById[1]].Forwarding;
        // A handover: the downlink FAR's TEID changes.
        var after = table.Modify(Basic(dlTeid: 0x0badcafe));
        var downlink = Mem(t.Pdrs).Entries[after.PdrSlotById[2]];
        Assert.Equal((uint)IPAddress.HostToNetworkOrder(unchecked((int)0x0badcafe)), downlink.Forwarding.Teid);
        Assert.Equal((FarAction.Forw, OuterHeaderCreationKind.GtpuIpv4), (downlink.Forwarding.Action, downlink.Forwarding.OuterHeaderCreation));
        Assert.Equal(uplinkBefore, Mem(t.Pdrs).Entries[after.PdrSlotById[1]].Forwarding);
    }

    /// <summary>
    /// What the program needs of the QER for a PDR's direction is in the PDR's entry: a closed
    /// gate, an MBR (only then is the QER itself read), the QFI; a modification opening the
    /// gate writes entries without the flag.
    /// </summary>
    [Fact]
    public void EveryPdrEntry_CarriesItsQersGateMbrAndQfi_ForItsDirection()
    {
        var (table, t) = NewTable();
        // Both PDRs share QER 1: uplink gate closed, a downlink MBR, QFI 5.
        Session WithQer(GateStatus uplinkGate)
        {
            var s = Basic(qers: [new Qer(1, UplinkGate: uplinkGate, DownlinkMbrKbps: 1000, Qfi: 5)]);
            return s with { Pdrs = [s.Pdrs[0] with { QerIds = [1] }, s.Pdrs[1]] };
        }

        var compiled = table.Establish(WithQer(GateStatus.Closed));

        var uplink = Mem(t.Pdrs).Entries[compiled.PdrSlotById[1]];
        var downlink = Mem(t.Pdrs).Entries[compiled.PdrSlotById[2]];
        Assert.Equal((PdrFlags.GateClosed, (byte)5), (uplink.Flags, uplink.Qfi));
        Assert.Equal((PdrFlags.Mbr, (byte)5), (downlink.Flags, downlink.Qfi));
        Assert.Equal(uplink.Qer, downlink.Qer);

        var opened = table.Modify(WithQer(GateStatus.Open));

        Assert.Equal((PdrFlags)0, Mem(t.Pdrs).Entries[opened.PdrSlotById[1]].Flags);
        Assert.Equal(PdrFlags.Mbr, Mem(t.Pdrs).Entries[opened.PdrSlotById[2]].Flags);
        // Without a QER: nothing to apply.
        var (plain, p) = NewTable();
        var none = plain.Establish(Basic() with { Pdrs = [.. Basic().Pdrs.Select(x => x with { QerIds = [] })], Qers = [] });
        Assert.All(none.PdrSlotById.Values, slot => Assert.Equal(((PdrFlags)0, (byte)0, AbiConstants.None), (Mem(p.Pdrs).Entries[slot].Flags, Mem(p.Pdrs).Entries[slot].Qfi, Mem(p.Pdrs).Entries[slot].Qer)));
    }
}

/// <summary>A TimeProvider the test moves by hand.</summary>
public sealed class ManualTime : TimeProvider
{
    private long _ticks;
    public void Advance(TimeSpan by) => _ticks += (long)(by.TotalSeconds * TimestampFrequency);
    public override long GetTimestamp() => _ticks;
    public override long TimestampFrequency => 1_000_000_000;
}

/// <summary>Tables that log every write, to check the order the compiler writes in.</summary>
public static class RecordingTables
{
    public static DatapathTables Wrap(DatapathTables t, List<string> log) => new()
    {
        Dense = t.Dense,
        TeidSlots = new Recorder<uint, TeidSlot>(t.TeidSlots, "teid_slots", log),
        Ue4Slots = new Recorder<uint, Ue4Slot>(t.Ue4Slots, "ue4_slots", log),
        Matches = new Recorder<uint, MatchEntry>(t.Matches, "matches", log),
        Fteids = new Recorder<FteidKey, MatchEntry>(t.Fteids, "fteids", log),
        Ue4 = new Recorder<uint, MatchEntry>(t.Ue4, "ue4", log),
        Ue6 = new Recorder<Ue6Key, MatchEntry>(t.Ue6, "ue6", log),
        FramedRoutes = new Recorder<RouteKey, MatchEntry>(t.FramedRoutes, "framed_routes", log),
        RuleLists = new Recorder<uint, RuleListEntry>(t.RuleLists, "rule_lists", log),
        SdfFilters = new Recorder<uint, SdfEntry>(t.SdfFilters, "sdf_filters", log),
        Pdrs = new Recorder<uint, PdrEntry>(t.Pdrs, "pdrs", log),
        Qers = new Recorder<uint, QerEntry>(t.Qers, "qers", log),
        QerBuckets = new Recorder<uint, BucketEntry>(t.QerBuckets, "qer_buckets", log),
        Nexthops = t.Nexthops,
        PdrStats = t.PdrStats,
        QerStats = t.QerStats,
        PdrNotified = t.PdrNotified,
    };

    private sealed class Recorder<TK, TV>(IMapTable<TK, TV> inner, string name, List<string> log) : IMapTable<TK, TV>
        where TK : unmanaged where TV : unmanaged
    {
        public uint Capacity => inner.Capacity;
        public void Put(in TK key, in TV value) { log.Add($"put {name}"); inner.Put(key, value); }
        public bool Delete(in TK key) { log.Add($"delete {name}"); return inner.Delete(key); }
        public bool TryGet(in TK key, out TV value) => inner.TryGet(key, out value);
        public IEnumerable<TK> Keys() => inner.Keys();
    }
}

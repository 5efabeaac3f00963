using System.Net;
using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// Establishments whose map writes are held and committed together (what the PFCP node does
/// for the establishments of one receive batch): nothing written before the commit, each map
/// written once by it, the same entries as direct writes, slots before the keys that publish
/// them, and a refused write withdrawing its session only.
/// </summary>
public class HeldWritesTests
{
    // TEIDs from 0x1000 and UE addresses 192.0.2.0/28 have dense slots; the others go to the hash maps.
    private static readonly DenseRanges Dense = new(0x1000, 64, 0xC000_0200, 16);

    /// <summary>Session i: odd ones on dense keys, even ones on hashed keys.</summary>
    private static Session Numbered(int i) => Basic(seid: (ulong)i,
        ulTeid: i % 2 == 1 ? 0x1000u + (uint)i : 0x00ab_0000u + (uint)i,
        ue: IPAddress.Parse(i % 2 == 1 ? $"192.0.2.{i}" : $"192.0.2.{100 + i}"),
        dlTeid: 0x5000u + (uint)i);

    private static DatapathTables NewTables() => DatapathTables.InMemory(64, 8, 32, Dense);

    private static SessionTable NewTable(DatapathTables tables) => new(tables, new GtpAddresses(N3, N3v6));

    private static string Hex<T>(T value) where T : unmanaged => Convert.ToHexString(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    private static string Dump<TK, TV>(IMapTable<TK, TV> table) where TK : unmanaged where TV : unmanaged =>
        string.Join(";", ((MemoryTable<TK, TV>)table).Entries.Select(kv => $"{Hex(kv.Key)}={Hex(kv.Value)}").Order());

    /// <summary>Every table the compiler writes rules and keys into, entry by entry.</summary>
    private static string[] Dump(DatapathTables t) =>
    [
        Dump(t.Qers), Dump(t.Pdrs), Dump(t.SdfFilters), Dump(t.RuleLists), Dump(t.Matches),
        Dump(t.TeidSlots), Dump(t.Ue4Slots), Dump(t.Fteids), Dump(t.Ue4), Dump(t.Ue6),
    ];

    private static MemoryTable<TK, TV> Mem<TK, TV>(IMapTable<TK, TV> t) where TK : unmanaged where TV : unmanaged => (MemoryTable<TK, TV>)t;

    [Fact]
    public void HeldEstablishments_WriteNothingUntilCommitted_ThenEachMapOnce_TheSameEntriesAsDirectWrites()
    {
        var heldTables = NewTables();
        var held = NewTable(heldTables);
        var directTables = NewTables();
        var direct = NewTable(directTables);

        for (int i = 1; i <= 4; i++)
        {
            held.Establish(Numbered(i), holdWrites: true);
            direct.Establish(Numbered(i));
        }

        Assert.Equal(4, held.Count);
        Assert.All(Dump(heldTables), Assert.Empty);
        // Per session: 1 QER, 2 PDRs (with their FARs), 2 keys; dense keys also a match slot each.
        Assert.Equal(4 * 5 + 2 * 2, held.HeldWrites);

        Assert.Empty(held.CommitHeldWrites());

        Assert.Equal(0, held.HeldWrites);
        Assert.Equal(Dump(directTables), Dump(heldTables));
        Assert.Equal(1, Mem(heldTables.Qers).PutManyCalls);
        Assert.Equal(1, Mem(heldTables.Pdrs).PutManyCalls);
        Assert.Equal(1, Mem(heldTables.Matches).PutManyCalls);
        Assert.Equal(1, Mem(heldTables.TeidSlots).PutManyCalls);
        Assert.Equal(1, Mem(heldTables.Ue4Slots).PutManyCalls);
        Assert.Equal(1, Mem(heldTables.Fteids).PutManyCalls);
        Assert.Equal(1, Mem(heldTables.Ue4).PutManyCalls);
        Assert.Equal(0, Mem(directTables.Pdrs).PutManyCalls);
        Assert.Empty(held.CommitHeldWrites()); // nothing left: no second write
        Assert.Equal(1, Mem(heldTables.Pdrs).PutManyCalls);
    }

    /// <summary>Two dual-stack sessions in one /64 (as Open5GS assigns them): the second is matched by its exact address.</summary>
    [Fact]
    public void HeldDualStackSessions_CommitTheSameIpv6KeysAsDirectWrites_IncludingAnExactAddress()
    {
        static Session DualStack(int i)
        {
            var v6 = IPAddress.Parse($"2001:db8:10:1::{i}");
            var basic = Numbered(i);
            return basic with
            {
                Pdrs = [.. basic.Pdrs, new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv6: v6), FarId: 2, QerIds: [1])],
            };
        }
        var heldTables = NewTables();
        var held = NewTable(heldTables);
        var directTables = NewTables();
        var direct = NewTable(directTables);
        foreach (var i in new[] { 1, 2 })
        {
            held.Establish(DualStack(i), holdWrites: true);
            direct.Establish(DualStack(i));
        }
        Assert.Empty(Mem(heldTables.Ue6).Entries);

        held.CommitHeldWrites();

        Assert.Equal(2, Mem(heldTables.Ue6).Entries.Count);
        Assert.Equal(Dump(directTables), Dump(heldTables));
        Assert.Equal(Dump(directTables.Ue6Exact!), Dump(heldTables.Ue6Exact!));
        Assert.Equal(1u, Mem(heldTables.Ue6Exact!).Entries[0]);
    }

    [Fact]
    public void TheCommit_WritesEverySlotOfEverySession_BeforeAnyKeyThatPublishesOne()
    {
        var log = new List<string>();
        var tables = RecordingTables.Wrap(NewTables(), log);
        var table = NewTable(tables);
        for (int i = 1; i <= 3; i++)
            table.Establish(Numbered(i), holdWrites: true);
        Assert.Empty(log);

        table.CommitHeldWrites();

        string[] publishing = ["put teid_slots", "put ue4_slots", "put fteids", "put ue4", "put ue6"];
        var lastSlot = log.FindLastIndex(l => !publishing.Contains(l));
        var firstKey = log.FindIndex(publishing.Contains);
        Assert.True(lastSlot < firstKey, string.Join(", ", log));
        Assert.Equal(3 * 2, log.Count(l => l == "put pdrs"));
        Assert.Equal(3, log.Count(publishing.Contains) - log.Count(l => l == "put ue4_slots" || l == "put ue4"));
    }

    /// <summary>Session 2's downlink PDR (its FAR's TEID 0x5002) is refused: in the batch, then alone.</summary>
    [Fact]
    public void ARefusedSlotWrite_WithdrawsThatSessionOnly_BeforeAnyOfItsKeysIsWritten()
    {
        var inner = NewTables();
        var pdrs = new RefusingTable<uint, PdrEntry>(inner.Pdrs, (_, pdr) => pdr.Forwarding.Teid == (uint)IPAddress.HostToNetworkOrder(0x5002));
        var tables = inner with { Pdrs = pdrs };
        var table = NewTable(tables);
        for (int i = 1; i <= 3; i++)
            table.Establish(Numbered(i), holdWrites: true);

        Assert.Equal([2UL], table.CommitHeldWrites());

        Assert.Equal(1, pdrs.PutManyCalls);
        Assert.Equal([1UL, 3UL], table.Sessions.Select(s => s.Seid));
        Assert.False(Mem(inner.Fteids).Entries.ContainsKey(FteidKey.Create(0x00ab_0002, N3)));
        Assert.False(Mem(inner.Ue4).Entries.ContainsKey(AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.102"))));
        // Session 2's uplink PDR went in before the refused one: in a slot nothing reaches, quarantined.
        Assert.Equal(2 * 2 + 1, Mem(inner.Pdrs).Entries.Count);
        Assert.Contains("refused by the test", table.WithdrawnBecause!.Message);
        // Its TEID and UE address are nobody's now: a new session may take them.
        table.Establish(Numbered(2) with { Seid = 9, Fars = Numbered(1).Fars });
        Assert.True(table.TryGet(9, out _));
    }

    /// <summary>Session 2's uplink F-TEID key is refused after its slots were written: it is unpublished again.</summary>
    [Fact]
    public void ARefusedKey_WithdrawsThatSession_AndLeavesNoneOfItsKeysPublished()
    {
        var inner = NewTables();
        var refused = FteidKey.Create(0x00ab_0002, N3);
        var tables = inner with { Fteids = new RefusingTable<FteidKey, MatchEntry>(inner.Fteids, (k, _) => k.Equals(refused)) };
        var table = NewTable(tables);
        for (int i = 1; i <= 4; i++)
            table.Establish(Numbered(i), holdWrites: true);

        Assert.Equal([2UL], table.CommitHeldWrites());

        Assert.Equal([1UL, 3UL, 4UL], table.Sessions.Select(s => s.Seid));
        Assert.Equal([FteidKey.Create(0x00ab_0004, N3)], Mem(inner.Fteids).Entries.Keys);
        Assert.False(Mem(inner.Ue4).Entries.ContainsKey(AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.102"))));
        Assert.True(Mem(inner.Ue4).Entries.ContainsKey(AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.104"))));
        Assert.Equal(("fteids", 3u), table.Occupancy().Select(o => (o.Table, o.InUse)).First());
        Assert.Equal(("pdrs", 3u * 2), table.Occupancy().Select(o => (o.Table, o.InUse)).First(o => o.Table == "pdrs"));
        Assert.Empty(table.CommitHeldWrites()); // reported once
    }

    /// <summary>
    /// Withdrawing needs writes too: session 2's UE key is refused after its F-TEID key went in,
    /// and taking that F-TEID key out again is refused as well. The commit goes on; the session
    /// is left in the table for a later Delete.
    /// </summary>
    [Fact]
    public void AWithdrawalTheKernelAlsoRefuses_DoesNotStopTheCommit_AndDeleteFinishesItLater()
    {
        var inner = NewTables();
        var fteid = FteidKey.Create(0x00ab_0002, N3);
        var ue = AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.102"));
        var refusing = true;
        var tables = inner with
        {
            Fteids = new RefusingTable<FteidKey, MatchEntry>(inner.Fteids, (_, _) => false, k => refusing && k.Equals(fteid)),
            Ue4 = new RefusingTable<uint, MatchEntry>(inner.Ue4, (k, _) => k == ue),
        };
        var table = NewTable(tables);
        for (int i = 1; i <= 3; i++)
            table.Establish(Numbered(i), holdWrites: true);

        Assert.Equal([2UL], table.CommitHeldWrites());

        Assert.StartsWith("delete map 'refusing'", table.WithdrawnBecause!.Message);
        Assert.True(table.TryGet(2, out _)); // left for a later Delete
        Assert.True(table.TryGet(3, out _));
        Assert.True(Mem(inner.Ue4Slots).Entries.ContainsKey(3)); // session 3 published
        refusing = false;
        table.Delete(2);
        Assert.Equal([1UL, 3UL], table.Sessions.Select(s => s.Seid));
        Assert.False(Mem(inner.Fteids).Entries.ContainsKey(fteid));
        Assert.False(Mem(inner.Ue4).Entries.ContainsKey(ue));
    }

    /// <summary>A deletion is whole or nothing too: the keys already taken out are put back when the kernel refuses one.</summary>
    [Fact]
    public void ADeletionTheKernelRefuses_LeavesTheSessionPublishedAndOwned()
    {
        var inner = NewTables();
        var ue = AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.102"));
        var refusing = true;
        var tables = inner with { Ue4 = new RefusingTable<uint, MatchEntry>(inner.Ue4, (_, _) => false, k => refusing && k == ue) };
        var table = NewTable(tables);
        table.Establish(Numbered(2)); // hashed F-TEID and UE address: both keys are hash entries
        var before = Dump(inner);

        Assert.Throws<BpfException>(() => table.Delete(2));

        Assert.True(table.TryGet(2, out _));
        Assert.Equal(before, Dump(inner)); // the F-TEID key, taken out first, is back
        Assert.Equal(RuleError.Conflict, Assert.Throws<RuleException>(() => table.Establish(Numbered(2) with { Seid = 9 })).Error);
        refusing = false;
        table.Delete(2);
        Assert.Empty(Mem(inner.Fteids).Entries);
        Assert.Empty(Mem(inner.Ue4).Entries);
    }

    /// <summary>
    /// A modification that drops a key the kernel refuses to delete is undone whole: the
    /// session keeps the key in the maps and in its ownership, so no other session can take it.
    /// </summary>
    [Fact]
    public void AModificationWhoseKeyDeleteIsRefused_KeepsTheOldKeyOwned()
    {
        var inner = NewTables();
        var ue = AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.102"));
        var refusing = true;
        var tables = inner with { Ue4 = new RefusingTable<uint, MatchEntry>(inner.Ue4, (_, _) => false, k => refusing && k == ue) };
        var table = NewTable(tables);
        table.Establish(Numbered(2)); // hashed F-TEID and UE address
        var before = (Dump(inner.Fteids), Dump(inner.Ue4)); // what publishes the session (new slots written for the refused apply are unreachable)
        // A new F-TEID and a new UE address: both old keys must go, the F-TEID first (its
        // delete goes through), then the UE address (refused).
        Session Moved(Session s, uint teid, string ue) => s with
        {
            Pdrs = [.. s.Pdrs.Select(p => p with { Pdi = p.Pdi with { UeIpv4 = IPAddress.Parse(ue), LocalFTeid = p.Pdi.LocalFTeid is { } f ? f with { Teid = teid } : null } })],
        };
        var oldTeid = Numbered(2).Pdrs[0].Pdi.LocalFTeid!.Teid;
        var moved = Moved(Numbered(2), oldTeid + 1000, "192.0.2.120");

        Assert.Throws<BpfException>(() => table.Modify(moved));

        Assert.Equal(before, (Dump(inner.Fteids), Dump(inner.Ue4)));
        // Both old keys are still the session's: another session naming the old F-TEID (with
        // an address of its own) is refused, as one naming the old UE address.
        Assert.Equal(RuleError.Conflict, Assert.Throws<RuleException>(() => table.Establish(Moved(Numbered(2), oldTeid, "192.0.2.121") with { Seid = 9 })).Error);
        Assert.Equal(RuleError.Conflict, Assert.Throws<RuleException>(() => table.Establish(Moved(Numbered(2), oldTeid + 2000, "192.0.2.102") with { Seid = 9 })).Error);
        refusing = false;
        table.Modify(moved);
        table.Establish(Moved(Numbered(2), oldTeid, "192.0.2.121") with { Seid = 9 }); // given up now
    }

    [Fact]
    public void AHeldEstablishmentThatFails_LeavesNothingHeld_AndTheOthersCommit()
    {
        var tables = NewTables();
        var table = NewTable(tables);
        var onlyFirstTables = NewTables();
        NewTable(onlyFirstTables).Establish(Numbered(1));
        table.Establish(Numbered(1), holdWrites: true);
        var held = table.HeldWrites;

        // The same UE address as session 1: refused while planning; then a PDR whose FAR is missing.
        Assert.Equal(RuleError.Conflict, Assert.Throws<RuleException>(() =>
            table.Establish(Numbered(3) with { Seid = 5, Pdrs = Numbered(1).Pdrs }, holdWrites: true)).Error);
        Assert.Equal(held, table.HeldWrites);

        table.CommitHeldWrites();
        Assert.Equal(Dump(onlyFirstTables), Dump(tables));
    }

    [Fact]
    public void AnyOtherChange_CommitsTheHeldWritesFirst()
    {
        var tables = NewTables();
        var table = NewTable(tables);
        table.Establish(Numbered(1), holdWrites: true);
        table.Establish(Numbered(2));
        Assert.Equal(0, table.HeldWrites);
        Assert.Equal(2, Mem(tables.Ue4Slots).Entries.Count + Mem(tables.Ue4).Entries.Count);

        table.Establish(Numbered(3), holdWrites: true);
        table.Delete(1);
        Assert.Equal(0, table.HeldWrites);
        Assert.True(Mem(tables.TeidSlots).Entries.ContainsKey(3));

        table.Establish(Numbered(5), holdWrites: true);
        table.Modify(Numbered(3) with { Fars = [Numbered(3).Fars[0], Numbered(3).Fars[1] with { Action = ApplyAction.Buffer, Forwarding = null }] });
        Assert.Equal(0, table.HeldWrites);
        Assert.True(Mem(tables.TeidSlots).Entries.ContainsKey(5));
    }
}

/// <summary>Held writes in the kernel maps: one batch call per map (array and hash maps), and traffic only after the commit.</summary>
public class HeldWritesKernelTests
{
    [SkippableFact]
    public void HeldSessions_TakeNoTrafficBeforeTheCommit_AndAfterItForwardAsDirectlyWrittenOnesDo()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var ue2 = IPAddress.Parse("192.0.2.20");
        const uint hashedTeid = 0x00ab_0002; // outside the dense TEID range: the fteids hash map
        var up1 = Uplink(UplinkTeid, InnerUdp4(Ue, LocalServer, 40000, 5001), qfi: 9);
        var up2 = Uplink(hashedTeid, InnerUdp4(ue2, LocalServer, 40000, 5001), qfi: 9);
        try
        {
            h.Sessions.Establish(Basic(), holdWrites: true);
            h.Sessions.Establish(Basic(seid: 2, ulTeid: hashedTeid, ue: ue2, dlTeid: 0x5002), holdWrites: true);

            // Unknown TEIDs still: dropped, or answered with an Error Indication; never forwarded.
            Assert.NotEqual(Ethernet(GatewayMac, RouterMac, Forwarded(InnerUdp4(Ue, LocalServer, 40000, 5001))), h.Run(up1).Output);
            Assert.NotEqual(Ethernet(GatewayMac, RouterMac, Forwarded(InnerUdp4(ue2, LocalServer, 40000, 5001))), h.Run(up2).Output);
            Assert.Equal(2UL, h.StatPackets(DatapathStat.DropNoSession) + h.StatPackets(DatapathStat.ErrorIndicationSent));
            Assert.Equal(0UL, h.PdrCounter(1, 1).Packets + h.PdrCounter(2, 1).Packets);

            Assert.Empty(h.Sessions.CommitHeldWrites());

            var forwarded1 = h.Run(up1);
            var forwarded2 = h.Run(up2);
            Assert.Equal(XdpAction.Tx, forwarded1.Verdict);
            Assert.Equal(XdpAction.Tx, forwarded2.Verdict);
            Assert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(InnerUdp4(Ue, LocalServer, 40000, 5001))), forwarded1.Output);
            Assert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(InnerUdp4(ue2, LocalServer, 40000, 5001))), forwarded2.Output);
            Assert.Equal(1UL, h.PdrCounter(2, 1).Packets);
        }
        finally
        {
            foreach (var s in h.Sessions.Sessions)
                h.Sessions.Delete(s.Seid);
        }
    }
}

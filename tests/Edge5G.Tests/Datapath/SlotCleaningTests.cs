using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// Slots whose maps the datapath writes (PDR counters and notification times, QER drop
/// counters and token buckets) are zeroed as they leave quarantine, many at once, instead of
/// one write per map when a rule takes them.
/// </summary>
public class SlotCleaningTests
{
    [Fact]
    public void ThawedSlots_AreCleanedInOneCall_BeforeReuse_AndOnlyWhenNoFreedSlotIsLeft()
    {
        var time = new ManualTime();
        var cleaned = new List<uint[]>();
        var slots = new SlotAllocator("t", 8, time, clean: s => cleaned.Add(s.ToArray()));
        var taken = Enumerable.Range(0, 4).Select(_ => Take(slots)).ToArray(); // 0..3, never used: not cleaned
        Assert.Equal([0u, 1u, 2u, 3u], taken);
        Assert.Empty(cleaned);

        foreach (var s in taken)
            slots.Release(s);
        Assert.Equal(4u, Take(slots)); // quarantined: a fresh slot instead
        time.Advance(SlotAllocator.DefaultQuarantine);
        slots.Release(4);              // still quarantined when the others thaw

        var reused = Take(slots);      // no freed slot: the aged ones thaw, in one call
        Assert.Equal([0u, 1u, 2u, 3u], Assert.Single(cleaned));
        Assert.Contains(reused, taken);
        Take(slots);
        Take(slots);
        Take(slots);
        Assert.Single(cleaned);        // the rest came from the same thaw
        Assert.Equal(5u, Take(slots)); // 4 has not aged: fresh again
    }

    /// <summary>The capacity check thaws (and cleans) only when the slots already free are too few.</summary>
    [Fact]
    public void HasRoomFor_ThawsOnlyWhenTheFreeSlotsAreTooFew()
    {
        var time = new ManualTime();
        var cleaned = 0;
        var slots = new SlotAllocator("t", 4, time, clean: s => cleaned += s.Length);
        for (int i = 0; i < 4; i++)
            Take(slots);
        slots.Release(0);
        slots.Release(1);
        Assert.False(slots.HasRoomFor(1)); // quarantined, not aged
        time.Advance(SlotAllocator.DefaultQuarantine);
        Assert.Equal(0, cleaned);
        Assert.True(slots.HasRoomFor(2));  // none free: the aged ones thaw
        Assert.Equal(2, cleaned);
        Assert.False(slots.HasRoomFor(3));
        Assert.Equal(2u, slots.Available);
    }

    [Fact]
    public void AFailedClean_FreesNothing_AndTheSlotsThawOnTheNextTry()
    {
        var time = new ManualTime();
        var fail = true;
        var slots = new SlotAllocator("t", 1, time, clean: _ => { if (fail) throw new BpfException("batch update map 'x'", 28, "0 of 1 keys written"); });
        slots.Release(Take(slots));
        time.Advance(SlotAllocator.DefaultQuarantine);

        Assert.Throws<BpfException>(() => slots.TryAllocate(out _));
        Assert.Equal(0u, slots.InUse);
        fail = false;
        Assert.Equal(0u, Take(slots));
    }

    /// <summary>
    /// After a restart any slot not adopted may hold a previous process's counters: the free
    /// ones below the highest adopted slot are cleaned at once, fresh ones a batch at a time
    /// as they are first taken (a restart does not wait for whole maps to be zeroed).
    /// </summary>
    [Fact]
    public void Restore_CleansTheHolesAtOnce_AndFreshSlotsInBatchesWhenFirstTaken()
    {
        var cleaned = new List<uint[]>();
        var slots = new SlotAllocator("t", 1000, clean: s => cleaned.Add(s.ToArray()));
        slots.Restore([1, 5]);
        Assert.Equal([4u, 3u, 2u, 0u], Assert.Single(cleaned));

        var taken = Enumerable.Range(0, 5).Select(_ => Take(slots)).ToArray();
        Assert.Equal([0u, 2u, 3u, 4u, 6u], taken); // the holes, then the first fresh slot
        Assert.Equal(2, cleaned.Count);
        Assert.Equal(Enumerable.Range(6, SlotAllocator.FreshCleanBatch).Select(i => (uint)i), cleaned[1]);
        for (int i = 1; i < SlotAllocator.FreshCleanBatch; i++)
            Take(slots);
        Assert.Equal(2, cleaned.Count);
        Assert.Equal(6u + SlotAllocator.FreshCleanBatch, Take(slots));
        Assert.Equal(3, cleaned.Count);
        Assert.Equal(6u + SlotAllocator.FreshCleanBatch, cleaned[2][0]);

        // The last batch stops at the end of the table.
        while (slots.TryAllocate(out _)) { }
        Assert.Equal(999u, cleaned[^1][^1]);
        Assert.Equal(1000 - 6, cleaned.Skip(1).Sum(c => c.Length)); // 6 to 999, each once
    }

    /// <summary>Maps this process created are zero: fresh slots need no cleaning.</summary>
    [Fact]
    public void WithoutARestore_FreshSlotsAreNeverCleaned()
    {
        var cleaned = 0;
        var slots = new SlotAllocator("t", 10, clean: s => cleaned += s.Length);
        for (int i = 0; i < 10; i++)
            Take(slots);
        Assert.Equal(0, cleaned);
    }

    [Fact]
    public void EstablishingASession_WritesNoCountersOrBuckets_TheThawCleansThemPerMapInOneCall()
    {
        var time = new ManualTime();
        var tables = DatapathTables.InMemory(64, 8, 32);
        var table = new SessionTable(tables, new GtpAddresses(N3, N3v6), time: time);
        var stats = (MemoryPerCpuTable<Counter>)tables.PdrStats;
        var qerStats = (MemoryPerCpuTable<QerStats>)tables.QerStats;
        var buckets = (MemoryTable<uint, BucketEntry>)tables.QerBuckets;
        var notified = (MemoryTable<uint, ulong>)tables.PdrNotified;

        for (ulong seid = 1; seid <= 3; seid++)
            table.Establish(Basic(seid, ulTeid: UplinkTeid + (uint)seid, ue: System.Net.IPAddress.Parse($"192.0.2.{seid}")));
        Assert.Empty(stats.Entries);
        Assert.Empty(buckets.Entries);
        Assert.Empty(notified.Entries);

        for (ulong seid = 1; seid <= 3; seid++)
            table.Delete(seid);
        time.Advance(SlotAllocator.DefaultQuarantine);
        table.Establish(Basic(4));
        // Six PDR stats slots and three QER slots thawed: one call per map.
        Assert.Equal((1, 1), (stats.ResetAllCalls, notified.ZeroCalls));
        Assert.Equal((1, 1), (qerStats.ResetAllCalls, buckets.ZeroCalls));
    }

    /// <summary>In the kernel: what the datapath left in a slot is gone when the slot is taken again.</summary>
    [SkippableFact]
    public void InTheKernelMaps_ASlotTakenAfterQuarantine_StartsFromZero()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var time = new ManualTime();
        var table = new SessionTable(h.Datapath.Tables, new GtpAddresses(N3, N3v6), h.NextHops, time);
        using var pdrStats = h.Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        using var qerStats = h.Datapath.Object.PerCpuMap<uint, QerStats>("qer_stats");
        using var buckets = h.Datapath.Object.Map<uint, BucketEntry>("qer_buckets");
        using var notified = h.Datapath.Object.Map<uint, ulong>("pdr_notified");
        var cpus = BpfPerCpuMap<uint, Counter>.PossibleCpus;

        var first = table.Establish(Basic());
        uint[] statsSlots = [.. first.PdrStats.Values];
        var qer = Assert.Single(table.QerSlots());
        // What the datapath writes while the session carries traffic.
        foreach (var s in statsSlots)
        {
            pdrStats.Update(s, Enumerable.Repeat(new Counter { Packets = 7, Bytes = 700 }, cpus).ToArray());
            notified.Update(s, 123_456_789UL);
        }
        qerStats.Update(qer, Enumerable.Repeat(new QerStats { GateDrops = 3, MbrDrops = 4 }, cpus).ToArray());
        buckets.Update(qer * 2, new BucketEntry { Tokens = 1000, LastNs = 99 });
        buckets.Update(qer * 2 + 1, new BucketEntry { Tokens = 2000, LastNs = 99 });

        table.Delete(1);
        time.Advance(SlotAllocator.DefaultQuarantine);
        var second = table.Establish(Basic());

        Assert.Equal(statsSlots.Order(), second.PdrStats.Values.Order()); // the same slots, taken again
        Assert.Equal(qer, Assert.Single(table.QerSlots()));
        foreach (var s in statsSlots)
        {
            Assert.All(pdrStats.Lookup(s), c => Assert.Equal(default, c));
            Assert.Equal(0UL, notified.Lookup(s));
        }
        Assert.All(qerStats.Lookup(qer), q => Assert.Equal(default, q));
        Assert.Equal(default, buckets.Lookup(qer * 2));
        Assert.Equal(default, buckets.Lookup(qer * 2 + 1));
        table.Delete(1);
    }

    /// <summary>The batch writes behind the cleaning, in the kernel: exactly the given slots, every CPU, and a precise error.</summary>
    [SkippableFact]
    public void BatchZeroing_TouchesExactlyTheGivenSlots_AndAFailureSaysHowManyWereWritten()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var stats = Assert.IsType<BpfPerCpuTable<Counter>>(h.Datapath.Tables.PdrStats);
        var notified = Assert.IsType<BpfArrayTable<ulong>>(h.Datapath.Tables.PdrNotified);
        using var map = h.Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        var cpus = stats.Cpus;
        uint[] slots = [3, 4, 5, 6];
        try
        {
            foreach (var s in slots)
            {
                map.Update(s, Enumerable.Repeat(new Counter { Packets = s, Bytes = 10 * s }, cpus).ToArray());
                notified.Put(s, 1000 + s);
            }

            stats.ResetAll([4, 6]);
            notified.Zero([3, 4]);

            Assert.All(map.Lookup(3), c => Assert.Equal(new Counter { Packets = 3, Bytes = 30 }, c));
            Assert.All(map.Lookup(4), c => Assert.Equal(default, c));
            Assert.All(map.Lookup(5), c => Assert.Equal(new Counter { Packets = 5, Bytes = 50 }, c));
            Assert.All(map.Lookup(6), c => Assert.Equal(default, c));
            Assert.Equal([0UL, 0UL, 1005UL, 1006UL], slots.Select(s => notified.TryGet(s, out var v) ? v : ulong.MaxValue));

            // Past the end of the array: the kernel stops there, and the error says where.
            var e = Assert.Throws<BpfException>(() => stats.ResetAll([5, stats.Capacity, 3]));
            Assert.StartsWith("batch reset per-CPU map '", e.Message);
            Assert.Contains("1 of 3 keys written", e.Message);
            Assert.All(map.Lookup(5), c => Assert.Equal(default, c));
            Assert.All(map.Lookup(3), c => Assert.Equal(new Counter { Packets = 3, Bytes = 30 }, c));
        }
        finally
        {
            stats.ResetAll(slots);
            notified.Zero(slots);
        }
    }

    private static uint Take(SlotAllocator slots) => slots.TryAllocate(out var s) ? s : throw new InvalidOperationException("full");
}

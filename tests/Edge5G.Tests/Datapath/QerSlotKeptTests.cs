using System.Net;
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
/// A modification keeps the slot of a QER it leaves as it was, so the QER's token buckets and
/// drop counts go on instead of restarting (a full bucket would be a burst above the MBR at
/// every handover); a QER it changes gets a fresh slot.
/// </summary>
public class QerSlotKeptTests
{
    private static readonly Qer Limited = new(1, DownlinkMbrKbps: 1, Qfi: 9);

    /// <summary>The same session after the gNB moved: a new downlink TEID, the QER untouched.</summary>
    private static Session HandedOver(Qer qer) => Basic(dlTeid: 0x0bad_cafe, qers: [qer]);

    [Fact]
    public void AModificationThatLeavesTheQer_KeepsItsSlot_AndWritesNoQerEntry()
    {
        var log = new List<string>();
        var inner = DatapathTables.InMemory(64, 8, 32);
        var tables = RecordingTables.Wrap(inner, log);
        var table = new SessionTable(tables, new GtpAddresses(N3, N3v6), quarantine: TimeSpan.Zero);
        var before = table.Establish(Basic(qers: [Limited]));
        log.Clear();

        var after = table.Modify(HandedOver(Limited));

        Assert.Equal(before.QerSlots, after.QerSlots);
        Assert.DoesNotContain("put qers", log);
        // The downlink FAR did change: its PDR's new entry carries the new TEID.
        Assert.Contains("put pdrs", log);
        Assert.True(((MemoryTable<uint, PdrEntry>)inner.Pdrs).Entries.TryGetValue(after.PdrSlotById[2], out var downlink));
        Assert.Equal((uint)IPAddress.HostToNetworkOrder(0x0bad_cafe), downlink.Forwarding.Teid);
        Assert.Equal(after.QerSlots, table.QerSlots());
        Assert.Equal(1u, table.Occupancy().Single(o => o.Table == "qers").InUse);

        table.Delete(1);
        Assert.Equal(0u, table.Occupancy().Single(o => o.Table == "qers").InUse);
    }

    [Fact]
    public void AModificationThatChangesTheQer_TakesAFreshSlot_AndGivesTheOldOneBack()
    {
        var tables = DatapathTables.InMemory(64, 8, 32);
        var table = new SessionTable(tables, new GtpAddresses(N3, N3v6), quarantine: TimeSpan.Zero);
        var before = table.Establish(Basic(qers: [Limited]));

        var after = table.Modify(HandedOver(Limited with { DownlinkMbrKbps = 2 }));

        Assert.NotEqual(before.QerSlots[0], after.QerSlots[0]);
        Assert.Equal(1u, table.Occupancy().Single(o => o.Table == "qers").InUse);
        var entry = ((MemoryTable<uint, QerEntry>)tables.Qers).Entries[after.QerSlots[0]];
        unsafe
        {
            Assert.Equal(250UL, entry.Mbr[1]); // 2 kbit/s in bytes per second, downlink
        }
    }

    /// <summary>A modification that fails after keeping the QER leaves it with the session it belongs to.</summary>
    [Fact]
    public void AFailedModification_LeavesTheKeptQerSlotTaken_ByTheVersionStillInPlace()
    {
        var inner = DatapathTables.InMemory(64, 8, 32);
        var refuse = false;
        var tables = inner with { Pdrs = new RefusingTable<uint, PdrEntry>(inner.Pdrs, (_, _) => refuse) };
        var table = new SessionTable(tables, new GtpAddresses(N3, N3v6), quarantine: TimeSpan.Zero);
        var before = table.Establish(Basic(qers: [Limited]));

        refuse = true;
        Assert.Throws<BpfException>(() => table.Modify(HandedOver(Limited)));
        refuse = false;

        Assert.True(table.TryGet(1, out var current));
        Assert.Same(before, current);
        Assert.Equal(before.QerSlots, table.QerSlots());
        Assert.Equal(1u, table.Occupancy().Single(o => o.Table == "qers").InUse);
        // A second session gets a slot of its own, not the first one's.
        var other = table.Establish(Basic(seid: 2, ulTeid: 0x2222, ue: IPAddress.Parse("192.0.2.20"), qers: [Limited]));
        Assert.NotEqual(before.QerSlots[0], other.QerSlots[0]);
    }

    /// <summary>In the kernel: the downlink MBR's bucket, drained before a handover's modification, is still drained after it.</summary>
    [SkippableFact]
    public void InTheKernel_AHandoverModification_DoesNotRefillTheMbrBucket_NorRestartTheDropCount()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var frame = Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 1, 2, payload: 72)); // 100-byte packets
        try
        {
            var compiled = h.Sessions.Establish(Basic(qers: [Limited]));
            // 1 kbit/s: the bucket holds two full frames (3028 bytes), about 30 of these packets.
            var verdicts = Enumerable.Range(0, 40).Select(_ => h.Run(frame).Verdict).ToArray();
            Assert.Equal(XdpAction.Drop, verdicts[^1]);
            var drops = MbrDrops(h, compiled.QerSlots[0]);
            Assert.InRange(drops, 9UL, 10UL);

            var modified = h.Sessions.Modify(HandedOver(Limited));

            Assert.Equal(compiled.QerSlots, modified.QerSlots);
            Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict); // a fresh slot would have passed it
            Assert.Equal(drops + 1, MbrDrops(h, modified.QerSlots[0]));
        }
        finally
        {
            foreach (var s in h.Sessions.Sessions)
                h.Sessions.Delete(s.Seid);
        }
    }

    private static ulong MbrDrops(GtpHarness h, uint qerSlot) =>
        (ulong)h.Datapath.Tables.QerStats.Read(qerSlot).Sum(q => (long)q.MbrDrops);
}

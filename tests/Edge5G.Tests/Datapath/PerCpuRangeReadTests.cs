using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// Usage checks read PDR counters a range at a time (one BPF_MAP_LOOKUP_BATCH): the range must
/// hold exactly what single lookups return, slot by slot and CPU by CPU.
/// </summary>
public class PerCpuRangeReadTests
{
    private static Counter[] Distinct(uint slot, int cpus) =>
        [.. Enumerable.Range(0, cpus).Select(cpu => new Counter { Packets = slot * 10UL + (ulong)cpu, Bytes = slot * 1000UL + (ulong)cpu })];

    [SkippableFact]
    public void ReadRange_OfPdrStats_EqualsOneLookupPerSlot()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var table = Assert.IsType<BpfPerCpuTable<Counter>>(h.Datapath.Tables.PdrStats);
        using var map = h.Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        var cpus = table.Cpus;
        try
        {
            for (uint slot = 3; slot <= 9; slot += 2)
                map.Update(slot, Distinct(slot, cpus));

            var range = new Counter[8 * cpus];
            table.ReadRange(2, range);

            for (uint slot = 2; slot < 10; slot++)
            {
                var single = new Counter[cpus];
                table.Read(slot, single);
                Assert.Equal(single, range.AsSpan((int)(slot - 2) * cpus, cpus).ToArray());
            }
            Assert.Equal(Distinct(5, cpus), range.AsSpan(3 * cpus, cpus).ToArray());
        }
        finally
        {
            for (uint slot = 3; slot <= 9; slot += 2)
                table.Reset(slot);
        }
    }

    [SkippableFact]
    public void ReadRange_FromSlotZero_AndPastTheEnd_ReadsZerosBeyondTheMap()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var table = Assert.IsType<BpfPerCpuTable<Counter>>(h.Datapath.Tables.PdrStats);
        using var map = h.Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        var cpus = table.Cpus;
        var last = table.Capacity - 1;
        try
        {
            map.Update(0, Distinct(1, cpus));
            map.Update(last, Distinct(2, cpus));

            var head = new Counter[2 * cpus];
            table.ReadRange(0, head);
            Assert.Equal(Distinct(1, cpus), head.AsSpan(0, cpus).ToArray());

            // Two slots asked from the last one: the second does not exist and reads as zero.
            var tail = Enumerable.Repeat(new Counter { Packets = 99 }, 2 * cpus).ToArray();
            table.ReadRange(last, tail);
            Assert.Equal(Distinct(2, cpus), tail.AsSpan(0, cpus).ToArray());
            Assert.All(tail.AsSpan(cpus).ToArray(), c => Assert.Equal(default, c));
        }
        finally
        {
            table.Reset(0);
            table.Reset(last);
        }
    }
}

using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// pdr_stats is a plain array with one region of counters per possible CPU (index
/// cpu * stride + slot): the program counts a packet in the region of the CPU that ran it, at
/// the PDR's slot, and nowhere else.
/// </summary>
public partial class PdrStatsRegionTests
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint size, ref ulong mask);

    /// <summary>Runs <paramref name="action"/> on a thread bound to <paramref name="cpu"/> (the test run executes on the caller's CPU).</summary>
    private static void OnCpu(int cpu, Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var mask = 1UL << cpu;
                if (sched_setaffinity(0, sizeof(ulong), ref mask) != 0)
                    throw new InvalidOperationException($"sched_setaffinity to CPU {cpu}: errno {Marshal.GetLastPInvokeError()}");
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"on CPU {cpu}: {failure.Message}", failure);
    }

    [SkippableFact]
    public void PacketsRunOnEachCpu_AreCountedInThatCpusRegion()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var table = Assert.IsType<BpfCpuRegionTable<Counter>>(h.Datapath.Tables.PdrStats);
        var compiled = h.Sessions.Establish(Basic());
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000);
        var cpus = Math.Min(Environment.ProcessorCount, 64);

        // CPU c forwards c + 1 packets.
        for (int cpu = 0; cpu < cpus; cpu++)
            OnCpu(cpu, () =>
            {
                for (int i = 0; i <= cpu; i++)
                    Assert.Equal(XdpAction.Tx, h.Run(Ethernet(RouterMac, GatewayMac, packet)).Verdict);
            });

        var perCpu = table.Read(compiled.PdrStats[2]);
        for (int cpu = 0; cpu < cpus; cpu++)
            Assert.Equal(new Counter { Packets = (ulong)cpu + 1, Bytes = (ulong)((cpu + 1) * packet.TotalLength) }, perCpu[cpu]);
    }

    [SkippableFact]
    public void APacket_IsCountedAtItsPdrsSlot_InTheRegionOfOneCpu_AndNowhereElse()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var table = Assert.IsType<BpfCpuRegionTable<Counter>>(h.Datapath.Tables.PdrStats);
        using var map = h.Datapath.Object.Map<uint, Counter>("pdr_stats");
        Assert.Equal(GtpHarness.DefaultOptions.Sessions * GtpHarness.DefaultOptions.RulesPerSession, table.Capacity);
        Assert.Equal((uint)(table.Capacity * BpfPerCpuMap<uint, Counter>.PossibleCpus), map.Info.MaxEntries);
        var compiled = h.Sessions.Establish(Basic());
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000);

        Assert.Equal(XdpAction.Tx, h.Run(Ethernet(RouterMac, GatewayMac, packet)).Verdict);

        var slot = compiled.PdrStats[2];
        var expected = new Counter { Packets = 1, Bytes = (ulong)packet.TotalLength };
        var perCpu = table.Read(slot);
        Assert.Equal(expected, Assert.Single(perCpu, c => !c.Equals(default(Counter))));
        var cpu = Array.IndexOf(perCpu, expected);
        Assert.Equal(expected, map.Lookup((uint)cpu * table.Capacity + slot));
        // Every other entry of the whole array is zero: no other slot, no other region.
        var nonzero = new List<uint>();
        var keys = new uint[4096];
        var values = new Counter[4096];
        uint? after = null;
        for (int read; (read = map.LookupBatch(after, keys, values)) > 0; after = keys[read - 1])
            for (int i = 0; i < read; i++)
                if (!values[i].Equals(default(Counter)))
                    nonzero.Add(keys[i]);
        Assert.Equal([(uint)cpu * table.Capacity + slot], nonzero);
    }
}

using System.Collections.Immutable;
using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// The GTP-U program loaded with small tables, "on a stick" on the loopback interface
/// (ifindex 1, roles access + core), routes to the gNB, the central UPF and the data network,
/// and a session table compiling into its maps. Frames run through BPF_PROG_TEST_RUN.
/// </summary>
public sealed class GtpHarness : IDisposable
{
    public const int Ifindex = 1;

    // Loading the program costs a second of verification: loaded programs are reused by later
    // tests with the same options, after every session is deleted, the counters zeroed and
    // pending events drained (see Dispose), so each test starts from the same state.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<GtpDatapathOptions, System.Collections.Concurrent.ConcurrentBag<GtpDatapath>> Pool = new();
    private readonly GtpDatapathOptions _options;

    public GtpHarness(GtpDatapathOptions? options = null)
    {
        // The uplink TEID and the UE address fall in the dense ranges (array lookups, as PFCP
        // allocates them); the N9 TEID does not (hash lookup): both paths are exercised.
        _options = options ?? DefaultOptions;
        var reused = true;
        if (!Pool.GetOrAdd(_options, _ => []).TryTake(out var datapath))
        {
            reused = false;
            datapath = GtpDatapath.Load(_options);
            datapath.SetInterface(Ifindex, InterfaceRoles.Access | InterfaceRoles.Core);
            datapath.AddLocalAddress(N3);
            datapath.AddLocalAddress(N3v6);
        }
        Datapath = datapath;
        NextHops = new StaticNextHops(Datapath.Tables.Nexthops,
        [
            new StaticRoute("default", Ifindex, GatewayMac, RouterMac),
            new StaticRoute("198.51.100.2/32", Ifindex, GatewayMac, GnbMac),
            new StaticRoute("198.51.100.3/32", Ifindex, GatewayMac, CentralUpfMac),
            new StaticRoute("2001:db8:3::2/128", Ifindex, GatewayMac, GnbMac),
            new StaticRoute("2001:db8:200::/48", Ifindex, GatewayMac, RouterMac),
        ]);
        Sessions = new SessionTable(Datapath.Tables, new GtpAddresses(N3, N3v6), NextHops);
        if (reused)
        {
            Sessions.Adopt([]); // as a restarted gateway does: every slot an earlier test used is zeroed
            Datapath.SetFragmentRate(_options.FragmentRate); // an earlier test may have changed them
            Datapath.SetBufferRate(_options.BufferRate);
        }
    }

    public static GtpDatapathOptions DefaultOptions { get; } = new()
    {
        Sessions = 1024, RuleLists = 64, SdfFilters = 256, NextHops = 16,
        TeidBase = TestSessions.UplinkTeid - 0x10, Ue4Pool = "192.0.2.0/24",
    };

    public GtpDatapath Datapath { get; }
    public StaticNextHops NextHops { get; }
    public SessionTable Sessions { get; }

    private static uint[] Keys(uint count) => Enumerable.Range(0, (int)count).Select(i => (uint)i).ToArray();

    public XdpRunResult Run(byte[] frame) => ProgramTestRun.RunXdp(Datapath.Program, frame, Ifindex);

    public ulong StatPackets(DatapathStat stat) => Datapath.Stat(stat).Packets;

    public Counter PdrCounter(ulong seid, ushort pdr) =>
        Sessions.TryGet(seid, out var s) ? Counter.Sum(Datapath.Tables.PdrStats.Read(s.PdrStats[pdr])) : default;

    /// <summary>
    /// Writes a stats slot's per-CPU counters as the program does when it counts packets: the
    /// counters, and the slot's activity stamp (pdr_seen) with the current usage epoch, which
    /// tells the PFCP node's usage check to read the slot.
    /// </summary>
    public void CountOnStatsSlot(uint slot, Counter[] perCpu)
    {
        using var stats = Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        using var epoch = Datapath.Object.Map<uint, ulong>("usage_epoch");
        using var seen = Datapath.Object.Map<uint, ulong>("pdr_seen");
        stats.Update(slot, perCpu);
        seen.Update(slot, epoch.Lookup(0));
    }

    public void Dispose()
    {
        foreach (var s in Sessions.Sessions)
            Sessions.Delete(s.Seid);
        Datapath.ResetCounters();
        // The next test may compile into these maps through a session table of its own, not
        // adopted (a PFCP node's): leave every slot's counters, token buckets and notification
        // times zero, as a fresh load has them.
        var t = Datapath.Tables;
        t.PdrStats.ResetAll(Keys(t.PdrStats.Capacity));
        t.QerStats.ResetAll(Keys(t.QerStats.Capacity));
        t.QerBuckets.PutMany(Keys(t.QerBuckets.Capacity), new BucketEntry[t.QerBuckets.Capacity]);
        t.PdrNotified.PutMany(Keys(t.PdrNotified.Capacity), new ulong[t.PdrNotified.Capacity]);
        t.UsageActivity?.Forget(Keys(t.PdrNotified.Capacity));
        using (var ring = new BpfRingBuffer<EventRecord>(Datapath.Object.MapDescriptor("events"), _ => { }))
            ring.Poll(TimeSpan.Zero);
        using (var ring = new BpfRingBuffer<SlowPacketRecord>(Datapath.Object.MapDescriptor("slow_packets"), _ => { }))
            ring.Poll(TimeSpan.Zero);
        Pool[_options].Add(Datapath);
    }
}

/// <summary>Sessions of the test topology, built like an SMF would send them.</summary>
public static class TestSessions
{
    public const uint UplinkTeid = 0x12345678;   // ours, on N3
    public const uint DownlinkTeid = 0x87654321; // the gNB's
    public const uint N9Teid = 0x0000a9a9;       // ours, on N9 (from the central UPF)
    public const uint CentralTeid = 0x00c0ffee;  // the central UPF's

    /// <summary>One PDU session: uplink PDR 1 (F-TEID, QFI-less catch-all) to N6, downlink PDR 2 to the gNB with QFI 9.</summary>
    public static Session Basic(ulong seid = 1, uint ulTeid = UplinkTeid, IPAddress? ue = null, uint dlTeid = DownlinkTeid,
        ImmutableArray<Qer> qers = default, IPAddress? gnb = null) =>
        new(seid,
            [
                new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(ulTeid, gnb is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ? null : N3,
                    gnb is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ? N3v6 : null), UeIpv4: ue ?? Ue), FarId: 1,
                    RemoveOuterHeader: true, QerIds: qers.IsDefault ? default : [1]),
                new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv4: ue ?? Ue), FarId: 2, QerIds: [1]),
            ],
            [
                new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
                new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(dlTeid, gnb ?? Gnb))),
            ],
            qers.IsDefault ? [new Qer(1, Qfi: 9)] : qers);
}

/// <summary>
/// A ULCL (uplink classifier) session: uplink to the local data network 203.0.113.128/25
/// breaks out here (N6), everything else goes over N9 to the central UPF; downlink from N6
/// and from N9 merges into the same N3 tunnel.
/// </summary>
public static class UlclSessions
{
    public const string LocalNetworkRule = "permit out ip from 203.0.113.128/25 to assigned";

    public static Session Session(ulong seid = 7) =>
        new(seid,
            [
                new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(TestSessions.UplinkTeid, N3), UeIpv4: Ue,
                    SdfFilters: [new SdfFilter(LocalNetworkRule)]), FarId: 1, RemoveOuterHeader: true),
                new Pdr(2, 200, new Pdi(InterfaceType.Access, new FTeid(TestSessions.UplinkTeid, N3), UeIpv4: Ue), FarId: 3, RemoveOuterHeader: true),
                new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv4: Ue), FarId: 2, QerIds: [1]),
                new Pdr(4, 100, new Pdi(InterfaceType.Core, new FTeid(TestSessions.N9Teid, N3)), FarId: 2, RemoveOuterHeader: true, QerIds: [1]),
            ],
            [
                new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
                new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(TestSessions.DownlinkTeid, Gnb))),
                new Far(3, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core, new OuterHeaderCreation(TestSessions.CentralTeid, CentralUpf))),
            ],
            [new Qer(1, Qfi: 9)]);
}

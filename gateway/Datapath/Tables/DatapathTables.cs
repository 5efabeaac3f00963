using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;

namespace LoxiLb.Edge5G.Datapath.Tables;

/// <summary>The GTP-U datapath's maps, as the compiler and the counters reader use them.</summary>
public sealed class DatapathTables
{
    public required IMapTable<FteidKey, MatchEntry> Fteids { get; init; }
    public required IMapTable<uint, MatchEntry> Ue4 { get; init; }
    public required IMapTable<Ue6Key, MatchEntry> Ue6 { get; init; }
    public required IMapTable<uint, RuleListEntry> RuleLists { get; init; }
    public required IMapTable<uint, SdfEntry> SdfFilters { get; init; }
    public required IMapTable<uint, PdrEntry> Pdrs { get; init; }
    public required IMapTable<uint, FarEntry> Fars { get; init; }
    public required IMapTable<uint, QerEntry> Qers { get; init; }
    public required IMapTable<uint, BucketEntry> QerBuckets { get; init; }
    public required IMapTable<uint, NexthopEntry> Nexthops { get; init; }
    public required IPerCpuTable<uint, Counter> PdrStats { get; init; }
    public required IPerCpuTable<uint, QerStats> QerStats { get; init; }
    public required IMapTable<uint, ulong> PdrNotified { get; init; }

    /// <summary>Tables over the maps of a loaded gtp.bpf.o.</summary>
    public static DatapathTables FromObject(BpfObject gtp) => new()
    {
        Fteids = new BpfHashTable<FteidKey, MatchEntry>(gtp.Map<FteidKey, MatchEntry>("fteids")),
        Ue4 = new BpfHashTable<uint, MatchEntry>(gtp.Map<uint, MatchEntry>("ue4")),
        Ue6 = new BpfHashTable<Ue6Key, MatchEntry>(gtp.Map<Ue6Key, MatchEntry>("ue6")),
        RuleLists = new BpfArrayTable<RuleListEntry>(gtp.Map<uint, RuleListEntry>("rule_lists")),
        SdfFilters = new BpfArrayTable<SdfEntry>(gtp.Map<uint, SdfEntry>("sdf_filters")),
        Pdrs = new BpfArrayTable<PdrEntry>(gtp.Map<uint, PdrEntry>("pdrs")),
        Fars = new BpfArrayTable<FarEntry>(gtp.Map<uint, FarEntry>("fars")),
        Qers = new BpfArrayTable<QerEntry>(gtp.Map<uint, QerEntry>("qers")),
        QerBuckets = new BpfArrayTable<BucketEntry>(gtp.Map<uint, BucketEntry>("qer_buckets")),
        Nexthops = new BpfArrayTable<NexthopEntry>(gtp.Map<uint, NexthopEntry>("nexthops")),
        PdrStats = new BpfPerCpuTable<Counter>(gtp.PerCpuMap<uint, Counter>("pdr_stats")),
        QerStats = new BpfPerCpuTable<QerStats>(gtp.PerCpuMap<uint, QerStats>("qer_stats")),
        PdrNotified = new BpfArrayTable<ulong>(gtp.Map<uint, ulong>("pdr_notified")),
    };

    /// <summary>In-memory tables with the given capacities, for compiler tests.</summary>
    public static DatapathTables InMemory(uint sessions = 1024, uint ruleLists = 64, uint sdfFilters = 256) => new()
    {
        Fteids = new MemoryTable<FteidKey, MatchEntry>(2 * sessions),
        Ue4 = new MemoryTable<uint, MatchEntry>(sessions),
        Ue6 = new MemoryTable<Ue6Key, MatchEntry>(sessions),
        RuleLists = new MemoryTable<uint, RuleListEntry>(ruleLists, isArray: true),
        SdfFilters = new MemoryTable<uint, SdfEntry>(sdfFilters, isArray: true),
        Pdrs = new MemoryTable<uint, PdrEntry>(4 * sessions, isArray: true),
        Fars = new MemoryTable<uint, FarEntry>(4 * sessions, isArray: true),
        Qers = new MemoryTable<uint, QerEntry>(sessions, isArray: true),
        QerBuckets = new MemoryTable<uint, BucketEntry>(2 * sessions, isArray: true),
        Nexthops = new MemoryTable<uint, NexthopEntry>(256, isArray: true),
        PdrStats = new MemoryPerCpuTable<Counter>(4 * sessions),
        QerStats = new MemoryPerCpuTable<QerStats>(sessions),
        PdrNotified = new MemoryTable<uint, ulong>(4 * sessions, isArray: true),
    };
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;

namespace LoxiLb.Edge5G.Datapath.Tables;

/// <summary>
/// Key ranges the datapath looks up by array index instead of hashing: TEIDs in
/// [TeidBase, TeidBase + TeidCount) and UE IPv4 addresses in [Ue4Base, Ue4Base + Ue4Count)
/// (host order). Keys outside them live in the hash maps.
/// </summary>
public sealed record DenseRanges(uint TeidBase, uint TeidCount, uint Ue4Base, uint Ue4Count)
{
    public static DenseRanges None { get; } = new(0, 0, 0, 0);

    public bool TryTeid(uint teid, out uint index)
    {
        index = teid - TeidBase;
        return teid != 0 && index < TeidCount;
    }

    public bool TryUe4(System.Net.IPAddress ue, out uint index)
    {
        var host = (uint)System.Net.IPAddress.NetworkToHostOrder((int)Abi.AddressBytes.Ipv4Word(ue));
        index = host - Ue4Base;
        return index < Ue4Count;
    }
}

/// <summary>The GTP-U datapath's maps, as the compiler and the counters reader use them.</summary>
public sealed record DatapathTables
{
    public DenseRanges Dense { get; init; } = DenseRanges.None;
    public required IMapTable<uint, TeidSlot> TeidSlots { get; init; }
    public required IMapTable<uint, Ue4Slot> Ue4Slots { get; init; }
    public required IMapTable<uint, MatchEntry> Matches { get; init; }
    public required IMapTable<FteidKey, MatchEntry> Fteids { get; init; }
    public required IMapTable<uint, MatchEntry> Ue4 { get; init; }
    public required IMapTable<Ue6Key, MatchEntry> Ue6 { get; init; }
    /// <summary>One entry: how many ue6 keys are exact addresses (0: downlink looks up /64s only).</summary>
    public IMapTable<uint, uint>? Ue6Exact { get; init; }
    /// <summary>Framed routes (networks behind UEs), an LPM trie: downlink looks here after the UE tables.</summary>
    public required IMapTable<RouteKey, MatchEntry> FramedRoutes { get; init; }
    public required IMapTable<uint, RuleListEntry> RuleLists { get; init; }
    public required IMapTable<uint, SdfEntry> SdfFilters { get; init; }
    public required IMapTable<uint, PdrEntry> Pdrs { get; init; }
    public required IMapTable<uint, QerEntry> Qers { get; init; }
    public required IMapTable<uint, BucketEntry> QerBuckets { get; init; }
    public required IMapTable<uint, NexthopEntry> Nexthops { get; init; }
    public required IPerCpuTable<uint, Counter> PdrStats { get; init; }
    public required IPerCpuTable<uint, QerStats> QerStats { get; init; }
    public required IMapTable<uint, ulong> PdrNotified { get; init; }
    /// <summary>Which PDRs counted since a usage check; null: every check reads every counter.</summary>
    public IUsageActivity? UsageActivity { get; init; }

    /// <summary>Tables over the maps of a loaded gtp.bpf.o.</summary>
    public static DatapathTables FromObject(BpfObject gtp, DenseRanges dense) => new()
    {
        Dense = dense,
        TeidSlots = new BpfArrayTable<TeidSlot>(gtp.Map<uint, TeidSlot>("teid_slots")),
        Ue4Slots = new BpfArrayTable<Ue4Slot>(gtp.Map<uint, Ue4Slot>("ue4_slots")),
        Matches = new BpfArrayTable<MatchEntry>(gtp.Map<uint, MatchEntry>("matches")),
        Fteids = new BpfHashTable<FteidKey, MatchEntry>(gtp.Map<FteidKey, MatchEntry>("fteids")),
        Ue4 = new BpfHashTable<uint, MatchEntry>(gtp.Map<uint, MatchEntry>("ue4")),
        Ue6 = new BpfHashTable<Ue6Key, MatchEntry>(gtp.Map<Ue6Key, MatchEntry>("ue6")),
        Ue6Exact = new BpfArrayTable<uint>(gtp.Map<uint, uint>("ue6_exact")),
        FramedRoutes = new BpfLpmTable<RouteKey, MatchEntry>(gtp.Map<RouteKey, MatchEntry>("framed_routes")),
        RuleLists = new BpfArrayTable<RuleListEntry>(gtp.Map<uint, RuleListEntry>("rule_lists")),
        SdfFilters = new BpfArrayTable<SdfEntry>(gtp.Map<uint, SdfEntry>("sdf_filters")),
        Pdrs = new BpfArrayTable<PdrEntry>(gtp.Map<uint, PdrEntry>("pdrs")),
        Qers = new BpfArrayTable<QerEntry>(gtp.Map<uint, QerEntry>("qers")),
        QerBuckets = new BpfArrayTable<BucketEntry>(gtp.Map<uint, BucketEntry>("qer_buckets")),
        Nexthops = new BpfArrayTable<NexthopEntry>(gtp.Map<uint, NexthopEntry>("nexthops")),
        PdrStats = new BpfPerCpuTable<Counter>(gtp.PerCpuMap<uint, Counter>("pdr_stats")),
        QerStats = new BpfPerCpuTable<QerStats>(gtp.PerCpuMap<uint, QerStats>("qer_stats")),
        PdrNotified = new BpfArrayTable<ulong>(gtp.Map<uint, ulong>("pdr_notified")),
        UsageActivity = new BpfUsageActivity(gtp.Map<uint, ulong>("usage_epoch"), gtp.Map<uint, ulong>("pdr_seen")),
    };

    /// <summary>In-memory tables with the given capacities, for compiler tests.</summary>
    public static DatapathTables InMemory(uint sessions = 1024, uint ruleLists = 64, uint sdfFilters = 256, DenseRanges? dense = null) => new()
    {
        Dense = dense ?? DenseRanges.None,
        TeidSlots = new MemoryTable<uint, TeidSlot>(2 * sessions, isArray: true),
        Ue4Slots = new MemoryTable<uint, Ue4Slot>(Math.Max(sessions, dense?.Ue4Count ?? 0), isArray: true),
        Matches = new MemoryTable<uint, MatchEntry>(4 * sessions, isArray: true),
        Fteids = new MemoryTable<FteidKey, MatchEntry>(2 * sessions),
        Ue4 = new MemoryTable<uint, MatchEntry>(sessions),
        Ue6 = new MemoryTable<Ue6Key, MatchEntry>(sessions),
        Ue6Exact = new MemoryTable<uint, uint>(1, isArray: true),
        FramedRoutes = new MemoryTable<RouteKey, MatchEntry>(sessions),
        RuleLists = new MemoryTable<uint, RuleListEntry>(ruleLists, isArray: true),
        SdfFilters = new MemoryTable<uint, SdfEntry>(sdfFilters, isArray: true),
        Pdrs = new MemoryTable<uint, PdrEntry>(4 * sessions, isArray: true),
        Qers = new MemoryTable<uint, QerEntry>(sessions, isArray: true),
        QerBuckets = new MemoryTable<uint, BucketEntry>(2 * sessions, isArray: true),
        Nexthops = new MemoryTable<uint, NexthopEntry>(256, isArray: true),
        PdrStats = new MemoryPerCpuTable<Counter>(4 * sessions),
        QerStats = new MemoryPerCpuTable<QerStats>(sessions),
        PdrNotified = new MemoryTable<uint, ulong>(4 * sessions, isArray: true),
        UsageActivity = new MemoryUsageActivity(4 * sessions),
    };
}

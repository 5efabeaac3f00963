using System.Net;
using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;

namespace LoxiLb.Edge5G.Datapath;

/// <summary>Sizes of the GTP-U datapath's tables, set before the program is loaded.</summary>
public sealed record GtpDatapathOptions
{
    /// <summary>Sessions the tables are sized for (F-TEIDs x2, PDRs and FARs x4, QERs x1).</summary>
    public uint Sessions { get; init; } = 65536;
    public uint RuleLists { get; init; } = 4096;
    public uint SdfFilters { get; init; } = 16384;
    public uint NextHops { get; init; } = 4096;
    /// <summary>Framed routes (networks behind UEs) across all sessions; the trie allocates per route.</summary>
    public uint FramedRoutes { get; init; } = 65536;
    /// <summary>PDRs and FARs per session the array maps are sized for.</summary>
    public uint RulesPerSession { get; init; } = 4;
    /// <summary>First TEID of the dense range (2 x Sessions TEIDs): the TEIDs the gateway allocates.</summary>
    public uint TeidBase { get; init; } = 0x00100000;
    /// <summary>Load this object file instead of the embedded program (cost breakdowns of modified builds).</summary>
    public string? ObjectFile { get; init; }

    /// <summary>IPv4 UE pool looked up by array index (CIDR), typically the pool PFCP allocates from.</summary>
    public string? Ue4Pool { get; init; }

    public DenseRanges Dense
    {
        get
        {
            uint ueBase = 0, ueCount = 0;
            if (Ue4Pool is { } pool)
            {
                var parts = pool.Split('/');
                var address = System.Net.IPAddress.Parse(parts[0]);
                var length = parts.Length > 1 ? int.Parse(parts[1]) : 32;
                ueBase = (uint)System.Net.IPAddress.NetworkToHostOrder(BitConverter.ToInt32(address.GetAddressBytes()));
                ueBase &= length == 0 ? 0 : uint.MaxValue << (32 - length);
                // The whole pool when it is small (the PFCP node hands out addresses anywhere in
                // it), else as many addresses as sessions; the rest of a huge pool is hashed.
                ueCount = (uint)Math.Min(length == 0 ? uint.MaxValue : (1UL << (32 - length)), Math.Max(Sessions, MinDenseUe4));
            }
            return new DenseRanges(TeidBase, 2 * Sessions, ueBase, ueCount);
        }
    }
    /// <summary>UE addresses of the pool always given array slots (8 bytes each: 512 KiB).</summary>
    public const uint MinDenseUe4 = 1 << 16;

    /// <summary>Restart counter in the Recovery IE of Echo Responses (TS 29.281 says 0).</summary>
    public byte Recovery { get; init; }

    /// <summary>
    /// Error Indications (TS 29.281 7.3.1) the datapath sends per second at most, for G-PDUs to
    /// our addresses with a TEID no session has; beyond it they are only dropped. 0 = never.
    /// </summary>
    public ushort ErrorIndicationRate { get; init; } = DefaultErrorIndicationRate;

    public const ushort DefaultErrorIndicationRate = 100;

    /// <summary>
    /// ICMP errors the datapath sends per second at most to the data network (Fragmentation
    /// Needed, Packet Too Big: a downlink packet too big once encapsulated); beyond it, or
    /// without a source address (<see cref="GtpDatapath.SetIcmpSources"/>), such packets are
    /// only dropped. 0 = never.
    /// </summary>
    public ushort IcmpErrorRate { get; init; } = DefaultIcmpErrorRate;

    public const ushort DefaultIcmpErrorRate = 100;

    /// <summary>
    /// Downlink IPv4 packets without DF, too big once encapsulated, the datapath hands per
    /// second at most to the control side (ring buffer slow_packets), which fragments them
    /// (<see cref="Gtpu.TooBigFragmenter"/>); beyond it they are dropped. 0 = never.
    /// </summary>
    public ushort FragmentRate { get; init; } = DefaultFragmentRate;

    public const ushort DefaultFragmentRate = 1000;

    /// <summary>
    /// Packets of FARs with BUFF the datapath hands per second at most to the control side,
    /// which holds them until the FAR forwards (the UE answered paging); beyond it they are
    /// dropped. 0 = never (every buffered packet is dropped).
    /// </summary>
    public ushort BufferRate { get; init; } = DefaultBufferRate;

    public const ushort DefaultBufferRate = 1000;
}

/// <summary>
/// The loaded GTP-U program (gtp/gtp.bpf.o) and its maps: interface roles, local GTP-U
/// addresses, the session tables the compiler writes, and the counters.
/// </summary>
public sealed class GtpDatapath : IDisposable
{
    public const string ObjectPath = "gtp/gtp.bpf.o";
    public const string ProgramName = "xdp_gtp";

    private readonly BpfMap<uint, IfaceEntry> _ifaces;
    private readonly BpfMap<uint, GtpConfigEntry> _config;
    private readonly BpfPerCpuMap<uint, IfStats> _ifStats;
    private readonly BpfMap<uint, RateWindow> _errorIndications, _icmpErrors;
    private readonly Dictionary<int, uint> _ifSlots = [];

    private GtpDatapath(BpfObject obj, GtpDatapathOptions options)
    {
        Object = obj;
        Options = options;
        Program = obj.Program(ProgramName);
        Tables = DatapathTables.FromObject(obj, options.Dense);
        _ifaces = obj.Map<uint, IfaceEntry>("ifaces");
        _config = obj.Map<uint, GtpConfigEntry>("config");
        _ifStats = obj.PerCpuMap<uint, IfStats>("if_stats");
        _errorIndications = obj.Map<uint, RateWindow>("error_indications");
        _icmpErrors = obj.Map<uint, RateWindow>("icmp_errors");
        WriteConfig((ref GtpConfigEntry c) =>
        {
            c.Recovery = options.Recovery;
            c.ErrorIndicationRate = options.ErrorIndicationRate;
            c.IcmpRate = options.IcmpErrorRate;
            c.FragmentRate = options.FragmentRate;
            c.BufferRate = options.BufferRate;
            c.TeidBase = options.Dense.TeidBase;
            c.TeidCount = options.Dense.TeidCount;
            c.Ue4Base = options.Dense.Ue4Base;
            c.Ue4Count = options.Dense.Ue4Count;
        });
        foreach (var (ifindex, entry) in ReadInterfaces())
            _ifSlots[ifindex] = entry.StatsSlot; // adopted maps keep their interface rows
    }

    private IEnumerable<(int, IfaceEntry)> ReadInterfaces()
    {
        for (uint i = 1; i < MaxIfindex; i++)
            if (_ifaces.TryLookup(i, out var e) && e.Roles != 0)
                yield return ((int)i, e);
    }

    public BpfObject Object { get; }
    public BpfProgram Program { get; }
    public DatapathTables Tables { get; }
    public GtpDatapathOptions Options { get; }

    /// <summary>
    /// Loads the program. With <paramref name="adoptMapsFrom"/>, the maps pinned there (by
    /// <see cref="PinMaps"/> of an earlier process) are reused instead of created: sessions,
    /// counters and configuration carry over.
    /// </summary>
    public static GtpDatapath Load(GtpDatapathOptions? options = null, string? adoptMapsFrom = null)
    {
        options ??= new GtpDatapathOptions();
        using var spec = options.ObjectFile is { } file ? BpfObjectSpec.OpenFile(file) : BpfObjectSpec.OpenEmbedded(ObjectPath);
        var s = options.Sessions;
        spec.SetMaxEntries("fteids", 2 * s);
        spec.SetMaxEntries("teid_slots", 2 * s);
        spec.SetMaxEntries("ue4_slots", Math.Max(1, options.Dense.Ue4Count));
        spec.SetMaxEntries("matches", 4 * s);
        spec.SetMaxEntries("ue4", s);
        spec.SetMaxEntries("ue6", s);
        var rules = options.RulesPerSession * s;
        spec.SetMaxEntries("pdrs", rules);
        spec.SetMaxEntries("pdr_stats", rules);
        spec.SetMaxEntries("pdr_notified", rules);
        spec.SetMaxEntries("pdr_seen", rules);
        spec.SetMaxEntries("qers", s);
        spec.SetMaxEntries("qer_buckets", 2 * s);
        spec.SetMaxEntries("qer_stats", s);
        spec.SetMaxEntries("rule_lists", options.RuleLists);
        spec.SetMaxEntries("sdf_filters", options.SdfFilters);
        spec.SetMaxEntries("nexthops", options.NextHops);
        spec.SetMaxEntries("framed_routes", options.FramedRoutes);
        if (adoptMapsFrom is not null)
        {
            CheckAbiStamp(adoptMapsFrom);
            foreach (var map in spec.MapNames.Where(IsPinnable))
                spec.ReusePinnedMap(map, Path.Combine(adoptMapsFrom, map));
        }
        var datapath = new GtpDatapath(spec.Load(), options);
        // Map<> duplicates the descriptor: closed here, not left for the finalizer (it would
        // keep the map alive after the datapath is disposed).
        using (var stamp = datapath.Object.Map<uint, ulong>(AbiStampMap))
            stamp.Update(0, AbiFingerprint.Current);
        return datapath;
    }

    public const string AbiStampMap = "abi_stamp";

    /// <summary>
    /// Refuses pinned maps created by a build with another ABI header (see <see cref="AbiFingerprint"/>),
    /// before anything is reused or created. Pins without a stamp are refused by the map check
    /// that follows (a build without abi_stamp).
    /// </summary>
    private static void CheckAbiStamp(string directory)
    {
        var path = Path.Combine(directory, AbiStampMap);
        if (!File.Exists(path))
            return;
        using var stamp = BpfMap<uint, ulong>.OpenPinned(path);
        var pinned = stamp.TryLookup(0, out var value) ? value : 0;
        if (pinned != AbiFingerprint.Current)
            throw new BpfException($"reuse pinned maps in '{directory}'", 22 /* EINVAL */,
                $"they were created by a build whose ABI header (edge5g_abi.h) has fingerprint {pinned:x16}, and this build's is " +
                $"{AbiFingerprint.Current:x16}: its entries may mean something else here (remove the pinned state to start empty, " +
                "losing its sessions, or run the build that pinned it)");
    }

    // libbpf's internal maps (.rodata, .bss) belong to one load; everything else is state.
    private static bool IsPinnable(string map) => !map.Contains('.');

    /// <summary>Pins every state map under <paramref name="directory"/> (one file per map).</summary>
    public void PinMaps(string directory)
    {
        foreach (var map in Object.MapNames.Where(IsPinnable))
        {
            using var fd = Object.MapDescriptor(map);
            BpfPins.Pin(fd, Path.Combine(directory, map), $"pin map '{map}'");
        }
    }

    /// <summary>Gives an interface its roles; the program ignores interfaces without any.</summary>
    public void SetInterface(int ifindex, InterfaceRoles roles)
    {
        if (ifindex <= 0 || ifindex >= MaxIfindex)
            throw new ArgumentOutOfRangeException(nameof(ifindex), ifindex,
                $"interface index {ifindex} is outside the datapath's table (1..{MaxIfindex - 1}); the ifaces map is indexed by ifindex");
        if (!_ifSlots.TryGetValue(ifindex, out var slot))
        {
            slot = (uint)_ifSlots.Count;
            if (slot >= AbiConstants.MaxInterfaces)
                throw new InvalidOperationException($"at most {AbiConstants.MaxInterfaces} interfaces can carry roles");
            _ifSlots[ifindex] = slot;
        }
        _ifaces.Update((uint)ifindex, new IfaceEntry { Roles = roles, StatsSlot = slot });
    }

    public void RemoveInterface(int ifindex) => _ifaces.Update((uint)ifindex, default);

    public const int MaxIfindex = 4096;

    /// <summary>Declares a GTP-U address of this gateway (an F-TEID address); at most four per family.</summary>
    public unsafe void AddLocalAddress(IPAddress address) => WriteConfig((ref GtpConfigEntry c) =>
    {
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var value = BitConverter.ToUInt32(bytes);
            for (int i = 0; i < c.Local4Count; i++)
                if (c.Local4[i] == value)
                    return;
            if (c.Local4Count == AbiConstants.MaxLocalAddresses)
                throw new InvalidOperationException($"at most {AbiConstants.MaxLocalAddresses} IPv4 GTP-U addresses: cannot add {address}");
            c.Local4[c.Local4Count++] = value;
        }
        else
        {
            var all = MemoryMarshal.CreateSpan(ref c.Local6[0], AbiConstants.MaxLocalAddresses * 16);
            for (int i = 0; i < c.Local6Count; i++)
                if (all.Slice(i * 16, 16).SequenceEqual(bytes))
                    return;
            if (c.Local6Count == AbiConstants.MaxLocalAddresses)
                throw new InvalidOperationException($"at most {AbiConstants.MaxLocalAddresses} IPv6 GTP-U addresses: cannot add {address}");
            bytes.CopyTo(all.Slice((int)c.Local6Count++ * 16, 16));
        }
    });

    public void SetRecovery(byte recovery) => WriteConfig((ref GtpConfigEntry c) => c.Recovery = recovery);

    public void SetErrorIndicationRate(ushort perSecond) => WriteConfig((ref GtpConfigEntry c) => c.ErrorIndicationRate = perSecond);

    public void SetIcmpErrorRate(ushort perSecond) => WriteConfig((ref GtpConfigEntry c) => c.IcmpRate = perSecond);

    public void SetFragmentRate(ushort perSecond) => WriteConfig((ref GtpConfigEntry c) => c.FragmentRate = perSecond);

    public void SetBufferRate(ushort perSecond) => WriteConfig((ref GtpConfigEntry c) => c.BufferRate = perSecond);

    /// <summary>
    /// The addresses ICMP errors to the data network come from (the core interface's, as a
    /// router answers from the interface the packet reached); null = none for that family, whose
    /// too-big packets are then only dropped.
    /// </summary>
    public unsafe void SetIcmpSources(IPAddress? ipv4, IPAddress? ipv6)
    {
        if (ipv4 is { AddressFamily: not System.Net.Sockets.AddressFamily.InterNetwork })
            throw new ArgumentException($"{ipv4} is not an IPv4 address", nameof(ipv4));
        if (ipv6 is { AddressFamily: not System.Net.Sockets.AddressFamily.InterNetworkV6 })
            throw new ArgumentException($"{ipv6} is not an IPv6 address", nameof(ipv6));
        WriteConfig((ref GtpConfigEntry c) =>
        {
            c.Icmp4Src = ipv4 is null ? 0 : BitConverter.ToUInt32(ipv4.GetAddressBytes());
            var v6 = MemoryMarshal.CreateSpan(ref c.Icmp6Src[0], 16);
            if (ipv6 is null)
                v6.Clear();
            else
                ipv6.GetAddressBytes().CopyTo(v6);
        });
    }

    private delegate void ConfigChange(ref GtpConfigEntry config);

    // Read-modify-write of the one config value: the ICMP sources change from the rtnetlink
    // monitor's thread while other settings may be written elsewhere.
    private readonly Lock _configGate = new();

    private void WriteConfig(ConfigChange change)
    {
        lock (_configGate)
        {
            var current = _config.Lookup(0);
            change(ref current);
            _config.Update(0, current);
        }
    }

    /// <summary>Packets and bytes per reason, summed over interfaces and CPUs.</summary>
    public IReadOnlyDictionary<DatapathStat, Counter> Stats()
    {
        var totals = ReasonTotals();
        var result = new Dictionary<DatapathStat, Counter>(totals.Length);
        for (int i = 0; i < totals.Length; i++)
            result[(DatapathStat)i] = totals[i];
        return result;
    }

    public Counter Stat(DatapathStat stat) =>
        stat < DatapathStat.Count ? ReasonTotals()[(int)stat] : throw new ArgumentOutOfRangeException(nameof(stat), stat, "not a datapath reason");

    /// <summary>Per reason (index: <see cref="DatapathStat"/>), the sum over the rows in use and the CPUs.</summary>
    private Counter[] ReasonTotals()
    {
        var totals = new Counter[(int)DatapathStat.Count];
        foreach (var row in RowsInUse())
            AddReasons(row, totals);
        return totals;
    }

    private void AddReasons(uint row, Counter[] totals)
    {
        if (!_ifStats.TryLookup(row, out var perCpu))
            return;
        foreach (ref readonly var cpu in perCpu.AsSpan())
            for (int i = 0; i < totals.Length; i++)
                Add(ref totals[i], cpu.Reason[i]);
    }

    /// <summary>Packets and bytes an interface received, by the verdict they got.</summary>
    public Counter InterfaceStat(int ifindex, XdpAction action)
    {
        if (!_ifSlots.TryGetValue(ifindex, out var slot) || (uint)action >= AbiConstants.XdpActions
            || !_ifStats.TryLookup(slot, out var perCpu))
            return default;
        Counter total = default;
        foreach (ref readonly var cpu in perCpu.AsSpan())
            Add(ref total, cpu.Verdict[(int)action]);
        return total;
    }

    /// <summary>
    /// Packets and bytes an interface received, by reason (what <see cref="Stats"/> sums over
    /// interfaces), indexed by <see cref="DatapathStat"/>: one lookup of the interface's row.
    /// </summary>
    public Counter[] InterfaceReasons(int ifindex)
    {
        var result = new Counter[(int)DatapathStat.Count];
        if (_ifSlots.TryGetValue(ifindex, out var slot))
            AddReasons(slot, result);
        return result;
    }

    public Counter InterfaceStat(int ifindex, DatapathStat stat) =>
        stat < DatapathStat.Count ? InterfaceReasons(ifindex)[(int)stat] : throw new ArgumentOutOfRangeException(nameof(stat), stat, "not a datapath reason");

    private static void Add(ref Counter total, in Counter c)
    {
        total.Packets += c.Packets;
        total.Bytes += c.Bytes;
    }

    /// <summary>The rows given to interfaces so far (slots are handed out in order) and the row of the rest.</summary>
    private IEnumerable<uint> RowsInUse()
    {
        var rows = _ifSlots.Count == 0 ? 0 : _ifSlots.Values.Max() + 1;
        for (uint row = 0; row < rows; row++)
            yield return row;
        yield return AbiConstants.IfRowOther;
    }

    public IReadOnlyDictionary<int, uint> InterfaceSlots => _ifSlots;

    /// <summary>
    /// Zeroes the reason and interface counters and the Error Indication and ICMP rate windows
    /// (per-rule counters restart with their slots).
    /// </summary>
    public void ResetCounters()
    {
        _errorIndications.Update(0, default);
        _icmpErrors.Update(0, default);
        for (uint i = 0; i < _ifStats.Info.MaxEntries; i++)
            _ifStats.UpdateAll(i, default);
    }

    /// <summary>Kernel memory charged to the program's maps (memlock of each map's fdinfo), in bytes.</summary>
    public long MapMemory() => Object.MapNames.Where(IsPinnable).Sum(n =>
    {
        using var fd = Object.MapDescriptor(n);
        return BpfMapInfo.Memlock(fd);
    });

    public void Dispose()
    {
        _ifaces.Dispose();
        _config.Dispose();
        _ifStats.Dispose();
        _errorIndications.Dispose();
        _icmpErrors.Dispose();
        (Tables.UsageActivity as IDisposable)?.Dispose();
        Object.Dispose();
    }
}

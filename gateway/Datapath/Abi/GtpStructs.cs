using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Datapath.Abi;

// C# mirrors of the GTP-U datapath structs in bpf/include/edge5g_abi.h. Field order, sizes
// and padding are checked against the header by AbiLayoutTests; comments there say why.

/// <summary>An absent index (no QER, no rule list, no next hop).</summary>
public static class AbiConstants
{
    public const uint None = 0xffffffff;
    public const int RulesPerList = 16;
    public const int MaxInterfaces = 64;
    /// <summary>The if_stats row of packets on interfaces without a role (after the rows of those with).</summary>
    public const uint IfRowOther = MaxInterfaces;
    public const int XdpActions = 5;
    public const int MaxLocalAddresses = 4;
}

[Flags]
[AbiEnum("EDGE5G_ROLE_")]
public enum InterfaceRoles : uint
{
    Access = 1,
    Core = 2,
    N9 = 4,
}

[AbiStruct("edge5g_iface")]
[StructLayout(LayoutKind.Sequential)]
public struct IfaceEntry
{
    public InterfaceRoles Roles;
    public uint StatsSlot;
}

[AbiStruct("edge5g_fteid_key")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FteidKey : IEquatable<FteidKey>
{
    /// <summary>Network byte order.</summary>
    public uint Teid;
    [AbiField("addr")] public fixed byte Address[16];

    // Owner and dense-key dictionaries hash these per request: without our own equality the
    // runtime falls back to ValueType.GetHashCode/Equals (reflection over the fixed buffer).
    public bool Equals(FteidKey other) =>
        Teid == other.Teid
        && Unsafe.ReadUnaligned<ulong>(ref Address[0]) == Unsafe.ReadUnaligned<ulong>(ref other.Address[0])
        && Unsafe.ReadUnaligned<ulong>(ref Address[8]) == Unsafe.ReadUnaligned<ulong>(ref other.Address[8]);

    public override bool Equals(object? obj) => obj is FteidKey other && Equals(other);

    public override int GetHashCode() =>
        HashCode.Combine(Teid, Unsafe.ReadUnaligned<ulong>(ref Address[0]), Unsafe.ReadUnaligned<ulong>(ref Address[8]));

    public static bool operator ==(FteidKey left, FteidKey right) => left.Equals(right);
    public static bool operator !=(FteidKey left, FteidKey right) => !left.Equals(right);

    public static FteidKey Create(uint teid, IPAddress local)
    {
        var key = new FteidKey { Teid = (uint)IPAddress.HostToNetworkOrder((int)teid) };
        AddressBytes.WriteMapped(local, new Span<byte>(key.Address, 16));
        return key;
    }
}

[AbiStruct("edge5g_ue6_key")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Ue6Key : IEquatable<Ue6Key>
{
    [AbiField("addr")] public fixed byte Address[16];

    // A dictionary key needs its own equality: ValueType.Equals on a fixed buffer compares
    // only its first byte.
    public bool Equals(Ue6Key other) =>
        Unsafe.ReadUnaligned<ulong>(ref Address[0]) == Unsafe.ReadUnaligned<ulong>(ref other.Address[0])
        && Unsafe.ReadUnaligned<ulong>(ref Address[8]) == Unsafe.ReadUnaligned<ulong>(ref other.Address[8]);

    public override bool Equals(object? obj) => obj is Ue6Key other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Unsafe.ReadUnaligned<ulong>(ref Address[0]), Unsafe.ReadUnaligned<ulong>(ref Address[8]));

    public static bool operator ==(Ue6Key left, Ue6Key right) => left.Equals(right);
    public static bool operator !=(Ue6Key left, Ue6Key right) => !left.Equals(right);

    /// <summary>The exact address.</summary>
    public static Ue6Key Create(IPAddress ipv6)
    {
        var key = new Ue6Key();
        ipv6.TryWriteBytes(new Span<byte>(key.Address, 16), out _);
        return key;
    }

    /// <summary>True for a /64 key (interface identifier zero), false for an exact address.</summary>
    public readonly bool IsPrefix64
    {
        get
        {
            fixed (byte* a = Address)
                return Unsafe.ReadUnaligned<ulong>(a + 8) == 0;
        }
    }

    /// <summary>The address's /64: its prefix, interface identifier zero.</summary>
    public static Ue6Key Prefix64(IPAddress ipv6)
    {
        var key = new Ue6Key();
        AddressBytes.WritePrefix64(ipv6, new Span<byte>(key.Address, 8));
        return key;
    }
}

/// <summary>A framed route in framed_routes (an LPM trie): IPv4 networks IPv4-mapped, their length + 96.</summary>
[AbiStruct("edge5g_route_key")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct RouteKey : IEquatable<RouteKey>
{
    public uint Prefixlen;
    [AbiField("addr")] public fixed byte Address[16];

    public bool Equals(RouteKey other) =>
        Prefixlen == other.Prefixlen
        && Unsafe.ReadUnaligned<ulong>(ref Address[0]) == Unsafe.ReadUnaligned<ulong>(ref other.Address[0])
        && Unsafe.ReadUnaligned<ulong>(ref Address[8]) == Unsafe.ReadUnaligned<ulong>(ref other.Address[8]);

    public override bool Equals(object? obj) => obj is RouteKey other && Equals(other);

    public override int GetHashCode() =>
        HashCode.Combine(Prefixlen, Unsafe.ReadUnaligned<ulong>(ref Address[0]), Unsafe.ReadUnaligned<ulong>(ref Address[8]));

    public static bool operator ==(RouteKey left, RouteKey right) => left.Equals(right);
    public static bool operator !=(RouteKey left, RouteKey right) => !left.Equals(right);

    public static RouteKey Create(IPNetwork route)
    {
        var v4 = route.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        var key = new RouteKey { Prefixlen = (uint)route.PrefixLength + (v4 ? 96u : 0u) };
        AddressBytes.WriteMapped(route.BaseAddress, new Span<byte>(key.Address, 16));
        return key;
    }

    /// <summary>The route as written ("198.51.100.0/24"), for refusals and listings.</summary>
    public readonly override string ToString()
    {
        fixed (byte* a = Address)
        {
            var bytes = new ReadOnlySpan<byte>(a, 16);
            var mapped = Prefixlen >= 96 && bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xff && bytes[11] == 0xff;
            return mapped ? $"{new IPAddress(bytes[12..])}/{Prefixlen - 96}" : $"{new IPAddress(bytes)}/{Prefixlen}";
        }
    }
}

[Flags]
[AbiEnum("EDGE5G_MATCH_")]
public enum MatchFlags : uint
{
    UeV4 = 1,
    UeV6 = 2,
}

[AbiStruct("edge5g_match")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MatchEntry
{
    public uint Pdr;
    public uint RuleList;
    public MatchFlags Flags;
    /// <summary>Network byte order.</summary>
    public uint UeIpv4;
    [AbiField("ue_ipv6_prefix")] public fixed byte UeIpv6Prefix[8];
    public byte Qfi;
    [AbiField("pad")] public fixed byte Pad[3];
}

[AbiStruct("edge5g_rule")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct RuleEntry
{
    public uint Pdr;
    public uint Sdf;
    public byte Qfi;
    [AbiField("pad")] public fixed byte Pad[3];
}

[AbiStruct("edge5g_rule_list")]
[StructLayout(LayoutKind.Sequential)]
public struct RuleListEntry
{
    public uint Count;
    public RuleArray Rules;

    [System.Runtime.CompilerServices.InlineArray(AbiConstants.RulesPerList)]
    public struct RuleArray
    {
        private RuleEntry _first;
    }
}

[AbiStruct("edge5g_sdf")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SdfEntry
{
    public byte Family;
    public byte Protocol;
    public byte Tos;
    public byte TosMask;
    public ushort SrcPortMin;
    public ushort SrcPortMax;
    public ushort DstPortMin;
    public ushort DstPortMax;
    [AbiField("src")] public fixed byte Src[16];
    [AbiField("src_mask")] public fixed byte SrcMask[16];
    [AbiField("dst")] public fixed byte Dst[16];
    [AbiField("dst_mask")] public fixed byte DstMask[16];
}

[AbiEnum("EDGE5G_DIR_")]
public enum Direction : byte
{
    Uplink = 0,
    Downlink = 1,
}

[AbiEnum("EDGE5G_OHR_")]
public enum OuterHeaderRemovalKind : byte
{
    None = 0,
    Gtpu = 1,
}

[AbiStruct("edge5g_pdr")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PdrEntry
{
    public uint Far;
    public uint Qer;
    public uint Stats;
    public Direction Direction;
    public OuterHeaderRemovalKind OuterHeaderRemoval;
    public PdrFlags Flags;
    /// <summary>The QER's QFI for pushed PDU Session Containers (0: keep the packet's), copied from it.</summary>
    public byte Qfi;
    /// <summary>The entry of <see cref="Far"/>, copied (the program reads PDR and FAR in one entry).</summary>
    [AbiField("fwd")] public FarEntry Forwarding;
    [AbiField("pad2")] public fixed byte Pad2[4];
}

[Flags]
[AbiEnum("EDGE5G_PDR_")]
public enum PdrFlags : byte
{
    /// <summary>A URR's volume quota is used up (and no FAR for the quota action): drop, counted as drop-quota.</summary>
    QuotaExhausted = 1,
    /// <summary>The QER's gate is closed in the PDR's direction.</summary>
    GateClosed = 2,
    /// <summary>The QER has an MBR in the PDR's direction: the program takes from its token bucket.</summary>
    Mbr = 4,
}

[Flags]
[AbiEnum("EDGE5G_FAR_")]
public enum FarAction : ushort
{
    Drop = 1,
    Forw = 2,
    Buff = 4,
    Nocp = 8,
}

[AbiEnum("EDGE5G_OHC_")]
public enum OuterHeaderCreationKind : byte
{
    None = 0,
    GtpuIpv4 = 1,
    GtpuIpv6 = 2,
}

[AbiEnum("EDGE5G_IF_")]
public enum InterfaceKind : byte
{
    Access = 0,
    Core = 1,
    SgiLan = 2,
    CpFunction = 3,
}

[AbiStruct("edge5g_far")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FarEntry
{
    public FarAction Action;
    [AbiField("ohc")] public OuterHeaderCreationKind OuterHeaderCreation;
    public InterfaceKind DestInterface;
    /// <summary>Network byte order.</summary>
    public uint Teid;
    public uint Nexthop;
    public byte Tos;
    [AbiField("pad")] public fixed byte Pad[3];
    [AbiField("peer")] public fixed byte Peer[16];
    [AbiField("local")] public fixed byte Local[16];
}

[AbiEnum("EDGE5G_GATE_")]
public enum Gate : byte
{
    Open = 0,
    Closed = 1,
}

[AbiStruct("edge5g_qer")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct QerEntry
{
    [AbiField("gate")] public fixed byte Gate[2];
    public byte Qfi;
    [AbiField("pad")] public fixed byte Pad[5];
    [AbiField("mbr")] public fixed ulong Mbr[2];
    [AbiField("burst")] public fixed ulong Burst[2];
}

[AbiStruct("edge5g_bucket")]
[StructLayout(LayoutKind.Sequential)]
public struct BucketEntry
{
    public uint Lock;
    public uint Pad;
    public ulong Tokens;
    public ulong LastNs;
}

[AbiStruct("edge5g_qer_stats")]
[StructLayout(LayoutKind.Sequential)]
public struct QerStats
{
    public ulong GateDrops;
    public ulong MbrDrops;
}

[AbiStruct("edge5g_nexthop")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NexthopEntry
{
    /// <summary>Where to transmit: for a VLAN egress device, its parent.</summary>
    public uint Ifindex;
    public ushort Mtu;
    public byte Valid;
    /// <summary>1: push <see cref="VlanProto"/>/<see cref="VlanTci"/> (the egress is a VLAN device).</summary>
    public byte Vlan;
    [AbiField("dmac")] public fixed byte DestinationMac[6];
    [AbiField("smac")] public fixed byte SourceMac[6];
    /// <summary>Network byte order.</summary>
    public ushort VlanProto;
    /// <summary>Network byte order.</summary>
    public ushort VlanTci;
}

[AbiStruct("edge5g_counter")]
[StructLayout(LayoutKind.Sequential)]
public struct Counter
{
    public ulong Packets;
    public ulong Bytes;

    public static Counter Sum(ReadOnlySpan<Counter> perCpu)
    {
        Counter total = default;
        foreach (var c in perCpu)
        {
            total.Packets += c.Packets;
            total.Bytes += c.Bytes;
        }
        return total;
    }
}

/// <summary>
/// One CPU's row of the per-CPU map if_stats: what one interface received, by XDP verdict and
/// by reason (one value, so the program looks it up once per packet).
/// </summary>
[AbiStruct("edge5g_if_stats")]
[StructLayout(LayoutKind.Sequential)]
public struct IfStats
{
    public VerdictCounters Verdict;
    public ReasonCounters Reason;

    [InlineArray(AbiConstants.XdpActions)]
    public struct VerdictCounters
    {
        private Counter _first;
    }

    [InlineArray((int)DatapathStat.Count)]
    public struct ReasonCounters
    {
        private Counter _first;
    }
}

/// <summary>Why a packet went where it went (index of <see cref="IfStats.Reason"/>).</summary>
[AbiEnum("EDGE5G_STAT_")]
public enum DatapathStat : uint
{
    ForwardUplink = 0,
    ForwardDownlink = 1,
    ForwardN9 = 2,
    EchoReplied = 3,
    EndMarker = 4,
    ErrorIndication = 5,
    PassNotOurs = 6,
    PassFragment = 7,
    PassNoRoute = 8,
    PassTtl = 9,
    PassSignalling = 10,
    DropMalformed = 11,
    DropNoSession = 12,
    DropNoRule = 13,
    DropFar = 14,
    DropBuffered = 15,
    DropGateClosed = 16,
    DropMbr = 17,
    DropMtu = 18,
    DropUnsupported = 19,
    ErrorIndicationSent = 20,
    RouterSolicitation = 21,
    DropQuota = 22,
    IcmpTooBigSent = 23,
    Fragmented = 24,
    Buffered = 25,
    Count = 26,
}

[AbiStruct("edge5g_config")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct GtpConfigEntry
{
    public byte Recovery;
    [AbiField("pad")] public byte Pad;
    /// <summary>Error Indications sent per second at most; 0 = none.</summary>
    [AbiField("error_indication_rate")] public ushort ErrorIndicationRate;
    /// <summary>Host order.</summary>
    public uint TeidBase;
    public uint TeidCount;
    /// <summary>Host order.</summary>
    public uint Ue4Base;
    public uint Ue4Count;
    [AbiField("local4_count")] public uint Local4Count;
    [AbiField("local6_count")] public uint Local6Count;
    /// <summary>Network order.</summary>
    [AbiField("local4")] public fixed uint Local4[AbiConstants.MaxLocalAddresses];
    [AbiField("local6")] public fixed byte Local6[AbiConstants.MaxLocalAddresses * 16];
    /// <summary>ICMP errors to the data network per second at most; 0 = none.</summary>
    [AbiField("icmp_rate")] public ushort IcmpRate;
    [AbiField("fragment_rate")] public ushort FragmentRate;
    /// <summary>Source of ICMP errors over IPv4, network order; 0 = none (dropped instead).</summary>
    [AbiField("icmp4_src")] public uint Icmp4Src;
    /// <summary>Source of ICMP errors over IPv6; :: = none.</summary>
    [AbiField("icmp6_src")] public fixed byte Icmp6Src[16];
    /// <summary>Packets of BUFF FARs handed to the control side per second at most; 0 = none.</summary>
    [AbiField("buffer_rate")] public ushort BufferRate;
    [AbiField("pad3")] public ushort Pad3;
}

[AbiStruct("edge5g_teid_slot")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct TeidSlot
{
    /// <summary>Network order; 0 = empty.</summary>
    public uint Teid;
    public uint Match;
    [AbiField("addr")] public fixed byte Address[16];
}

[AbiStruct("edge5g_ue4_slot")]
[StructLayout(LayoutKind.Sequential)]
public struct Ue4Slot
{
    /// <summary>Network order; 0 = empty.</summary>
    public uint Ue;
    public uint Match;
}

/// <summary>Value of the map error_indications: Error Indications sent in the current second.</summary>
[AbiStruct("edge5g_rate_window")]
[StructLayout(LayoutKind.Sequential)]
public struct RateWindow
{
    [AbiField("start_ns")] public ulong StartNs;
    public ulong Sent;
}

[AbiEnum("EDGE5G_EVENT_")]
public enum EventKind : uint
{
    DownlinkData = 1,
    ErrorIndication = 2,
    RouterSolicitation = 3,
}

[AbiStruct("edge5g_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct EventRecord
{
    public EventKind Kind;
    public uint Index;
    public uint Teid;
    public byte Qfi;
    [AbiField("pad")] public fixed byte Pad[3];
    [AbiField("peer")] public fixed byte Peer[16];
}

[AbiEnum("EDGE5G_SLOW_")]
public enum SlowPacketKind : uint
{
    /// <summary>Too big once encapsulated: fragment it and send the fragments down the record's tunnel.</summary>
    Fragment = 0,
    /// <summary>Its PDR's FAR buffers: hold it until the FAR forwards (only Stats, Len and the packet are set).</summary>
    Buffer = 1,
}

/// <summary>
/// A record of ring buffer slow_packets: an IPv4 packet without DF too big once encapsulated
/// (downlink from N6, or a G-PDU's inner packet re-encapsulated), with its FAR's tunnel, for
/// the control side to fragment and send.
/// </summary>
[AbiStruct("edge5g_slow_packet")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SlowPacketRecord
{
    public const int MaxPacket = 4096;

    public SlowPacketKind Kind;
    /// <summary>The PDR's stats slot (which PDR of which session).</summary>
    public uint Stats;
    /// <summary>Network byte order.</summary>
    public uint Teid;
    public ushort Mtu;
    public ushort Len;
    [AbiField("ohc")] public OuterHeaderCreationKind OuterHeaderCreation;
    public byte Qfi;
    public byte Tos;
    /// <summary>Of the PDU Session Container (TS 38.415): 0 DL, 1 UL.</summary>
    public byte PduType;
    [AbiField("peer")] public fixed byte Peer[16];
    [AbiField("local")] public fixed byte Local[16];
    [AbiField("packet")] public fixed byte Packet[MaxPacket];
}

/// <summary>Address encodings the datapath uses.</summary>
public static class AddressBytes
{
    // The writers below use TryWriteBytes: they run for every key and entry of every request,
    // and GetAddressBytes (and MapToIPv6) allocate.

    /// <summary>IPv6 as is, IPv4 as ::ffff:a.b.c.d (F-TEID keys, local address set).</summary>
    public static void WriteMapped(IPAddress address, Span<byte> destination)
    {
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            destination[..10].Clear();
            destination[10] = 0xff;
            destination[11] = 0xff;
            address.TryWriteBytes(destination.Slice(12, 4), out _);
        }
        else
        {
            address.TryWriteBytes(destination[..16], out _);
        }
    }

    /// <summary>IPv4 in the first four bytes, IPv6 in all sixteen (FAR peer/local, SDF).</summary>
    public static void WritePlain(IPAddress address, Span<byte> destination)
    {
        destination[..16].Clear();
        address.TryWriteBytes(destination, out _);
    }

    /// <summary>The first eight octets (the /64 prefix) of an IPv6 address.</summary>
    public static void WritePrefix64(IPAddress ipv6, Span<byte> destination)
    {
        Span<byte> all = stackalloc byte[16];
        ipv6.TryWriteBytes(all, out _);
        all[..8].CopyTo(destination);
    }

    /// <summary>An IPv4 address's four octets as a <see cref="uint"/> in memory order (how the maps key it).</summary>
    public static uint Ipv4Word(IPAddress ipv4)
    {
        Span<byte> octets = stackalloc byte[4];
        if (!ipv4.TryWriteBytes(octets, out var written) || written != 4)
            throw new ArgumentException($"{ipv4} is not an IPv4 address", nameof(ipv4));
        return System.Runtime.InteropServices.MemoryMarshal.Read<uint>(octets);
    }

    public static IPAddress ReadMapped(ReadOnlySpan<byte> source)
    {
        var address = new IPAddress(source[..16]);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}

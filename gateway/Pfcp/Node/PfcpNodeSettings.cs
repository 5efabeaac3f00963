using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Pfcp.Ies;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>What the N4 node needs to know, resolved from <see cref="PfcpOptions"/>.</summary>
public sealed record PfcpNodeSettings
{
    public required IPEndPoint Listen { get; init; }
    public required NodeId NodeId { get; init; }
    /// <summary>Source prefixes allowed to associate.</summary>
    public IReadOnlyList<Cidr> Peers { get; init; } = [];
    /// <summary>SMFs we set up associations towards.</summary>
    public IReadOnlyList<IPEndPoint> Smfs { get; init; } = [];
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);
    public int HeartbeatRetries { get; init; } = 3;
    public TimeSpan T1 { get; init; } = TimeSpan.FromSeconds(3);
    public int N1 { get; init; } = 3;
    public bool PurgeOnAssociationLoss { get; init; }
    public IReadOnlyList<Cidr> UePools { get; init; } = [];
    /// <summary>How often usage counters are read for thresholds, quotas and periods.</summary>
    public TimeSpan UsageTick { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long answered requests are remembered to answer retransmissions identically.</summary>
    public TimeSpan ResponseCacheTime { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Downlink packets held per PDR while its FAR buffers (the UE is being paged); more are dropped.</summary>
    public int BufferPackets { get; init; } = 32;
    /// <summary>Octets held over all PDRs; more are dropped.</summary>
    public long BufferBytes { get; init; } = 4 << 20;
    /// <summary>How long a held packet waits for its FAR to forward before it is dropped.</summary>
    public TimeSpan BufferTime { get; init; } = TimeSpan.FromSeconds(30);

    public static PfcpNodeSettings From(PfcpOptions o)
    {
        var address = IPAddress.Parse(o.Address!);
        return new PfcpNodeSettings
        {
            Listen = new IPEndPoint(address, o.Port),
            NodeId = string.IsNullOrEmpty(o.NodeId) ? NodeId.FromAddress(address)
                : IPAddress.TryParse(o.NodeId, out var a) ? NodeId.FromAddress(a) : NodeId.FromFqdn(o.NodeId),
            Peers = o.Peers.Select(Cidr.Parse).ToArray(),
            Smfs = o.Smfs.Select(s => IPEndPoint.TryParse(s, out var e) ? (e.Port == 0 ? new IPEndPoint(e.Address, 8805) : e)
                : throw new FormatException($"Pfcp.Smfs: '{s}' is not address[:port]")).ToArray(),
            HeartbeatInterval = TimeSpan.FromSeconds(o.HeartbeatIntervalSeconds),
            HeartbeatRetries = o.HeartbeatRetries,
            T1 = TimeSpan.FromMilliseconds(o.T1Milliseconds),
            N1 = o.N1,
            PurgeOnAssociationLoss = o.OnAssociationLoss == "purge",
            UePools = o.UePools.Select(Cidr.Parse).ToArray(),
            BufferPackets = o.BufferPackets,
            BufferBytes = o.BufferBytes,
            BufferTime = TimeSpan.FromSeconds(o.BufferSeconds),
        };
    }
}

/// <summary>Messages the node received, sent and refused, for /metrics (labels: type, cause, reason: all bounded).</summary>
public sealed class PfcpCounters
{
    private readonly ConcurrentDictionary<(string Direction, string Type, string Cause), long> _messages = new();
    private readonly ConcurrentDictionary<string, long> _dropped = new();

    /// <summary>A message from a peer; a response with its cause (an SMF refusing our Session Reports shows here).</summary>
    public void Received(PfcpMessageType type, PfcpCause? cause = null) =>
        _messages.AddOrUpdate(("in", type.ToString(), cause?.ToString() ?? ""), 1, (_, v) => v + 1);

    public void Sent(PfcpMessageType type, PfcpCause? cause) =>
        _messages.AddOrUpdate(("out", type.ToString(), cause?.ToString() ?? ""), 1, (_, v) => v + 1);

    /// <summary>Messages not processed: undecodable, from refused peers, retransmissions answered from cache...</summary>
    public void Dropped(string reason) => _dropped.AddOrUpdate(reason, 1, (_, v) => v + 1);

    public IReadOnlyDictionary<(string Direction, string Type, string Cause), long> Messages => _messages;
    public IReadOnlyDictionary<string, long> DroppedByReason => _dropped;

    public long DroppedCount(string reason) => _dropped.GetValueOrDefault(reason);

    private readonly ConcurrentDictionary<string, long> _userPlane = new();

    public const string EndMarkerSent = "end-marker-sent";
    public const string RouterAdvertisementSent = "router-advertisement-sent";
    public const string RouterSolicitationUnanswered = "router-solicitation-unanswered";
    public const string RouterAdvertisementUnsolicited = "router-advertisement-unsolicited";
    /// <summary>A URR's volume quota was used up and its PDRs were rewritten to the quota action (or drop).</summary>
    public const string QuotaEnforced = "quota-enforced";
    /// <summary>... and the rewrite failed (a full table): the PDRs still forward.</summary>
    public const string QuotaNotEnforced = "quota-not-enforced";
    /// <summary>A URR asks for a reporting trigger the node never fires (START, STOPT, DROTH, events...).</summary>
    public const string UrrTriggerUnsupported = "urr-trigger-unsupported";
    /// <summary>A GTP-U peer stopped answering Echo Requests (reported to the SMFs, UPFR).</summary>
    public const string GtpuPathFailed = "gtpu-path-failed";
    /// <summary>A failed GTP-U peer answers again (reported to the SMFs, UPRR).</summary>
    public const string GtpuPathRecovered = "gtpu-path-recovered";
    /// <summary>A packet of a buffering FAR held by the node (downlink buffering).</summary>
    public const string BufferHeld = "buffer-held";
    /// <summary>A held packet sent down the tunnel its FAR forwards into once the UE answered paging.</summary>
    public const string BufferSent = "buffer-sent";
    /// <summary>A held packet dropped: over the limits, expired, DROBU, its FAR drops or its session went.</summary>
    public const string BufferDropped = "buffer-dropped";

    /// <summary>Every value <see cref="UserPlane"/> takes (a bounded label set).</summary>
    public static readonly string[] UserPlaneEventNames =
        [EndMarkerSent, RouterAdvertisementSent, RouterSolicitationUnanswered, RouterAdvertisementUnsolicited, QuotaEnforced, QuotaNotEnforced,
            UrrTriggerUnsupported, GtpuPathFailed, GtpuPathRecovered, BufferHeld, BufferSent, BufferDropped];

    /// <summary>User-plane work of the control side, one of <see cref="UserPlaneEventNames"/>.</summary>
    public void UserPlane(string what) => _userPlane.AddOrUpdate(what, 1, (_, v) => v + 1);

    public void UserPlane(string what, long count) => _userPlane.AddOrUpdate(what, count, (_, v) => v + count);

    public IReadOnlyDictionary<string, long> UserPlaneEvents => _userPlane;

    public long UserPlaneCount(string what) => _userPlane.GetValueOrDefault(what);

    private long _usageRead, _usageIdle;

    /// <summary>Usage checks that read a session's counters (it counted packets, was due, or changed).</summary>
    public long UsageChecksRead => Volatile.Read(ref _usageRead);
    /// <summary>Usage checks that passed a session over on the datapath's activity marks, reading nothing.</summary>
    public long UsageChecksIdle => Volatile.Read(ref _usageIdle);

    private long _usageTicks, _usageTickTicks, _usageTickLongest;

    /// <summary>Usage checks run (one a UsageTick), and the time they took in all.</summary>
    public long UsageTicks => Volatile.Read(ref _usageTicks);
    public TimeSpan UsageTickTime => TimeSpan.FromTicks(Volatile.Read(ref _usageTickTicks));

    /// <summary>The longest usage check since the last call, and a fresh start.</summary>
    public TimeSpan TakeLongestUsageTick() => TimeSpan.FromTicks(Interlocked.Exchange(ref _usageTickLongest, 0));

    internal void UsageTickTook(TimeSpan took)
    {
        Interlocked.Increment(ref _usageTicks);
        Interlocked.Add(ref _usageTickTicks, took.Ticks);
        long longest;
        while (took.Ticks > (longest = Volatile.Read(ref _usageTickLongest))
            && Interlocked.CompareExchange(ref _usageTickLongest, took.Ticks, longest) != longest)
        {
        }
    }

    internal void UsageChecked(int read, int idle)
    {
        Interlocked.Add(ref _usageRead, read);
        Interlocked.Add(ref _usageIdle, idle);
    }
}

/// <summary>TEIDs handed out on our GTP-U addresses (one space for all of them).</summary>
public sealed class TeidAllocator
{
    private readonly HashSet<uint> _used = [];
    private uint _next;

    public TeidAllocator(uint seed = 0x00001000) => _next = seed;

    public uint Allocate()
    {
        for (long tries = 0; tries < uint.MaxValue; tries++)
        {
            var teid = _next++;
            if (teid != 0 && _used.Add(teid))
                return teid;
        }
        throw new InvalidOperationException("no free TEID");
    }

    /// <summary>Marks a TEID the SMF chose (or a restarted node adopted) as taken.</summary>
    public bool Reserve(uint teid) => _used.Add(teid);

    public void Release(uint teid) => _used.Remove(teid);
}

/// <summary>
/// UE addresses from configured pools: IPv4 hosts, IPv6 /64 prefixes. Each pool hands out
/// addresses from a cursor, so an allocation costs the same with 100,000 UEs as with none
/// (it used to scan from the start of the pool every time). Released addresses are handed
/// out first, most recent first (a failed request gives its address back to the next one).
/// </summary>
public sealed class UeAddressPool
{
    private readonly IReadOnlyList<Cidr> _pools;
    private readonly HashSet<IPAddress> _used = [];
    private readonly ulong[] _cursor;
    private readonly Stack<IPAddress> _released4 = new(), _released6 = new();

    public UeAddressPool(IReadOnlyList<Cidr> pools)
    {
        _pools = pools;
        _cursor = new ulong[pools.Count];
    }

    public IPAddress? Allocate(AddressFamily family)
    {
        var released = family == AddressFamily.InterNetwork ? _released4 : _released6;
        while (released.TryPop(out var again))
            if (_used.Add(again))
                return again;
        for (int p = 0; p < _pools.Count; p++)
        {
            var pool = _pools[p];
            if (pool.Network.AddressFamily != family)
                continue;
            var bytes = pool.Network.GetAddressBytes();
            if (family == AddressFamily.InterNetwork)
            {
                var baseValue = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(bytes));
                var size = pool.Length >= 31 ? 1u << (32 - pool.Length) : (1u << (32 - pool.Length)) - 2;
                var first = pool.Length >= 31 ? baseValue : baseValue + 1; // skip the network address
                for (ulong tried = 0; tried < size; tried++)
                {
                    var i = (uint)(_cursor[p]++ % size);
                    var candidate = new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)(first + i))));
                    if (_used.Add(candidate))
                        return candidate;
                }
            }
            else
            {
                // One /64 per PDU session: vary the bits between the pool's length and 64.
                var count = pool.Length >= 64 ? 1UL : 1UL << Math.Min(63 - pool.Length + 1, 20);
                var prefixBase = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
                for (ulong tried = 0; tried < count; tried++)
                {
                    var i = 1 + _cursor[p]++ % count;
                    var b = (byte[])bytes.Clone();
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b, prefixBase + (pool.Length >= 64 ? 0 : i));
                    var candidate = new IPAddress(b);
                    if (_used.Add(candidate))
                        return candidate;
                }
            }
        }
        return null;
    }

    public void Release(IPAddress address)
    {
        if (_used.Remove(address))
            (address.AddressFamily == AddressFamily.InterNetwork ? _released4 : _released6).Push(address);
    }

    /// <summary>Marks an address as taken (sessions adopted after a restart).</summary>
    public void Reserve(IPAddress address) => _used.Add(address);
}

using System.Buffers;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Datapath.Sdf;
using LoxiLb.Edge5G.Datapath.Tables;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>Our GTP-U addresses: N3 (access) and N9/core; FARs take their outer source from here.</summary>
public sealed record GtpAddresses(IPAddress? AccessIpv4, IPAddress? AccessIpv6 = null, IPAddress? CoreIpv4 = null, IPAddress? CoreIpv6 = null)
{
    public IEnumerable<IPAddress> All => new[] { AccessIpv4, AccessIpv6, CoreIpv4, CoreIpv6 }.OfType<IPAddress>().Distinct();

    /// <summary>The source address for tunnels towards <paramref name="destination"/> in a family.</summary>
    public IPAddress? LocalFor(InterfaceType destination, AddressFamily family)
    {
        var access = family == AddressFamily.InterNetwork ? AccessIpv4 : AccessIpv6;
        var core = family == AddressFamily.InterNetwork ? CoreIpv4 : CoreIpv6;
        return destination == InterfaceType.Access ? access ?? core : core ?? access;
    }
}

/// <summary>A next-hop slot a session's FAR uses and its destination (null: the data network).</summary>
public sealed record NextHopRecord(uint Slot, string? Destination);

/// <summary>An installed session as saved for a restarted daemon to adopt.</summary>
public sealed record SessionRecord(
    Json.SessionJson Session,
    Dictionary<ushort, uint> PdrSlots,
    Dictionary<ushort, uint> Stats,
    uint[] FarSlots,
    uint[] QerSlots,
    uint[] SdfSlots,
    uint[] RuleListSlots,
    NextHopRecord[] NextHops,
    DenseKeyRecord[]? DenseKeys = null);

/// <summary>A key published through a dense array: kind ("fteid" or "ue4"), key bytes (hex), array index, match slot.</summary>
public sealed record DenseKeyRecord(string Kind, string Key, uint Index, uint Match);

/// <summary>Next-hop providers that can take over slots a previous process allocated.</summary>
public interface INextHopRestorer
{
    void Restore(uint slot, IPAddress? destination);
}

/// <summary>A session as installed: its model, the slots it occupies and the keys it owns.</summary>
public sealed class CompiledSession
{
    internal CompiledSession(Session session) => Session = session;

    public Session Session { get; }
    public ulong Seid => Session.Seid;

    // Most sessions leave several of the collections below empty, and each held object is one
    // more for the GC to copy and mark: they are created on first use.
    private static T Lazy<T>(ref T? field) where T : class, new() =>
        field ?? Interlocked.CompareExchange(ref field, new T(), null) ?? field;

    /// <summary>PDR id -> index of its counters in pdr_stats (stable across modifications).</summary>
    public SlotMap PdrStats => new(this, SlotKind.PdrStats);

    /// <summary>The slots and IPv4 keys below, all in one array.</summary>
    internal ref SlotStore Slots => ref _slots;
    private SlotStore _slots;

    internal SlotList PdrSlots => new(this, SlotKind.Pdr);
    internal SlotList FarSlots => new(this, SlotKind.Far);
    internal SlotList QerSlots => new(this, SlotKind.Qer);
    internal SlotList SdfSlots => new(this, SlotKind.Sdf);
    internal SlotList RuleListSlots => new(this, SlotKind.RuleList);
    internal SlotList NextHops => new(this, SlotKind.NextHop);
    /// <summary>Next-hop slot -> its destination (null: the data network), to adopt them after a restart.</summary>
    internal Dictionary<uint, IPAddress?> NextHopDestinations => Lazy(ref field);
    internal SmallList<FteidKey> FteidKeys => Lazy(ref field);
    internal SlotList Ue4Keys => new(this, SlotKind.Ue4Key);
    internal SmallList<Ue6Key> Ue6Keys => Lazy(ref _ue6Keys);
    /// <summary>The IPv6 keys without creating the list: most sessions have none.</summary>
    internal IReadOnlyList<Ue6Key> Ue6KeysRead => _ue6Keys ?? (IReadOnlyList<Ue6Key>)[];
    private SmallList<Ue6Key>? _ue6Keys;
    internal SmallList<RouteKey> RouteKeys => Lazy(ref _routeKeys);
    /// <summary>The framed routes without creating the list: most sessions have none.</summary>
    internal IReadOnlyList<RouteKey> RouteKeysRead => _routeKeys ?? (IReadOnlyList<RouteKey>)[];
    private SmallList<RouteKey>? _routeKeys;
    /// <summary>Keys published through the dense arrays: key -> (array index, match slot).</summary>
    internal SmallMap<FteidKey, (uint Index, uint Match)> DenseFteids => Lazy(ref field);
    internal SmallMap<uint, (uint Index, uint Match)> DenseUe4 => Lazy(ref field);
    internal SlotList MatchSlots => new(this, SlotKind.Match);
    /// <summary>PDR id -> its slot in pdrs (changes on every modification).</summary>
    internal SlotMap PdrSlotById => new(this, SlotKind.PdrSlotById);
}

/// <summary>
/// The running session state of the GTP-U datapath and the compiler into its maps.
/// Establish, Modify and Delete validate first and change nothing when they refuse; they
/// write in a safe order (filters, QERs, PDRs with their FARs, rule lists, then the match entries that
/// publish them); a modification is written to fresh slots and switched over per key, so a
/// packet sees the old session or the new one, never a mix.
/// </summary>
/// <remarks>
/// The maps must be freshly created, or taken over with <see cref="Adopt"/>: a slot's counters
/// and token buckets are zeroed when it leaves quarantine, not when it is taken, so slots never
/// used by this table are assumed zero (after <see cref="Adopt"/>, slots not adopted are zeroed before their first use).
/// </remarks>
public sealed class SessionTable
{
    private readonly object _gate = new();
    private readonly DatapathTables _tables;
    private readonly INextHops _nextHops;
    private readonly GtpAddresses _addresses;
    /// <summary><see cref="GtpAddresses.All"/> once: it builds a distinct set each call, and every F-TEID is checked against it.</summary>
    private readonly IPAddress[] _localAddresses;
    private readonly Dictionary<ulong, CompiledSession> _sessions = [];
    private readonly Dictionary<FteidKey, ulong> _fteidOwners = [];
    private readonly Dictionary<uint, ulong> _ue4Owners = [];
    private readonly Dictionary<Ue6Key, ulong> _ue6Owners = [];
    private readonly Dictionary<RouteKey, ulong> _routeOwners = [];
    // Exact (not /64) keys in ue6, and the count the datapath was last told: while it is 0,
    // IPv6 downlink skips the exact lookup and pays one hash lookup, not two.
    private int _ue6Exact, _publishedUe6Exact = -1;
    private readonly SlotAllocator _pdrSlots, _farSlots, _qerSlots, _sdfSlots, _ruleListSlots, _statsSlots, _matchSlots;
    // Establishments whose map writes wait for CommitHeldWrites; _holdFor is the SEID whose
    // apply is running held (null: writes go to the maps at once).
    private readonly PendingWrites _held;
    private ulong? _holdFor;
    private readonly List<ulong> _withdrawn = [];

    public SessionTable(DatapathTables tables, GtpAddresses addresses, INextHops? nextHops = null, TimeProvider? time = null,
        TimeSpan? quarantine = null)
    {
        _tables = tables;
        _held = new PendingWrites(tables);
        _addresses = addresses;
        _localAddresses = [.. addresses.All];
        _nextHops = nextHops ?? FibOnlyNextHops.Instance;
        _pdrSlots = new SlotAllocator("pdrs", tables.Pdrs.Capacity, time, quarantine);
        // FARs live in their PDRs' entries (edge5g_pdr.fwd); their slots only number them, as
        // many as there are PDR slots.
        _farSlots = new SlotAllocator("fars", tables.Pdrs.Capacity, time, quarantine);
        _qerSlots = new SlotAllocator("qers", Math.Min(tables.Qers.Capacity, tables.QerBuckets.Capacity / 2), time, quarantine,
            clean: CleanQerSlots);
        _sdfSlots = new SlotAllocator("sdf_filters", tables.SdfFilters.Capacity, time, quarantine);
        _ruleListSlots = new SlotAllocator("rule_lists", tables.RuleLists.Capacity, time, quarantine);
        _matchSlots = new SlotAllocator("matches", tables.Matches.Capacity, time, quarantine);
        _statsSlots = new SlotAllocator("pdr_stats", Math.Min(tables.PdrStats.Capacity, tables.PdrNotified.Capacity), time, quarantine,
            clean: CleanStatsSlots);
    }

    // A reused slot must not carry its previous rule's counters, drops, token buckets or last
    // notification time. They are zeroed as slots leave quarantine, in batches (one syscall per
    // map for all of them), so a new rule's slots need no writes of their own.
    private void CleanQerSlots(ReadOnlySpan<uint> slots)
    {
        var buckets = ArrayPool<uint>.Shared.Rent(slots.Length * 2);
        try
        {
            for (int i = 0; i < slots.Length; i++)
                (buckets[2 * i], buckets[2 * i + 1]) = (slots[i] * 2, slots[i] * 2 + 1);
            _tables.QerBuckets.Zero(buckets.AsSpan(0, slots.Length * 2));
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(buckets);
        }
        _tables.QerStats.ResetAll(slots);
    }

    private void CleanStatsSlots(ReadOnlySpan<uint> slots)
    {
        _tables.PdrStats.ResetAll(slots);
        _tables.PdrNotified.Zero(slots);
        _tables.UsageActivity?.Forget(slots); // a fresh PDR's session is not read until it counts
    }

    public GtpAddresses Addresses => _addresses;

    /// <summary>Incremented by every change: lets the state saver skip unchanged seconds.</summary>
    public int Version => _version;
    private int _version;

    /// <summary>Rule-table occupancy for /metrics: slots or keys in use and the capacity of each table.</summary>
    public IReadOnlyList<(string Table, uint InUse, uint Capacity)> Occupancy()
    {
        lock (_gate)
            return
            [
                ("fteids", (uint)_fteidOwners.Count, _tables.Fteids.Capacity),
                ("ue4", (uint)_ue4Owners.Count, _tables.Ue4.Capacity),
                ("ue6", (uint)_ue6Owners.Count, _tables.Ue6.Capacity),
                ("framed_routes", (uint)_routeOwners.Count, _tables.FramedRoutes.Capacity),
                (_pdrSlots.Name, _pdrSlots.InUse, _pdrSlots.Capacity),
                (_farSlots.Name, _farSlots.InUse, _farSlots.Capacity),
                (_qerSlots.Name, _qerSlots.InUse, _qerSlots.Capacity),
                (_sdfSlots.Name, _sdfSlots.InUse, _sdfSlots.Capacity),
                (_ruleListSlots.Name, _ruleListSlots.InUse, _ruleListSlots.Capacity),
                (_matchSlots.Name, _matchSlots.InUse, _matchSlots.Capacity),
            ];
    }

    /// <summary>Every framed route downlink looks up, with its session and PDR, in route order.</summary>
    public IReadOnlyList<(IPNetwork Route, ulong Seid, ushort Pdr)> FramedRoutes()
    {
        lock (_gate)
        {
            var routes = new List<(IPNetwork, ulong, ushort)>();
            foreach (var (seid, compiled) in _sessions)
                foreach (var pdr in compiled.Session.Pdrs)
                    if (pdr.Pdi.LocalFTeid is null && pdr.Pdi.SourceInterface != InterfaceType.Access)
                        foreach (var route in pdr.Pdi.Routes)
                            routes.Add((route, seid, pdr.Id));
            return [.. routes.OrderBy(r => r.Item1.BaseAddress.AddressFamily).ThenBy(r => r.Item1.BaseAddress, AddressOrder.Instance).ThenBy(r => r.Item1.PrefixLength)];
        }
    }

    private sealed class AddressOrder : IComparer<IPAddress>
    {
        public static readonly AddressOrder Instance = new();
        public int Compare(IPAddress? x, IPAddress? y) => x!.GetAddressBytes().AsSpan().SequenceCompareTo(y!.GetAddressBytes());
    }

    /// <summary>QER slots in use (for summing per-QER drop counters).</summary>
    public IReadOnlyList<uint> QerSlots()
    {
        lock (_gate)
            return _sessions.Values.SelectMany(s => s.QerSlots).ToArray();
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _sessions.Count;
        }
    }

    public IReadOnlyList<CompiledSession> Sessions
    {
        get
        {
            lock (_gate)
                return _sessions.Values.OrderBy(s => s.Seid).ToArray();
        }
    }

    public bool TryGet(ulong seid, out CompiledSession session)
    {
        lock (_gate)
            return _sessions.TryGetValue(seid, out session!);
    }

    /// <summary>The sessions of <paramref name="seids"/> (null where there is none), under one lock: for walks over many.</summary>
    public void GetMany(ReadOnlySpan<ulong> seids, Span<CompiledSession?> into)
    {
        if (into.Length < seids.Length)
            throw new ArgumentException($"room for {into.Length} sessions, {seids.Length} asked for", nameof(into));
        lock (_gate)
            for (int i = 0; i < seids.Length; i++)
                into[i] = _sessions.GetValueOrDefault(seids[i]);
    }

    /// <summary>Installs a new session. Throws <see cref="RuleException"/> and changes nothing on refusal.</summary>
    /// <param name="holdWrites">
    /// Queue the session's map writes until <see cref="CommitHeldWrites"/>, so a batch of
    /// establishments writes each map once. Nothing reaches the session until then; any other
    /// change to the table commits first.
    /// </param>
    public CompiledSession Establish(Session session, bool holdWrites = false)
    {
        lock (_gate)
        {
            if (!holdWrites)
                CommitHeldLocked();
            if (_sessions.ContainsKey(session.Seid))
                throw new RuleException(RuleError.Conflict, $"session SEID {session.Seid} already exists");
            var plan = Plan(session, previous: null);
            _holdFor = holdWrites ? session.Seid : null;
            try
            {
                return Apply(plan, previous: null);
            }
            finally
            {
                _holdFor = null;
                PublishUe6Exact();
            }
        }
    }

    /// <summary>Map writes held back by establishments, not yet committed.</summary>
    public int HeldWrites
    {
        get
        {
            lock (_gate)
                return _held.Count;
        }
    }

    /// <summary>
    /// Writes what the held establishments queued: every slot table in one call each, then
    /// the keys that publish them. A session with a write the kernel refuses is withdrawn
    /// (removed as by <see cref="Delete"/>; the others are unaffected). Returns the SEIDs
    /// withdrawn since the last call, also by the commits other changes make first.
    /// </summary>
    public IReadOnlyList<ulong> CommitHeldWrites()
    {
        lock (_gate)
        {
            CommitHeldLocked();
            if (_withdrawn.Count == 0)
                return [];
            var withdrawn = _withdrawn.ToArray();
            _withdrawn.Clear();
            return withdrawn;
        }
    }

    private void CommitHeldLocked()
    {
        if (_held.Count == 0)
            return;
        var (failed, errors) = _held.Flush();
        if (failed.Count == 0)
            return;
        WithdrawnBecause = errors[^1];
        foreach (var seid in failed)
        {
            _withdrawn.Add(seid);
            if (!_sessions.TryGetValue(seid, out var compiled))
                continue;
            try
            {
                Remove(compiled, published: false);
            }
            catch (Exception e)
            {
                // Left in the table: Delete can try again (the node does, as it forgets the session).
                WithdrawnBecause = e;
            }
        }
        PublishUe6Exact();
    }

    /// <summary>Why the last withdrawn session's write failed (for the log).</summary>
    public Exception? WithdrawnBecause { get; private set; }

    /// <summary>Replaces session <c>session.Seid</c> by this new version of it.</summary>
    public CompiledSession Modify(Session session)
    {
        lock (_gate)
        {
            CommitHeldLocked();
            if (!_sessions.TryGetValue(session.Seid, out var previous))
                throw new RuleException(RuleError.UnknownSession, $"no session with SEID {session.Seid}");
            var plan = Plan(session, previous);
            try
            {
                return Apply(plan, previous);
            }
            finally
            {
                PublishUe6Exact();
            }
        }
    }

    /// <summary>Removes a session: its match entries first, then its slots (quarantined).</summary>
    public Session Delete(ulong seid)
    {
        lock (_gate)
        {
            CommitHeldLocked();
            if (!_sessions.TryGetValue(seid, out var compiled))
                throw new RuleException(RuleError.UnknownSession, $"no session with SEID {seid}");
            Remove(compiled);
            PublishUe6Exact();
            return compiled.Session;
        }
    }

    /// <summary>
    /// Unpublishes a session's keys, then quarantines its slots. When the kernel refuses a key
    /// the session stays as it was (see <see cref="Unpublish"/>) and the error is thrown.
    /// </summary>
    /// <param name="published">The keys are in the maps: a refused one puts back those already
    /// taken out. False for a withdrawn session, some of whose keys were never written: the
    /// others are taken out all the same, nothing is put back.</param>
    private void Remove(CompiledSession compiled, bool published = true)
    {
        Unpublish(compiled, published);
        foreach (var k in compiled.FteidKeys)
            _fteidOwners.Remove(k);
        foreach (var k in compiled.Ue4Keys)
            _ue4Owners.Remove(k);
        foreach (var k in compiled.Ue6KeysRead)
            DisownUe6(k);
        foreach (var k in compiled.RouteKeysRead)
            _routeOwners.Remove(k);
        ReleaseSlots(compiled, keepStatsOf: []);
        _sessions.Remove(compiled.Seid);
        Interlocked.Increment(ref _version);
    }

    /// <summary>Takes a session's keys out of the maps; see <see cref="Remove"/> for a refusal.</summary>
    private void Unpublish(CompiledSession compiled, bool published)
    {
        var undo = new List<Action>(0);
        Exception? refused = null;
        // Plain loops with a catch each (no lambda per key: this runs for every deletion); a
        // published session stops at the first refusal, a withdrawn one goes on.
        foreach (var k in compiled.FteidKeys)
        {
            if (refused is not null && published)
                break;
            try
            {
                if (compiled.DenseFteids.TryGetValue(k, out var d))
                    PutSlotWithUndo(_tables.TeidSlots, d.Index, default, undo, old: TeidSlotFor(k, d.Match));
                else
                    DeleteWithUndo(_tables.Fteids, k, undo);
            }
            catch (Exception e)
            {
                refused ??= e;
            }
        }
        foreach (var k in compiled.Ue4Keys)
        {
            if (refused is not null && published)
                break;
            try
            {
                if (compiled.DenseUe4.TryGetValue(k, out var d))
                    PutSlotWithUndo(_tables.Ue4Slots, d.Index, default, undo, old: new Ue4Slot { Ue = k, Match = d.Match });
                else
                    DeleteWithUndo(_tables.Ue4, k, undo);
            }
            catch (Exception e)
            {
                refused ??= e;
            }
        }
        foreach (var k in compiled.Ue6KeysRead)
        {
            if (refused is not null && published)
                break;
            try
            {
                DeleteWithUndo(_tables.Ue6, k, undo);
            }
            catch (Exception e)
            {
                refused ??= e;
            }
        }
        foreach (var k in compiled.RouteKeysRead)
        {
            if (refused is not null && published)
                break;
            try
            {
                DeleteWithUndo(_tables.FramedRoutes, k, undo);
            }
            catch (Exception e)
            {
                refused ??= e;
            }
        }
        if (refused is null)
            return;
        if (published)
            for (int i = undo.Count - 1; i >= 0; i--)
                undo[i]();
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
    }

    /// <summary>A dense TEID slot publishing match slot <paramref name="match"/> for <paramref name="key"/>.</summary>
    private static unsafe TeidSlot TeidSlotFor(FteidKey key, uint match)
    {
        var entry = new TeidSlot { Teid = key.Teid, Match = match };
        new ReadOnlySpan<byte>(key.Address, 16).CopyTo(new Span<byte>(entry.Address, 16));
        return entry;
    }

    // ------------------------------------------------------------------ restart: export and adopt

    /// <summary>Everything needed to adopt the installed sessions after a restart (slots, not keys: those follow from the rules).</summary>
    public IReadOnlyList<SessionRecord> Export()
    {
        lock (_gate)
        {
            CommitHeldLocked();
            return _sessions.Values.OrderBy(s => s.Seid).Select(c => new SessionRecord(
                Json.RulesJson.FromModel(c.Session),
                new Dictionary<ushort, uint>(c.PdrSlotById),
                new Dictionary<ushort, uint>(c.PdrStats),
                [.. c.FarSlots], [.. c.QerSlots], [.. c.SdfSlots], [.. c.RuleListSlots],
                c.NextHops.Select(n => new NextHopRecord(n, c.NextHopDestinations.GetValueOrDefault(n)?.ToString())).ToArray(),
                c.DenseFteids.Select(kv => new DenseKeyRecord("fteid", Hex(kv.Key), kv.Value.Index, kv.Value.Match))
                    .Concat(c.DenseUe4.Select(kv => new DenseKeyRecord("ue4", $"{kv.Key:x8}", kv.Value.Index, kv.Value.Match))).ToArray())).ToArray();
        }
    }

    private static unsafe string Hex(FteidKey key)
    {
        return $"{key.Teid:x8}{Convert.ToHexString(new ReadOnlySpan<byte>(key.Address, 16))}";
    }

    /// <summary>
    /// Takes over sessions a previous process installed in the (pinned) maps without writing
    /// them again: slot allocators and key ownership are rebuilt from the records, next hops
    /// re-acquired under their old slots. Match entries no record owns (changes the previous
    /// process made after its last save) are removed. Returns how many were removed.
    /// </summary>
    public int Adopt(IReadOnlyList<SessionRecord> records, INextHopRestorer? nextHops = null)
    {
        lock (_gate)
        {
            CommitHeldLocked();
            if (_sessions.Count > 0)
                throw new InvalidOperationException("sessions can only be adopted into an empty table");
            foreach (var record in records)
            {
                var session = Json.RulesJson.ToModel(record.Session, $"saved session {record.Session.Seid}");
                var plan = Plan(session, previous: null);
                var compiled = new CompiledSession(session);
                foreach (var (id, slot) in record.PdrSlots)
                {
                    compiled.PdrSlotById.Set(id, slot);
                    compiled.PdrSlots.Add(slot);
                }
                foreach (var (id, stats) in record.Stats)
                    compiled.PdrStats.Set(id, stats);
                compiled.FarSlots.AddRange(record.FarSlots);
                compiled.QerSlots.AddRange(record.QerSlots);
                compiled.SdfSlots.AddRange(record.SdfSlots);
                compiled.RuleListSlots.AddRange(record.RuleListSlots);
                foreach (var nh in record.NextHops)
                {
                    var destination = nh.Destination is null ? null : IPAddress.Parse(nh.Destination);
                    nextHops?.Restore(nh.Slot, destination);
                    compiled.NextHops.Add(nh.Slot);
                    compiled.NextHopDestinations[nh.Slot] = destination;
                }
                var dense = (record.DenseKeys ?? []).ToDictionary(d => (d.Kind, d.Key));
                foreach (var g in plan.Groups)
                {
                    if (g.Fteid is { } f)
                    {
                        compiled.FteidKeys.Add(f);
                        _fteidOwners[f] = session.Seid;
                        if (g.DenseIndex is not null && dense.TryGetValue(("fteid", Hex(f)), out var d))
                        {
                            compiled.DenseFteids[f] = (d.Index, d.Match);
                            compiled.MatchSlots.Add(d.Match);
                        }
                    }
                    if (g.Ue4 is { } u4)
                    {
                        compiled.Ue4Keys.Add(u4);
                        _ue4Owners[u4] = session.Seid;
                        if (g.DenseIndex is not null && dense.TryGetValue(("ue4", $"{u4:x8}"), out var d))
                        {
                            compiled.DenseUe4[u4] = (d.Index, d.Match);
                            compiled.MatchSlots.Add(d.Match);
                        }
                    }
                    if (g.Ue6 is { } u6) { compiled.Ue6Keys.Add(u6); OwnUe6(u6, session.Seid); }
                    if (g.Route is { } r) { compiled.RouteKeys.Add(r); _routeOwners[r] = session.Seid; }
                }
                _sessions[session.Seid] = compiled;
            }
            var all = _sessions.Values;
            _pdrSlots.Restore(all.SelectMany(c => c.PdrSlots));
            _farSlots.Restore(all.SelectMany(c => c.FarSlots));
            _qerSlots.Restore(all.SelectMany(c => c.QerSlots));
            _sdfSlots.Restore(all.SelectMany(c => c.SdfSlots));
            _ruleListSlots.Restore(all.SelectMany(c => c.RuleListSlots));
            _statsSlots.Restore(all.SelectMany(c => c.PdrStats.Values));
            _matchSlots.Restore(all.SelectMany(c => c.MatchSlots));

            var orphans = 0;
            foreach (var k in _tables.Fteids.Keys().Where(k => !_fteidOwners.ContainsKey(k)).ToArray())
                orphans += _tables.Fteids.Delete(k) ? 1 : 0;
            foreach (var k in _tables.Ue4.Keys().Where(k => !_ue4Owners.ContainsKey(k)).ToArray())
                orphans += _tables.Ue4.Delete(k) ? 1 : 0;
            foreach (var k in _tables.Ue6.Keys().Where(k => !_ue6Owners.ContainsKey(k)).ToArray())
                orphans += _tables.Ue6.Delete(k) ? 1 : 0;
            foreach (var k in _tables.FramedRoutes.Keys().Where(k => !_routeOwners.ContainsKey(k)).ToArray())
                orphans += _tables.FramedRoutes.Delete(k) ? 1 : 0;
            _publishedUe6Exact = -1;
            PublishUe6Exact();
            var teidSlots = all.SelectMany(c => c.DenseFteids.Values.Select(v => v.Index)).ToHashSet();
            for (uint i = 0; i < _tables.Dense.TeidCount && i < _tables.TeidSlots.Capacity; i++)
                if (!teidSlots.Contains(i) && _tables.TeidSlots.TryGet(i, out var slot) && slot.Teid != 0)
                {
                    _tables.TeidSlots.Put(i, default);
                    orphans++;
                }
            var ueSlots = all.SelectMany(c => c.DenseUe4.Values.Select(v => v.Index)).ToHashSet();
            for (uint i = 0; i < _tables.Dense.Ue4Count && i < _tables.Ue4Slots.Capacity; i++)
                if (!ueSlots.Contains(i) && _tables.Ue4Slots.TryGet(i, out var slot) && slot.Ue != 0)
                {
                    _tables.Ue4Slots.Put(i, default);
                    orphans++;
                }
            return orphans;
        }
    }

    // ------------------------------------------------------------------ planning (no side effects)

    /// <summary>A PDR as planned; <paramref name="QerSet"/> indexes the plan's distinct QER sets, -1 for none.</summary>
    private sealed record PlannedPdr(Pdr Pdr, Direction Direction, int QerSet, IReadOnlyList<PacketFilter> Filters);

    /// <summary>
    /// The PDRs one match key leads to. <paramref name="Address"/> is the F-TEID's local address
    /// or the UE address, kept only to name the key in refusals (formatted then, not per request).
    /// </summary>
    private sealed record MatchGroup(List<PlannedPdr> Pdrs, FteidKey? Fteid, uint? Ue4, Ue6Key? Ue6, uint Teid, IPAddress Address,
        RouteKey? Route = null)
    {
        public string Key => Fteid is not null ? $"fteid {Teid:x8}@{Address}"
            : Route is { } r ? $"framed route {r}"
            : Ue4 is not null ? $"ue4 {Address}"
            : Ue6 is { IsPrefix64: true } ? $"ue6 {new IPAddress([.. Address.GetAddressBytes()[..8], 0, 0, 0, 0, 0, 0, 0, 0])}/64"
            : $"ue6 {Address}";

        /// <summary>Index in teid_slots or ue4_slots when the key is in a dense range; null: hash map.</summary>
        public uint? DenseIndex { get; init; }

        /// <summary>The group's PDR ids in rule order: groups with the same share one rule list.</summary>
        public string PdrIds => field ??= string.Join(',', Pdrs.Select(p => p.Pdr.Id)); // read once grouping (and sorting) is done

        // An uplink PDR with framed routes accepts several source networks: a rule list checks them.
        public bool Direct => Pdrs.Count == 1 && Pdrs[0].Pdr.Pdi.Filters.Length == 0
            && (Pdrs[0].Direction == Direction.Downlink || Pdrs[0].Pdr.Pdi.Routes.Length == 0);
        public int RuleCount
        {
            get
            {
                int n = 0;
                foreach (var p in Pdrs)
                    n += Math.Max(1, RuleFilterCount(p));
                return n;
            }
        }
    }

    private sealed record SessionPlan(
        Session Session,
        IReadOnlyList<PlannedPdr> Pdrs,
        IReadOnlyList<Qer[]> QerSets,
        IReadOnlyList<MatchGroup> Groups);

    private SessionPlan Plan(Session session, CompiledSession? previous)
    {
        var fars = IdIndex<Far>.Of(session.Fars, f => f.Id, "FAR");
        var qers = IdIndex<Qer>.Of(session.QerList, q => q.Id, "QER");
        var urrs = IdIndex<Urr>.Of(session.UrrList, u => u.Id, "URR");
        IdIndex<Pdr>.Of(session.Pdrs, p => p.Id, "PDR");
        if (session.Pdrs.IsDefaultOrEmpty)
            throw new RuleException(RuleError.Inconsistent, $"session SEID {session.Seid} has no PDR");

        foreach (var far in session.Fars)
            CheckFar(far);
        foreach (var qer in session.QerList)
            if (qer.Qfi is > 63)
                throw new RuleException(RuleError.Invalid, $"QER {qer.Id}: QFI {qer.Qfi} is out of range 0-63", $"QER {qer.Id}");

        // UE addresses of the session, for "assigned" in filters of PDRs without one of their own.
        IPAddress? sessionUe4 = null, sessionUe6 = null;
        foreach (var p in session.Pdrs)
        {
            sessionUe4 ??= p.Pdi.UeIpv4;
            sessionUe6 ??= p.Pdi.UeIpv6;
        }

        var planned = new List<PlannedPdr>();
        var qerSets = new List<Qer[]>(); // distinct sets, each QER list sorted by id
        foreach (var pdr in session.Pdrs)
        {
            if (!fars.ContainsKey(pdr.FarId))
                throw new RuleException(RuleError.Inconsistent, $"PDR {pdr.Id} refers to FAR {pdr.FarId}, which the session does not have", PdrName(pdr));
            foreach (var q in pdr.Qers)
                if (!qers.ContainsKey(q))
                    throw new RuleException(RuleError.Inconsistent, $"PDR {pdr.Id} refers to QER {q}, which the session does not have", PdrName(pdr));
            foreach (var u in pdr.Urrs)
                if (!urrs.ContainsKey(u))
                    throw new RuleException(RuleError.Inconsistent, $"PDR {pdr.Id} refers to URR {u}, which the session does not have", PdrName(pdr));
            if (pdr.Pdi.Qfi is > 63)
                throw new RuleException(RuleError.Invalid, $"PDR {pdr.Id}: QFI {pdr.Pdi.Qfi} is out of range 0-63", PdrName(pdr));
            if (pdr.Pdi.UeIpv4 is { } u4 && u4.AddressFamily != AddressFamily.InterNetwork)
                throw new RuleException(RuleError.Invalid, $"PDR {pdr.Id}: UE IPv4 address {u4} is not IPv4", PdrName(pdr));
            if (pdr.Pdi.UeIpv6 is { } u6 && u6.AddressFamily != AddressFamily.InterNetworkV6)
                throw new RuleException(RuleError.Invalid, $"PDR {pdr.Id}: UE IPv6 address {u6} is not IPv6", PdrName(pdr));
            foreach (var route in pdr.Pdi.Routes)
                if (route.PrefixLength == 0)
                    throw new RuleException(RuleError.Invalid, $"PDR {pdr.Id}: framed route {route} would take every destination", PdrName(pdr));

            var direction = pdr.Pdi.SourceInterface == InterfaceType.Access ? Direction.Uplink : Direction.Downlink;
            var qerSet = pdr.Qers.Length > 0 ? QerSetIndex(qerSets, pdr.Qers, qers) : -1;
            planned.Add(new PlannedPdr(pdr, direction, qerSet,
                Filters(pdr, direction, pdr.Pdi.UeIpv4 ?? sessionUe4, pdr.Pdi.UeIpv6 ?? sessionUe6)));
        }

        var groups = Group(session, planned);
        CheckOwnership(session.Seid, groups);
        CheckCapacity(session, planned, qerSets, groups, previous);
        return new SessionPlan(session, planned, qerSets, groups);
    }

    /// <summary>A PDR's name in refusals, formatted only when one is thrown.</summary>
    private static string PdrName(Pdr pdr) => $"PDR {pdr.Id}";

    /// <summary>
    /// The QER entries a compiled session wrote, with their slots: its QER sets found again the
    /// way <see cref="Plan"/> found them (their order is the order of its QER slots). Null when
    /// they do not line up (nothing is kept then).
    /// </summary>
    private static List<(uint Slot, QerEntry Entry)>? QerEntriesOf(CompiledSession compiled)
    {
        var session = compiled.Session;
        var qers = IdIndex<Qer>.Of(session.QerList, q => q.Id, "QER");
        var sets = new List<Qer[]>();
        foreach (var pdr in session.Pdrs)
            if (pdr.Qers.Length > 0)
                QerSetIndex(sets, pdr.Qers, qers);
        if (sets.Count != compiled.QerSlots.Count)
            return null;
        var entries = new List<(uint, QerEntry)>(sets.Count);
        for (int i = 0; i < sets.Count; i++)
            entries.Add((compiled.QerSlots[i], QerEntryFor(sets[i])));
        return entries;
    }

    /// <summary>
    /// What the program needs of a QER entry for one direction, copied into the PDR: a closed
    /// gate, whether there is an MBR (only then does the program read the QER), the QFI.
    /// </summary>
    private static unsafe (PdrFlags Flags, byte Qfi) QerSummary(in QerEntry qer, Direction direction)
    {
        var dir = (int)direction & 1;
        PdrFlags flags = 0;
        fixed (byte* gate = qer.Gate)
            if (gate[dir] != (byte)GateStatus.Open)
                flags |= PdrFlags.GateClosed;
        fixed (ulong* mbr = qer.Mbr)
            if (mbr[dir] != 0)
                flags |= PdrFlags.Mbr;
        return (flags, qer.Qfi);
    }

    /// <summary>Takes (once) a slot of <paramref name="unchanged"/> holding exactly <paramref name="entry"/>.</summary>
    private static uint? TakeUnchanged(List<(uint Slot, QerEntry Entry)>? unchanged, QerEntry entry)
    {
        if (unchanged is null)
            return null;
        var wanted = MemoryMarshal.AsBytes(new ReadOnlySpan<QerEntry>(in entry));
        for (int i = 0; i < unchanged.Count; i++)
        {
            var candidate = unchanged[i].Entry;
            if (MemoryMarshal.AsBytes(new ReadOnlySpan<QerEntry>(in candidate)).SequenceEqual(wanted))
            {
                var slot = unchanged[i].Slot;
                unchanged.RemoveAt(i);
                return slot;
            }
        }
        return null;
    }

    /// <summary>
    /// The index in <paramref name="sets"/> of the QERs <paramref name="ids"/> name (in id order),
    /// added when no PDR before had the same set: PDRs sharing a set share one QER entry.
    /// </summary>
    private static int QerSetIndex(List<Qer[]> sets, ImmutableArray<uint> ids, IdIndex<Qer> qers)
    {
        var set = new Qer[ids.Length];
        for (int i = 0; i < ids.Length; i++)
            set[i] = qers[ids[i]];
        if (set.Length > 1)
            Array.Sort(set, (a, b) => a.Id.CompareTo(b.Id));
        for (int i = 0; i < sets.Count; i++)
            if (SameIds(sets[i], set))
                return i;
        sets.Add(set);
        return sets.Count - 1;
    }

    private static bool SameIds(Qer[] a, Qer[] b)
    {
        if (a.Length != b.Length)
            return false;
        for (int i = 0; i < a.Length; i++)
            if (a[i].Id != b[i].Id)
                return false;
        return true;
    }

    /// <summary>
    /// A session's rules of one kind by id, checked unique: a linear scan over the handful most
    /// sessions have, a dictionary only past <see cref="LinearLimit"/> (this runs per request).
    /// </summary>
    private readonly struct IdIndex<T>
    {
        private const int LinearLimit = 16;
        private readonly ImmutableArray<T> _items;
        private readonly Func<T, uint> _id;
        private readonly Dictionary<uint, T>? _map;

        private IdIndex(ImmutableArray<T> items, Func<T, uint> id, Dictionary<uint, T>? map)
        {
            _items = items;
            _id = id;
            _map = map;
        }

        public static IdIndex<T> Of(ImmutableArray<T> items, Func<T, uint> id, string kind)
        {
            items = items.IsDefault ? [] : items;
            Dictionary<uint, T>? map = null;
            if (items.Length > LinearLimit)
            {
                map = new Dictionary<uint, T>(items.Length);
                foreach (var item in items)
                    if (!map.TryAdd(id(item), item))
                        throw Repeated(kind, id(item));
            }
            else
            {
                for (int i = 1; i < items.Length; i++)
                    for (int j = 0; j < i; j++)
                        if (id(items[i]) == id(items[j]))
                            throw Repeated(kind, id(items[i]));
            }
            return new IdIndex<T>(items, id, map);
        }

        private static RuleException Repeated(string kind, uint id) =>
            new(RuleError.Inconsistent, $"{kind} id {id} appears more than once", $"{kind} {id}");

        public bool ContainsKey(uint id) => TryGet(id, out _);

        public T this[uint id] => TryGet(id, out var item) ? item : throw new KeyNotFoundException($"id {id}");

        private bool TryGet(uint id, out T item)
        {
            if (_map is not null)
                return _map.TryGetValue(id, out item!);
            foreach (var candidate in _items)
                if (_id(candidate) == id)
                {
                    item = candidate;
                    return true;
                }
            item = default!;
            return false;
        }
    }

    private void CheckFar(Far far)
    {
        string name() => $"FAR {far.Id}"; // formatted only for a refusal
        if (far.Action.HasFlag(ApplyAction.Duplicate))
            throw new RuleException(RuleError.Invalid, $"{name()}: apply action DUPL (duplication for lawful interception) is not supported", name());
        var main = far.Action & (ApplyAction.Drop | ApplyAction.Forward | ApplyAction.Buffer);
        if (main is not (ApplyAction.Drop or ApplyAction.Forward or ApplyAction.Buffer) && !(main == 0 && far.Action == ApplyAction.NotifyCp))
            throw new RuleException(RuleError.Invalid, $"{name()}: apply action {far.Action} must be exactly one of DROP, FORW, BUFF", name());
        if (!far.Action.HasFlag(ApplyAction.Forward))
            return;
        var fp = far.Forwarding ?? throw new RuleException(RuleError.Invalid, $"{name()}: FORW needs forwarding parameters", name());
        if (fp.OuterHeader is { } ohc)
        {
            if (_addresses.LocalFor(fp.DestinationInterface, ohc.Peer.AddressFamily) is null)
                throw new RuleException(RuleError.Invalid,
                    $"{name()}: no local {(ohc.Peer.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} GTP-U address is configured for peer {ohc.Peer}", name());
        }
        else if (fp.DestinationInterface == InterfaceType.Access)
        {
            throw new RuleException(RuleError.Invalid, $"{name()}: forwarding to the access side needs outer header creation (GTP-U)", name());
        }
    }

    private static IReadOnlyList<PacketFilter> Filters(Pdr pdr, Direction direction, IPAddress? ue4, IPAddress? ue6)
    {
        if (pdr.Pdi.Filters.IsDefaultOrEmpty)
            return []; // most PDRs: nothing to parse, no list to make
        var result = new List<PacketFilter>();
        foreach (var sdf in pdr.Pdi.Filters)
        {
            if (sdf.FlowDescription is null)
            {
                if (sdf.Tos is null)
                    throw new RuleException(RuleError.Invalid, $"{PdrName(pdr)}: SDF filter {sdf.FilterId} has neither a flow description nor a ToS (SPI and flow label filters are not supported)", PdrName(pdr));
                result.Add(new PacketFilter(0, 0, null, 0, null, 0, PortRange.Any, PortRange.Any, sdf.Tos.Value, sdf.TosMask ?? 0xff));
                continue;
            }
            try
            {
                var flow = FlowDescription.Parse(sdf.FlowDescription);
                result.AddRange(PacketFilter.Resolve(flow, direction == Direction.Uplink, ue4, ue6, sdf.Tos ?? 0, sdf.Tos is null ? (byte)0 : sdf.TosMask ?? 0xff,
                    pdr.Pdi.Routes.Length == 0 ? null : pdr.Pdi.Routes));
            }
            catch (FormatException e)
            {
                throw new RuleException(RuleError.Invalid, $"{PdrName(pdr)}: {e.Message}", PdrName(pdr));
            }
        }
        // Uplink PDRs that name the UE address (or its framed routes) only accept packets from
        // them (anti-spoofing).
        if (direction == Direction.Uplink && result.Count > 0 && (pdr.Pdi.UeIpv4 is not null || pdr.Pdi.UeIpv6 is not null || pdr.Pdi.Routes.Length > 0))
            result = result.SelectMany(f => f.Source is null ? UeSourceFilters(pdr, f) : [f]).ToList();
        return result;
    }

    /// <summary>
    /// The filters of the PDR's rules in a rule list: its SDF filters, or for an uplink PDR
    /// without any, one source filter per UE address (the check a direct match does with flags).
    /// </summary>
    private static IReadOnlyList<PacketFilter> RuleFilters(PlannedPdr p) =>
        p.Filters.Count == 0 && p.Direction == Direction.Uplink ? UeSourceFilters(p.Pdr).ToList() : p.Filters;

    /// <summary><c>RuleFilters(p).Count</c> without building the filters (capacity checks only count).</summary>
    private static int RuleFilterCount(PlannedPdr p) =>
        p.Filters.Count == 0 && p.Direction == Direction.Uplink
            ? (p.Pdr.Pdi.UeIpv4 is not null ? 1 : 0) + (p.Pdr.Pdi.UeIpv6 is not null ? 1 : 0) + p.Pdr.Pdi.Routes.Length
            : p.Filters.Count;

    private static IEnumerable<PacketFilter> UeSourceFilters(Pdr pdr, PacketFilter? template = null)
    {
        var t = template ?? new PacketFilter(0, 0, null, 0, null, 0, PortRange.Any, PortRange.Any);
        if (pdr.Pdi.UeIpv4 is { } v4 && t.Family != 6)
            yield return t with { Family = 4, Source = v4, SourcePrefix = 32 };
        if (pdr.Pdi.UeIpv6 is { } v6 && t.Family != 4)
            yield return t with { Family = 6, Source = v6, SourcePrefix = 64 };
        foreach (var route in pdr.Pdi.Routes)
        {
            var family = route.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 4 : 6;
            if (t.Family == 0 || t.Family == family)
                yield return t with { Family = family, Source = route.BaseAddress, SourcePrefix = route.PrefixLength };
        }
    }

    private void OwnUe6(Ue6Key key, ulong seid)
    {
        if (!_ue6Owners.ContainsKey(key) && !key.IsPrefix64)
            _ue6Exact++;
        _ue6Owners[key] = seid;
    }

    private void DisownUe6(Ue6Key key)
    {
        if (_ue6Owners.Remove(key) && !key.IsPrefix64)
            _ue6Exact--;
    }

    private void PublishUe6Exact()
    {
        if (_tables.Ue6Exact is not { } table || _publishedUe6Exact == _ue6Exact)
            return;
        table.Put(0, (uint)_ue6Exact);
        _publishedUe6Exact = _ue6Exact;
    }

    private List<MatchGroup> Group(Session session, List<PlannedPdr> planned)
    {
        // In insertion order for the plan; found by their match key (a session has one to four:
        // SmallMap scans them, and moves to a dictionary for sessions with many).
        var ordered = new List<MatchGroup>();
        var byKey = new SmallMap<(FteidKey?, uint?, Ue6Key?, RouteKey?), MatchGroup>();
        void Add(PlannedPdr p, IPAddress address, FteidKey? f = null, uint? u4 = null, Ue6Key? u6 = null, uint? dense = null, uint teid = 0,
            RouteKey? route = null)
        {
            if (!byKey.TryGetValue((f, u4, u6, route), out var g))
            {
                byKey[(f, u4, u6, route)] = g = new MatchGroup([], f, u4, u6, teid, address, route) { DenseIndex = dense };
                ordered.Add(g);
            }
            g.Pdrs.Add(p);
        }

        foreach (var p in planned)
        {
            var pdi = p.Pdr.Pdi;
            if (pdi.LocalFTeid is { } fteid)
            {
                if (fteid.Ipv4 is null && fteid.Ipv6 is null)
                    throw new RuleException(RuleError.Invalid, $"{PdrName(p.Pdr)}: local F-TEID 0x{fteid.Teid:x8} has no address (CHOOSE must be resolved before compiling)", PdrName(p.Pdr));
                var first = true;
                foreach (var address in fteid.Addresses)
                {
                    if (!_localAddresses.Contains(address))
                        throw new RuleException(RuleError.Invalid,
                            $"{PdrName(p.Pdr)}: F-TEID address {address} is not a GTP-U address of this gateway ({string.Join(", ", _localAddresses)})", PdrName(p.Pdr));
                    // One dense slot per TEID: its first address; a second address goes to the hash map.
                    uint? dense = first && _tables.Dense.TryTeid(fteid.Teid, out var index) ? index : null;
                    Add(p, address, f: FteidKey.Create(fteid.Teid, address), dense: dense, teid: fteid.Teid);
                    first = false;
                }
            }
            else if (p.Direction == Direction.Downlink && (pdi.UeIpv4 is not null || pdi.UeIpv6 is not null || pdi.Routes.Length > 0))
            {
                // The networks behind the UE: each its own key in the trie, found when the
                // destination is no UE's own address.
                foreach (var route in pdi.Routes)
                    Add(p, route.BaseAddress, route: RouteKey.Create(route));
                if (pdi.UeIpv4 is { } v4)
                    Add(p, v4, u4: AddressBytes.Ipv4Word(v4),
                        dense: _tables.Dense.TryUe4(v4, out var index) ? index : null);
                if (pdi.UeIpv6 is { } v6)
                {
                    // The session's /64 (TS 23.501: one prefix per PDU session; the UE picks
                    // its interface identifiers). When an SMF assigns addresses of one shared /64
                    // (Open5GS), the /64 stays with the first session and the others are matched
                    // by their exact address (the datapath looks up exact, then /64). One key per
                    // session either way, so the table's size holds.
                    var prefix = Ue6Key.Prefix64(v6);
                    var exact = Ue6Key.Create(v6);
                    var prefixFree = !_ue6Owners.TryGetValue(prefix, out var prefixOwner) || prefixOwner == session.Seid;
                    if (prefixFree || exact.Equals(prefix))
                        Add(p, v6, u6: prefix);
                    else
                        Add(p, v6, u6: exact);
                }
            }
            else
            {
                throw new RuleException(RuleError.Invalid, p.Direction == Direction.Uplink
                    ? $"{PdrName(p.Pdr)}: source interface {pdi.SourceInterface} needs a local F-TEID"
                    : $"{PdrName(p.Pdr)}: downlink PDRs need a UE IP address, a framed route or a local F-TEID", PdrName(p.Pdr));
            }
        }
        foreach (var g in ordered)
        {
            g.Pdrs.Sort((a, b) => a.Pdr.Precedence != b.Pdr.Precedence
                ? a.Pdr.Precedence.CompareTo(b.Pdr.Precedence) : a.Pdr.Id.CompareTo(b.Pdr.Id));
            if (!g.Direct && g.RuleCount > AbiConstants.RulesPerList)
                throw new RuleException(RuleError.NoResources,
                    $"the PDRs matching {g.Key} need {g.RuleCount} rules; the datapath holds {AbiConstants.RulesPerList} per tunnel or UE address");
        }
        return ordered;
    }

    private void CheckOwnership(ulong seid, List<MatchGroup> groups)
    {
        foreach (var g in groups)
        {
            ulong owner = 0;
            var taken = g.Fteid is { } f ? _fteidOwners.TryGetValue(f, out owner)
                : g.Route is { } r ? _routeOwners.TryGetValue(r, out owner)
                : g.Ue4 is { } u4 ? _ue4Owners.TryGetValue(u4, out owner)
                : g.Ue6 is { } u6 && _ue6Owners.TryGetValue(u6, out owner);
            if (taken && owner != seid)
                throw new RuleException(RuleError.Conflict, $"{g.Key} already belongs to session SEID {owner}",
                    $"PDR {g.Pdrs[0].Pdr.Id}");
        }
    }

    private void CheckCapacity(Session session, List<PlannedPdr> planned, List<Qer[]> qerSets, List<MatchGroup> groups,
        CompiledSession? previous)
    {
        void Need(SlotAllocator slots, int count)
        {
            if (!slots.HasRoomFor(count))
                throw new RuleException(RuleError.NoResources, $"table {slots.Name} is full: {count} more needed, {slots.Available} free of {slots.Capacity}");
        }
        Need(_pdrSlots, planned.Count);
        Need(_farSlots, session.Fars.Length);
        Need(_qerSlots, qerSets.Count);
        // Counted with plain loops: this runs for every request, and the LINQ chains it
        // replaced allocated an iterator and a closure each.
        int sdfFilters = 0, ruleLists = 0, denseMatches = 0, stats = 0, fteidKeys = 0, ue4Keys = 0, ue6Keys = 0, routeKeys = 0;
        HashSet<string>? lists = null; // groups of the same PDRs share a list (Write)
        foreach (var g in groups)
        {
            if (!g.Direct && (lists ??= []).Add(g.PdrIds))
            {
                ruleLists++;
                foreach (var p in g.Pdrs)
                    sdfFilters += RuleFilterCount(p);
            }
            if (g.DenseIndex is not null)
                denseMatches++;
            if (g.Fteid is { } f && !_fteidOwners.ContainsKey(f))
                fteidKeys++;
            if (g.Ue4 is { } u4 && !_ue4Owners.ContainsKey(u4))
                ue4Keys++;
            if (g.Ue6 is { } u6 && !_ue6Owners.ContainsKey(u6))
                ue6Keys++;
            if (g.Route is { } r && !_routeOwners.ContainsKey(r))
                routeKeys++;
        }
        foreach (var p in planned)
            if (previous is null || !previous.PdrStats.ContainsKey(p.Pdr.Id))
                stats++;
        Need(_sdfSlots, sdfFilters);
        Need(_ruleListSlots, ruleLists);
        Need(_matchSlots, denseMatches);
        Need(_statsSlots, stats);

        void NeedKeys<TKey>(IMapTable<TKey, MatchEntry> table, Dictionary<TKey, ulong> owners, int added, string name)
            where TKey : unmanaged
        {
            if (owners.Count + added > table.Capacity)
                throw new RuleException(RuleError.NoResources, $"table {name} is full: {added} more needed, {table.Capacity - owners.Count} free of {table.Capacity}");
        }
        NeedKeys(_tables.Fteids, _fteidOwners, fteidKeys, "fteids");
        NeedKeys(_tables.Ue4, _ue4Owners, ue4Keys, "ue4");
        NeedKeys(_tables.Ue6, _ue6Owners, ue6Keys, "ue6");
        NeedKeys(_tables.FramedRoutes, _routeOwners, routeKeys, "framed_routes");
    }

    // ------------------------------------------------------------------ applying

    private CompiledSession Apply(SessionPlan plan, CompiledSession? previous)
    {
        var compiled = new CompiledSession(plan.Session);
        var undoKeys = new List<Action>();
        if (_holdFor is not null)
            _held.Mark();
        try
        {
            var matches = Write(plan, previous, compiled);
            Publish(matches, compiled, previous, undoKeys);
        }
        catch
        {
            for (int i = undoKeys.Count - 1; i >= 0; i--)
                undoKeys[i]();
            if (_holdFor is not null)
                _held.RollBack();
            Unallocate(compiled, previous);
            throw;
        }

        if (previous is not null)
        {
            DisownDropped(previous, compiled);
            ReleaseSlots(previous, keepStatsOf: KeptStats(compiled), successor: compiled);
        }
        foreach (var k in compiled.FteidKeys)
            _fteidOwners[k] = plan.Session.Seid;
        foreach (var k in compiled.Ue4Keys)
            _ue4Owners[k] = plan.Session.Seid;
        foreach (var k in compiled.Ue6KeysRead)
            OwnUe6(k, plan.Session.Seid);
        foreach (var k in compiled.RouteKeysRead)
            _routeOwners[k] = plan.Session.Seid;
        _sessions[plan.Session.Seid] = compiled;
        Interlocked.Increment(ref _version);
        return compiled;
    }

    /// <summary>Takes a slot and records it in <paramref name="owned"/> (null: the caller records it itself).</summary>
    private uint Allocate(SlotAllocator slots, SlotList? owned)
    {
        if (!slots.TryAllocate(out var slot))
            throw new RuleException(RuleError.NoResources, $"table {slots.Name} is full ({slots.Capacity})");
        owned?.Add(slot);
        return slot;
    }

    /// <summary>Writes every unpublished entry; returns the match entries that will publish them.</summary>
    private unsafe List<(MatchGroup Group, MatchEntry Match)> Write(SessionPlan plan, CompiledSession? previous, CompiledSession compiled)
    {
        var session = plan.Session;
        var matches = new List<(MatchGroup, MatchEntry)>();

        // QERs (one per distinct QER set of a PDR); their token buckets and drop counters were
        // zeroed when the slot left quarantine (CleanQerSlots). A modification keeps the slot of
        // a QER whose entry it does not change: its token buckets and drop counts go on, where a
        // fresh slot would hand the UE a full bucket (a burst above its MBR) on every
        // modification, such as a handover's new gNB F-TEID.
        var qerSlot = plan.QerSets.Count == 0 ? [] : new uint[plan.QerSets.Count];
        var qerEntries = plan.QerSets.Count == 0 ? [] : new QerEntry[plan.QerSets.Count];
        var unchanged = previous is null || plan.QerSets.Count == 0 ? null : QerEntriesOf(previous);
        for (int i = 0; i < plan.QerSets.Count; i++)
        {
            var entry = qerEntries[i] = QerEntryFor(plan.QerSets[i]);
            if (TakeUnchanged(unchanged, entry) is { } kept)
            {
                compiled.QerSlots.Add(kept);
                qerSlot[i] = kept;
                continue;
            }
            var slot = Allocate(_qerSlots, compiled.QerSlots);
            Put(_tables.Qers, slot, entry);
            qerSlot[i] = slot;
        }

        // FARs with their next hops: compiled.FarSlots[i] numbers session.Fars[i], and
        // farEntries[i] is its entry, written into every PDR that points at it.
        var farEntries = new FarEntry[session.Fars.Length];
        for (int i = 0; i < session.Fars.Length; i++)
        {
            Allocate(_farSlots, compiled.FarSlots);
            farEntries[i] = FarEntryFor(session.Fars[i], compiled);
        }
        int FarIndex(uint id)
        {
            for (int i = 0; i < session.Fars.Length; i++)
                if (session.Fars[i].Id == id)
                    return i;
            throw new KeyNotFoundException($"FAR {id}"); // the plan checked every PDR's FAR
        }
        var pdrSlot = compiled.PdrSlotById;

        // PDRs; counters keep their index when the PDR id existed before.
        foreach (var p in plan.Pdrs)
        {
            if (previous is not null && previous.PdrStats.TryGetValue(p.Pdr.Id, out var stats))
            {
                compiled.PdrStats.Set(p.Pdr.Id, stats);
            }
            else
            {
                stats = Allocate(_statsSlots, owned: null); // zeroed by CleanStatsSlots
                compiled.PdrStats.Set(p.Pdr.Id, stats);
            }
            var slot = Allocate(_pdrSlots, compiled.PdrSlots);
            var far = FarIndex(p.Pdr.FarId);
            var (qos, qfi) = p.QerSet >= 0 ? QerSummary(qerEntries[p.QerSet], p.Direction) : ((PdrFlags)0, (byte)0);
            Put(_tables.Pdrs, slot, new PdrEntry
            {
                Far = compiled.FarSlots[far],
                Forwarding = farEntries[far],
                Qer = p.QerSet >= 0 ? qerSlot[p.QerSet] : AbiConstants.None,
                Stats = stats,
                Direction = p.Direction,
                OuterHeaderRemoval = p.Pdr.RemoveOuterHeader ? OuterHeaderRemovalKind.Gtpu : OuterHeaderRemovalKind.None,
                Flags = (p.Pdr.QuotaExhausted ? PdrFlags.QuotaExhausted : 0) | qos,
                Qfi = qfi,
            });
            pdrSlot.Set(p.Pdr.Id, slot);
        }

        // Rule lists and their filters; then the match entries (published later). Keys leading
        // to the same PDRs (a UE's IPv4 and IPv6 addresses, its framed routes) share one list.
        Dictionary<string, uint>? listOf = null;
        foreach (var g in plan.Groups)
        {
            var match = new MatchEntry { Pdr = AbiConstants.None, RuleList = AbiConstants.None };
            if (g.Direct)
            {
                var only = g.Pdrs[0];
                match.Pdr = pdrSlot[only.Pdr.Id];
                match.Qfi = only.Pdr.Pdi.Qfi ?? 0;
                if (only.Direction == Direction.Uplink)
                {
                    if (only.Pdr.Pdi.UeIpv4 is { } v4)
                    {
                        match.Flags |= MatchFlags.UeV4;
                        match.UeIpv4 = AddressBytes.Ipv4Word(v4);
                    }
                    if (only.Pdr.Pdi.UeIpv6 is { } v6)
                    {
                        match.Flags |= MatchFlags.UeV6;
                        AddressBytes.WritePrefix64(v6, new Span<byte>(match.UeIpv6Prefix, 8));
                    }
                }
            }
            else if (listOf is not null && listOf.TryGetValue(g.PdrIds, out var shared))
            {
                match.RuleList = shared;
            }
            else
            {
                var list = new RuleListEntry();
                int n = 0;
                foreach (var p in g.Pdrs)
                {
                    var qfi = p.Pdr.Pdi.Qfi ?? 0;
                    var filters = RuleFilters(p);
                    if (filters.Count == 0)
                    {
                        list.Rules[n++] = new RuleEntry { Pdr = pdrSlot[p.Pdr.Id], Sdf = AbiConstants.None, Qfi = qfi };
                        continue;
                    }
                    foreach (var f in filters)
                    {
                        var sdf = Allocate(_sdfSlots, compiled.SdfSlots);
                        Put(_tables.SdfFilters, sdf, SdfEntryFor(f));
                        list.Rules[n++] = new RuleEntry { Pdr = pdrSlot[p.Pdr.Id], Sdf = sdf, Qfi = qfi };
                    }
                }
                list.Count = (uint)n;
                var listSlot = Allocate(_ruleListSlots, compiled.RuleListSlots);
                Put(_tables.RuleLists, listSlot, list);
                match.RuleList = listSlot;
                (listOf ??= [])[g.PdrIds] = listSlot;
            }
            matches.Add((g, match));
        }
        return matches;
    }

    /// <summary>Writes a dense key's match entry into a fresh match slot (not yet published).</summary>
    private uint WriteMatch(MatchEntry match, CompiledSession compiled)
    {
        var slot = Allocate(_matchSlots, compiled.MatchSlots);
        Put(_tables.Matches, slot, match);
        return slot;
    }

    /// <summary>
    /// Makes the new entries reachable, then removes the keys the new version dropped. A hash
    /// map update replaces its element atomically; a dense slot keeps its key and changes only
    /// its 4-byte match index (the match entry itself was written to a fresh slot), so a
    /// packet sees the old match or the new one.
    /// </summary>
    private void Publish(List<(MatchGroup Group, MatchEntry Match)> matches, CompiledSession compiled, CompiledSession? previous, List<Action> undo)
    {
        foreach (var (g, match) in matches)
        {
            if (g.Fteid is { } fk)
            {
                // A key the session did not have was nobody's (ownership was checked): its slot is
                // empty and its hash entry absent, so the undo needs no read of the old value.
                var fresh = previous is null || !previous.FteidKeys.Contains(fk);
                compiled.FteidKeys.Add(fk);
                if (g.DenseIndex is { } index)
                {
                    var slot = WriteMatch(match, compiled);
                    PutSlotWithUndo(_tables.TeidSlots, index, TeidSlotFor(fk, slot), undo, fresh);
                    compiled.DenseFteids[fk] = (index, slot);
                }
                else
                {
                    PutWithUndo(_tables.Fteids, fk, match, undo, fresh);
                }
            }
            else if (g.Ue4 is { } u4)
            {
                var fresh = previous is null || !previous.Ue4Keys.Contains(u4);
                compiled.Ue4Keys.Add(u4);
                if (g.DenseIndex is { } index)
                {
                    var slot = WriteMatch(match, compiled);
                    PutSlotWithUndo(_tables.Ue4Slots, index, new Ue4Slot { Ue = u4, Match = slot }, undo, fresh);
                    compiled.DenseUe4[u4] = (index, slot);
                }
                else
                {
                    PutWithUndo(_tables.Ue4, u4, match, undo, fresh);
                }
            }
            else if (g.Route is { } route)
            {
                PutWithUndo(_tables.FramedRoutes, route, match, undo, fresh: previous is null || !previous.RouteKeysRead.Contains(route));
                compiled.RouteKeys.Add(route);
            }
            else if (g.Ue6 is { } u6)
            {
                PutWithUndo(_tables.Ue6, u6, match, undo, fresh: previous is null || !previous.Ue6KeysRead.Contains(u6));
                compiled.Ue6Keys.Add(u6);
            }
        }
        if (previous is null)
            return;
        // The owners of the dropped keys change only once the whole apply succeeded
        // (DisownDropped): a refused delete leaves the session, and what it owns, as it was.
        foreach (var k in Dropped(previous.FteidKeys, compiled.FteidKeys))
        {
            if (previous.DenseFteids.TryGetValue(k, out var d))
                PutSlotWithUndo(_tables.TeidSlots, d.Index, default, undo);
            else
                DeleteWithUndo(_tables.Fteids, k, undo);
        }
        foreach (var k in Dropped(previous.Ue4Keys, compiled.Ue4Keys))
        {
            if (previous.DenseUe4.TryGetValue(k, out var d))
                PutSlotWithUndo(_tables.Ue4Slots, d.Index, default, undo);
            else
                DeleteWithUndo(_tables.Ue4, k, undo);
        }
        foreach (var k in Dropped(previous.Ue6KeysRead, compiled.Ue6KeysRead))
            DeleteWithUndo(_tables.Ue6, k, undo);
        foreach (var k in Dropped(previous.RouteKeysRead, compiled.RouteKeysRead))
            DeleteWithUndo(_tables.FramedRoutes, k, undo);
    }

    /// <summary>Gives up the keys the previous version had and the new one has not (after a successful apply).</summary>
    private void DisownDropped(CompiledSession previous, CompiledSession compiled)
    {
        foreach (var k in Dropped(previous.FteidKeys, compiled.FteidKeys))
            _fteidOwners.Remove(k);
        foreach (var k in Dropped(previous.Ue4Keys, compiled.Ue4Keys))
            _ue4Owners.Remove(k);
        foreach (var k in Dropped(previous.Ue6KeysRead, compiled.Ue6KeysRead))
            DisownUe6(k);
        foreach (var k in Dropped(previous.RouteKeysRead, compiled.RouteKeysRead))
            _routeOwners.Remove(k);
    }

    /// <summary>
    /// The keys of <paramref name="before"/> not in <paramref name="after"/>, each once, in order:
    /// what Except gave, without building a set for the one or two keys a session has.
    /// </summary>
    private static List<T> Dropped<T>(IReadOnlyList<T> before, IReadOnlyList<T> after) where T : IEquatable<T>
    {
        var dropped = new List<T>(0);
        for (int i = 0; i < before.Count; i++)
            if (!after.Contains(before[i]) && !dropped.Contains(before[i]))
                dropped.Add(before[i]);
        return dropped;
    }

    /// <summary>A write of the apply running: queued when it is held (see <see cref="Establish"/>), else made at once.</summary>
    private void Put<TKey, TValue>(IMapTable<TKey, TValue> table, in TKey key, in TValue value)
        where TKey : unmanaged where TValue : unmanaged
    {
        if (_holdFor is { } seid)
            _held.Add(table, key, value, seid);
        else
            table.Put(key, value);
    }

    /// <param name="fresh">The slot is known to be empty: its old value is not read (a syscall on the kernel maps).</param>
    /// <param name="old">The value the slot holds, when the caller knows it (no read then).</param>
    private void PutSlotWithUndo<T>(IMapTable<uint, T> table, uint index, T value, List<Action> undo, bool fresh = false, T? old = null)
        where T : unmanaged
    {
        if (_holdFor is not null && fresh)
        {
            Put(table, index, value); // dropped, not undone, when the apply fails
            return;
        }
        var was = old ?? default;
        if (!fresh && old is null)
            table.TryGet(index, out was);
        table.Put(index, value);
        undo.Add(() => table.Put(index, was));
    }

    /// <param name="fresh">The key is known to be absent: no lookup first.</param>
    private void PutWithUndo<TKey>(IMapTable<TKey, MatchEntry> table, TKey key, MatchEntry value, List<Action> undo, bool fresh = false)
        where TKey : unmanaged
    {
        if (_holdFor is not null && fresh)
        {
            Put(table, key, value);
            return;
        }
        MatchEntry old = default;
        var existed = !fresh && table.TryGet(key, out old);
        table.Put(key, value);
        undo.Add(existed ? () => table.Put(key, old) : () => table.Delete(key));
    }

    private static void DeleteWithUndo<TKey>(IMapTable<TKey, MatchEntry> table, TKey key, List<Action> undo) where TKey : unmanaged
    {
        if (table.TryGet(key, out var old) && table.Delete(key))
            undo.Add(() => table.Put(key, old));
    }

    /// <summary>Gives back the slots of a failed apply: never published, no quarantine.</summary>
    private void Unallocate(CompiledSession failed, CompiledSession? previous)
    {
        foreach (var s in failed.PdrSlots) _pdrSlots.Unallocate(s);
        foreach (var s in failed.FarSlots) _farSlots.Unallocate(s);
        foreach (var s in failed.QerSlots)
            if (previous is null || !previous.QerSlots.Contains(s)) // kept from the previous version: still its
                _qerSlots.Unallocate(s);
        foreach (var s in failed.SdfSlots) _sdfSlots.Unallocate(s);
        foreach (var s in failed.RuleListSlots) _ruleListSlots.Unallocate(s);
        foreach (var s in failed.MatchSlots) _matchSlots.Unallocate(s);
        foreach (var (id, stats) in failed.PdrStats)
            if (previous is null || !previous.PdrStats.ContainsKey(id))
                _statsSlots.Unallocate(stats);
        foreach (var nh in failed.NextHops)
            _nextHops.Release(nh);
    }

    /// <summary>The counter indexes a session keeps (read from the pairs: asking the dictionary for
    /// its Values would leave a cached collection object on every held session).</summary>
    private static HashSet<uint> KeptStats(CompiledSession c)
    {
        var kept = new HashSet<uint>();
        foreach (var (_, stats) in c.PdrStats)
            kept.Add(stats);
        return kept;
    }

    /// <param name="successor">The version replacing <paramref name="old"/>: the QER slots it kept stay taken.</param>
    private void ReleaseSlots(CompiledSession old, HashSet<uint> keepStatsOf, CompiledSession? successor = null)
    {
        foreach (var s in old.PdrSlots) _pdrSlots.Release(s);
        foreach (var s in old.FarSlots) _farSlots.Release(s);
        foreach (var s in old.QerSlots)
            if (successor is null || !successor.QerSlots.Contains(s))
                _qerSlots.Release(s);
        foreach (var s in old.SdfSlots) _sdfSlots.Release(s);
        foreach (var s in old.RuleListSlots) _ruleListSlots.Release(s);
        foreach (var s in old.MatchSlots) _matchSlots.Release(s);
        foreach (var (_, stats) in old.PdrStats)
            if (!keepStatsOf.Contains(stats))
                _statsSlots.Release(stats);
        foreach (var nh in old.NextHops)
            _nextHops.Release(nh);
    }

    // ------------------------------------------------------------------ entries

    private unsafe FarEntry FarEntryFor(Far far, CompiledSession compiled)
    {
        var entry = new FarEntry { Nexthop = AbiConstants.None };
        if (far.Action.HasFlag(ApplyAction.Drop)) entry.Action |= FarAction.Drop;
        if (far.Action.HasFlag(ApplyAction.Forward)) entry.Action |= FarAction.Forw;
        if (far.Action.HasFlag(ApplyAction.Buffer)) entry.Action |= FarAction.Buff;
        if (far.Action.HasFlag(ApplyAction.NotifyCp)) entry.Action |= FarAction.Nocp;
        if (!far.Action.HasFlag(ApplyAction.Forward) || far.Forwarding is not { } fp)
            return entry;
        entry.DestInterface = (InterfaceKind)fp.DestinationInterface;
        entry.Tos = fp.TransportLevelMarking ?? 0;
        if (fp.OuterHeader is { } ohc)
        {
            var family = ohc.Peer.AddressFamily;
            entry.OuterHeaderCreation = family == AddressFamily.InterNetwork ? OuterHeaderCreationKind.GtpuIpv4 : OuterHeaderCreationKind.GtpuIpv6;
            entry.Teid = (uint)IPAddress.HostToNetworkOrder((int)ohc.Teid);
            AddressBytes.WritePlain(ohc.Peer, new Span<byte>(entry.Peer, 16));
            AddressBytes.WritePlain(_addresses.LocalFor(fp.DestinationInterface, family)!, new Span<byte>(entry.Local, 16));
            entry.Nexthop = _nextHops.Acquire(ohc.Peer);
            if (entry.Nexthop != AbiConstants.None)
                compiled.NextHopDestinations[entry.Nexthop] = ohc.Peer;
        }
        else
        {
            entry.Nexthop = _nextHops.Acquire(null);
            if (entry.Nexthop != AbiConstants.None)
                compiled.NextHopDestinations[entry.Nexthop] = null;
        }
        if (entry.Nexthop != AbiConstants.None)
            compiled.NextHops.Add(entry.Nexthop);
        return entry;
    }

    private static unsafe QerEntry QerEntryFor(Qer[] qers)
    {
        // Several QERs on one PDR (e.g. session AMBR and flow MBR): a closed gate anywhere
        // closes, the smallest MBR applies, the first QFI marks.
        // One loop, no iterators: this runs per QER set per request.
        var entry = new QerEntry();
        bool ulClosed = false, dlClosed = false;
        byte? qfi = null;
        ulong? ul = null, dl = null;
        foreach (var q in qers)
        {
            ulClosed |= q.UplinkGate == GateStatus.Closed;
            dlClosed |= q.DownlinkGate == GateStatus.Closed;
            qfi ??= q.Qfi;
            if (q.UplinkMbrKbps is { } u && u > 0 && (ul is null || u < ul))
                ul = u;
            if (q.DownlinkMbrKbps is { } d && d > 0 && (dl is null || d < dl))
                dl = d;
        }
        entry.Gate[0] = (byte)(ulClosed ? Abi.Gate.Closed : Abi.Gate.Open);
        entry.Gate[1] = (byte)(dlClosed ? Abi.Gate.Closed : Abi.Gate.Open);
        entry.Qfi = qfi ?? 0;
        entry.Mbr[0] = BytesPerSecond(ul);
        entry.Mbr[1] = BytesPerSecond(dl);
        entry.Burst[0] = Burst(entry.Mbr[0]);
        entry.Burst[1] = Burst(entry.Mbr[1]);
        return entry;
    }

    private static ulong BytesPerSecond(ulong? kbps) => kbps is { } k ? k * 1000 / 8 : 0;

    /// <summary>Bucket depth: 5 ms at the MBR, at least two full-size frames.</summary>
    public static ulong Burst(ulong bytesPerSecond) => bytesPerSecond == 0 ? 0 : Math.Max(bytesPerSecond / 200, 2 * 1514);

    private static unsafe SdfEntry SdfEntryFor(PacketFilter f)
    {
        var e = new SdfEntry
        {
            Family = (byte)f.Family,
            Protocol = f.Protocol,
            Tos = (byte)(f.Tos & f.TosMask),
            TosMask = f.TosMask,
            SrcPortMin = f.SourcePorts.Min,
            SrcPortMax = f.SourcePorts.Max,
            DstPortMin = f.DestinationPorts.Min,
            DstPortMax = f.DestinationPorts.Max,
        };
        WritePrefix(f.Source, f.SourcePrefix, new Span<byte>(e.Src, 16), new Span<byte>(e.SrcMask, 16));
        WritePrefix(f.Destination, f.DestinationPrefix, new Span<byte>(e.Dst, 16), new Span<byte>(e.DstMask, 16));
        return e;
    }

    private static void WritePrefix(IPAddress? address, int prefix, Span<byte> value, Span<byte> mask)
    {
        value.Clear();
        mask.Clear();
        if (address is null)
            return;
        var bytes = address.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - i * 8, 0, 8);
            mask[i] = (byte)(0xff << (8 - bits));
            value[i] = (byte)(bytes[i] & mask[i]);
        }
    }
}

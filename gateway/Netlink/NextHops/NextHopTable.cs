using System.Net;

namespace LoxiLb.Edge5G.Netlink;

/// <summary>A next-hop slot: its id (the datapath's array-map index) and current resolution.</summary>
public readonly record struct NextHopEntry(int Id, NextHopResolution Resolution)
{
    public IPAddress Destination => Resolution.Destination;
}

/// <summary>
/// The next hops the datapath uses, each under a small stable id (an array-map slot). Callers
/// <see cref="Acquire"/> a destination and <see cref="Release"/> it when done; the table
/// re-resolves the entries a <see cref="RouteMonitor"/> batch may affect and raises
/// <see cref="NextHopsChanged"/> with only the entries whose resolution changed, so the
/// datapath rewrites only those slots.
/// <para>
/// Thread-safe: one lock guards the entries. Costs: Acquire of a destination already held is
/// O(1); of a new one, O(log n) for the id plus one resolution (a few netlink round trips);
/// Release O(log n); a change batch scans all n entries (O(n) cheap checks) and resolves again
/// only those it may affect. Ids are the smallest free ones, so the map stays dense.
/// </para>
/// </summary>
public sealed class NextHopTable : IDisposable
{
    private readonly object _lock = new();
    private readonly object _publishLock = new(); // keeps NextHopsChanged batches in order
    private readonly Func<IPAddress, NextHopResolution> _resolve;
    private readonly RouteMonitor? _monitor;
    private readonly IDisposable[] _owned;
    private readonly Slot?[] _slots;
    private readonly Dictionary<IPAddress, Slot> _byDestination = [];
    private readonly PriorityQueue<int, int> _freeIds = new();
    private int _nextFreshId;
    private bool _disposed;

    /// <summary>
    /// A table over an existing resolver and monitor (both must watch the same namespace).
    /// With <paramref name="ownsSources"/> the table disposes them with itself.
    /// </summary>
    public NextHopTable(RouteResolver resolver, RouteMonitor monitor, int capacity = 1024, bool ownsSources = false)
        : this(d => resolver.Resolve(d), monitor, capacity, ownsSources ? [monitor, resolver] : [])
    {
        ArgumentNullException.ThrowIfNull(resolver);
    }

    internal NextHopTable(Func<IPAddress, NextHopResolution> resolve, RouteMonitor? monitor, int capacity, IDisposable[] owned)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _resolve = resolve;
        _slots = new Slot?[capacity];
        _owned = owned;
        _monitor = monitor;
        if (monitor is not null)
            monitor.Changed += OnChanged;
    }

    /// <summary>A table with its own resolver and monitor, in the calling thread's network namespace.</summary>
    public static NextHopTable Create(int capacity = 1024)
    {
        var resolver = new RouteResolver();
        try
        {
            return new NextHopTable(resolver, new RouteMonitor(), capacity, ownsSources: true);
        }
        catch
        {
            resolver.Dispose();
            throw;
        }
    }

    /// <summary>The rtnetlink monitor the table re-resolves on (null for tables fed by hand): others may listen to it too.</summary>
    public RouteMonitor? Monitor => _monitor;

    /// <summary>
    /// Entries whose resolution changed, with their new resolution. Raised on the monitor thread
    /// (or the thread calling <see cref="Refresh"/>), in order, never concurrently.
    /// </summary>
    public event Action<IReadOnlyList<NextHopEntry>>? NextHopsChanged;

    /// <summary>Ids run from 0 to Capacity - 1.</summary>
    public int Capacity => _slots.Length;

    public int Count
    {
        get
        {
            lock (_lock)
                return _byDestination.Count;
        }
    }

    /// <summary>
    /// The id and current resolution of <paramref name="destination"/>, resolving it (and asking
    /// the kernel to resolve its neighbour) the first time. Each Acquire needs one Release.
    /// </summary>
    /// <exception cref="InvalidOperationException">All <see cref="Capacity"/> ids are in use.</exception>
    public NextHopEntry Acquire(IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.IsIPv4MappedToIPv6)
            destination = destination.MapToIPv4();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byDestination.TryGetValue(destination, out var held))
            {
                held.References++;
                return held.Entry;
            }
            var id = TakeId();
            NextHopResolution resolution;
            try
            {
                resolution = _resolve(destination);
            }
            catch
            {
                _freeIds.Enqueue(id, id);
                throw;
            }
            var slot = new Slot(id, resolution);
            _slots[id] = slot;
            _byDestination.Add(destination, slot);
            return slot.Entry;
        }
    }

    /// <summary>
    /// Like <see cref="Acquire"/>, under a given id: a restarted process takes over the ids
    /// its predecessor wrote into the datapath. The same destination may be restored several
    /// times under its id (one reference each); another destination under a taken id throws.
    /// </summary>
    public NextHopEntry AcquireAt(int id, IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, _slots.Length);
        if (destination.IsIPv4MappedToIPv6)
            destination = destination.MapToIPv4();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_slots[id] is { } existing)
            {
                if (!existing.Resolution.Destination.Equals(destination))
                    throw new InvalidOperationException($"next-hop id {id} holds {existing.Resolution.Destination}, not {destination}");
                existing.References++;
                return existing.Entry;
            }
            if (_byDestination.ContainsKey(destination))
                throw new InvalidOperationException($"{destination} already has another next-hop id");
            // Take the id out of the fresh range (and the free queue) so Acquire never hands it out.
            while (_nextFreshId <= id)
            {
                if (_nextFreshId != id)
                    _freeIds.Enqueue(_nextFreshId, _nextFreshId);
                _nextFreshId++;
            }
            var remaining = new List<int>();
            while (_freeIds.TryDequeue(out var free, out _))
                if (free != id)
                    remaining.Add(free);
            foreach (var free in remaining)
                _freeIds.Enqueue(free, free);
            var slot = new Slot(id, _resolve(destination));
            _slots[id] = slot;
            _byDestination.Add(destination, slot);
            return slot.Entry;
        }
    }

    /// <summary>Drops one reference; the id is freed (for reuse) with the last. False for an unknown id.</summary>
    public bool Release(int id)
    {
        lock (_lock)
        {
            if ((uint)id >= (uint)_slots.Length || _slots[id] is not { } slot)
                return false;
            if (--slot.References > 0)
                return true;
            _slots[id] = null;
            _byDestination.Remove(slot.Resolution.Destination);
            _freeIds.Enqueue(id, id);
            return true;
        }
    }

    /// <summary>The entry under <paramref name="id"/>, if held.</summary>
    public bool TryGet(int id, out NextHopEntry entry)
    {
        lock (_lock)
        {
            if ((uint)id < (uint)_slots.Length && _slots[id] is { } slot)
            {
                entry = slot.Entry;
                return true;
            }
            entry = default;
            return false;
        }
    }

    /// <summary>All held entries, by id.</summary>
    public IReadOnlyList<NextHopEntry> Entries()
    {
        lock (_lock)
            return _slots.OfType<Slot>().Select(s => s.Entry).ToArray();
    }

    /// <summary>
    /// Resolves again the entries <paramref name="change"/> may affect (all when null), raises
    /// <see cref="NextHopsChanged"/> if any changed, and returns those. The monitor calls this
    /// for every batch; call it directly after a lost monitor or a namespace-wide event.
    /// </summary>
    public IReadOnlyList<NextHopEntry> Refresh(RouteChange? change = null)
    {
        lock (_publishLock)
        {
            List<NextHopEntry> changed = [];
            List<Exception> failures = [];
            lock (_lock)
            {
                if (_disposed)
                    return [];
                foreach (var slot in _slots)
                {
                    if (slot is null || (change is not null && !change.MayAffect(slot.Resolution)))
                        continue;
                    NextHopResolution now;
                    try
                    {
                        now = _resolve(slot.Resolution.Destination);
                    }
                    catch (NetlinkException e)
                    {
                        failures.Add(e); // keep the last good resolution; the next change retries
                        continue;
                    }
                    var differs = !now.Equals(slot.Resolution);
                    slot.Resolution = now; // the detail text may be newer even when equal
                    if (differs)
                        changed.Add(slot.Entry);
                }
            }
            if (changed.Count > 0)
                NextHopsChanged?.Invoke(changed);
            if (failures.Count > 0)
                throw new AggregateException("resolving next hops again failed", failures);
            return changed;
        }
    }

    private void OnChanged(RouteChange change) => Refresh(change);

    private int TakeId()
    {
        if (_freeIds.TryDequeue(out var id, out _))
            return id;
        if (_nextFreshId == _slots.Length)
            throw new InvalidOperationException($"all {_slots.Length} next-hop ids are in use");
        return _nextFreshId++;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        if (_monitor is not null)
            _monitor.Changed -= OnChanged;
        foreach (var owned in _owned)
            owned.Dispose();
    }

    private sealed class Slot(int id, NextHopResolution resolution)
    {
        public int Id { get; } = id;
        public NextHopResolution Resolution { get; set; } = resolution;
        public int References { get; set; } = 1;
        public NextHopEntry Entry => new(Id, Resolution);
    }
}

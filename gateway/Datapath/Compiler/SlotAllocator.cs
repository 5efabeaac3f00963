using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// Hands out indexes of an array map. A released slot is quarantined before reuse: a packet
/// on another CPU may still be reading the old entry (XDP runs under RCU; user space cannot
/// wait for a grace period, so it waits a generous fixed time instead).
/// </summary>
/// <remarks>
/// Slots whose maps keep state the datapath writes (counters, token buckets) are given a
/// <c>clean</c> action: it zeroes slots as they leave quarantine, many at once, so a new rule
/// starts from zero without a syscall of its own per map. Quarantined slots are thawed only
/// when no freed slot is left, so thaws come in batches.
/// </remarks>
public sealed class SlotAllocator
{
    public static readonly TimeSpan DefaultQuarantine = TimeSpan.FromMilliseconds(200);

    /// <summary>Slots given to <c>clean</c> per call, so its buffers stay small.</summary>
    public const int CleanBatch = 4096;

    /// <summary>After an adoption, fresh slots are cleaned this many at a time as they are first taken.</summary>
    public const int FreshCleanBatch = 256;

    private readonly Stack<uint> _free = new();
    private readonly Queue<(uint Slot, long ReleasedAt)> _quarantine = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _quarantineTime;
    private readonly Action<ReadOnlySpan<uint>>? _clean;
    private readonly List<uint> _cleaning = [];
    private uint _next;
    // Fresh slots from here up may hold what a previous process left (after Restore); below it,
    // and everywhere in maps this process created, they are zero.
    private uint _cleanUpTo = uint.MaxValue;

    public SlotAllocator(string name, uint capacity, TimeProvider? time = null, TimeSpan? quarantine = null,
        Action<ReadOnlySpan<uint>>? clean = null)
    {
        Name = name;
        _clean = clean;
        Capacity = capacity;
        _time = time ?? TimeProvider.System;
        _quarantineTime = quarantine ?? DefaultQuarantine;
    }

    public string Name { get; }
    public uint Capacity { get; }
    public uint InUse { get; private set; }

    /// <summary>Slots that could be allocated now, counting quarantined ones that have aged.</summary>
    public uint Available
    {
        get
        {
            Thaw();
            return Capacity - _next + (uint)_free.Count;
        }
    }

    /// <summary>
    /// Whether <paramref name="count"/> slots could be allocated now; thaws the quarantine only
    /// when the slots already free are too few (so thaws stay batched).
    /// </summary>
    public bool HasRoomFor(int count) =>
        count <= Capacity - _next + (uint)_free.Count || count <= Available;

    /// <summary>
    /// Restarts the allocator with exactly <paramref name="used"/> in use (adopting the state
    /// a previous process left in pinned maps); every other slot below the highest is free.
    /// </summary>
    /// <remarks>
    /// A previous process may have left counters in any slot not in use now. The free ones
    /// below the highest are cleaned here; fresh ones above it as they are first taken, a batch
    /// at a time, so a restart does not wait for a whole map to be zeroed.
    /// </remarks>
    public void Restore(IEnumerable<uint> used)
    {
        var set = used.ToHashSet();
        _free.Clear();
        _quarantine.Clear();
        _next = set.Count == 0 ? 0 : set.Max() + 1;
        _cleaning.Clear();
        for (uint s = _next; s-- > 0;)
        {
            if (set.Contains(s))
                continue;
            _free.Push(s);
            if (_clean is not null)
            {
                _cleaning.Add(s);
                if (_cleaning.Count == CleanBatch)
                    CleanAndClear();
            }
        }
        if (_cleaning.Count > 0)
            CleanAndClear();
        InUse = (uint)set.Count;
        _cleanUpTo = _clean is null ? uint.MaxValue : _next;
    }

    private void CleanAndClear()
    {
        _clean!(CollectionsMarshal.AsSpan(_cleaning));
        _cleaning.Clear();
    }

    /// <summary>Returns a slot that was allocated but never published: no quarantine needed.</summary>
    public void Unallocate(uint slot)
    {
        InUse--;
        _free.Push(slot);
    }

    public bool TryAllocate(out uint slot)
    {
        if (_free.Count == 0)
            Thaw();
        if (!_free.TryPop(out slot))
        {
            if (_next >= Capacity)
                return false;
            if (_next >= _cleanUpTo)
                CleanFresh(); // may fail: then nothing is taken
            slot = _next++;
        }
        InUse++;
        return true;
    }

    private void CleanFresh()
    {
        var end = (uint)Math.Min(Capacity, (ulong)_next + FreshCleanBatch);
        _cleaning.Clear();
        for (var s = _next; s < end; s++)
            _cleaning.Add(s);
        CleanAndClear();
        _cleanUpTo = end;
    }

    public void Release(uint slot)
    {
        InUse--;
        _quarantine.Enqueue((slot, _time.GetTimestamp()));
    }

    /// <summary>Frees every slot whose quarantine is over, cleaned first (a failed clean frees none).</summary>
    private void Thaw()
    {
        while (true)
        {
            _cleaning.Clear();
            foreach (var (slot, releasedAt) in _quarantine)
            {
                if (_cleaning.Count == CleanBatch || _time.GetElapsedTime(releasedAt) < _quarantineTime)
                    break;
                _cleaning.Add(slot);
            }
            if (_cleaning.Count == 0)
                return;
            _clean?.Invoke(CollectionsMarshal.AsSpan(_cleaning));
            foreach (var slot in _cleaning)
            {
                _quarantine.Dequeue(); // the same slot: callers hold the table's lock
                _free.Push(slot);
            }
            if (_cleaning.Count < CleanBatch)
                return;
        }
    }
}

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// Hands out indexes of an array map. A released slot is quarantined before reuse: a packet
/// on another CPU may still be reading the old entry (XDP runs under RCU; user space cannot
/// wait for a grace period, so it waits a generous fixed time instead).
/// </summary>
public sealed class SlotAllocator
{
    public static readonly TimeSpan DefaultQuarantine = TimeSpan.FromMilliseconds(200);

    private readonly Stack<uint> _free = new();
    private readonly Queue<(uint Slot, long ReleasedAt)> _quarantine = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _quarantineTime;
    private uint _next;

    public SlotAllocator(string name, uint capacity, TimeProvider? time = null, TimeSpan? quarantine = null)
    {
        Name = name;
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
    /// Restarts the allocator with exactly <paramref name="used"/> in use (adopting the state
    /// a previous process left in pinned maps); every other slot below the highest is free.
    /// </summary>
    public void Restore(IEnumerable<uint> used)
    {
        var set = used.ToHashSet();
        _free.Clear();
        _quarantine.Clear();
        _next = set.Count == 0 ? 0 : set.Max() + 1;
        for (uint s = _next; s-- > 0;)
            if (!set.Contains(s))
                _free.Push(s);
        InUse = (uint)set.Count;
    }

    /// <summary>Returns a slot that was allocated but never published: no quarantine needed.</summary>
    public void Unallocate(uint slot)
    {
        InUse--;
        _free.Push(slot);
    }

    public bool TryAllocate(out uint slot)
    {
        Thaw();
        if (!_free.TryPop(out slot))
        {
            if (_next >= Capacity)
                return false;
            slot = _next++;
        }
        InUse++;
        return true;
    }

    public void Release(uint slot)
    {
        InUse--;
        _quarantine.Enqueue((slot, _time.GetTimestamp()));
    }

    private void Thaw()
    {
        while (_quarantine.TryPeek(out var q) && _time.GetElapsedTime(q.ReleasedAt) >= _quarantineTime)
            _free.Push(_quarantine.Dequeue().Slot);
    }
}

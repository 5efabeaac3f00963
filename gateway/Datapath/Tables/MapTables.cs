using System.Buffers;
using LoxiLb.Edge5G.Bpf;

namespace LoxiLb.Edge5G.Datapath.Tables;

/// <summary>
/// A map as the compiler sees it: sized, keyed, written and read. The BPF maps implement it
/// for the datapath; dictionaries implement it for compiler unit tests.
/// </summary>
public interface IMapTable<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    uint Capacity { get; }
    void Put(in TKey key, in TValue value);
    /// <summary>Removes the key (an array slot is zeroed). False when it was absent.</summary>
    bool Delete(in TKey key);
    bool TryGet(in TKey key, out TValue value);
    /// <summary>Keys present (hash maps); for array maps every index.</summary>
    IEnumerable<TKey> Keys();

    /// <summary>Writes the zero value at every key (kernel array maps: in one syscall).</summary>
    void Zero(ReadOnlySpan<TKey> keys)
    {
        foreach (var key in keys)
            Put(key, default);
    }

    /// <summary>
    /// Writes <c>values[i]</c> at <c>keys[i]</c>, in order (kernel maps: in one syscall). On
    /// failure some leading part may have been written; the exception says how much.
    /// </summary>
    void PutMany(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        for (int i = 0; i < keys.Length; i++)
            Put(keys[i], values[i]);
    }
}

/// <summary>A per-CPU counter table: read as one value per CPU, reset to zero.</summary>
public interface IPerCpuTable<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    uint Capacity { get; }
    /// <summary>Values per key: one per CPU.</summary>
    int Cpus { get; }
    TValue[] Read(in TKey key);
    /// <summary>Like <see cref="Read(in TKey)"/> into <paramref name="values"/> (<see cref="Cpus"/> items), without allocating.</summary>
    void Read(in TKey key, Span<TValue> values);
    void Reset(in TKey key);

    /// <summary>Resets every key's counters (kernel maps: in one syscall).</summary>
    void ResetAll(ReadOnlySpan<TKey> keys)
    {
        foreach (var key in keys)
            Reset(key);
    }
}

/// <summary>A hash map of the kernel.</summary>
public sealed class BpfHashTable<TKey, TValue>(BpfMap<TKey, TValue> map) : IMapTable<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    public uint Capacity => map.Info.MaxEntries;
    public void Put(in TKey key, in TValue value) => map.Update(key, value);
    public bool Delete(in TKey key) => map.Delete(key);
    public bool TryGet(in TKey key, out TValue value) => map.TryLookup(key, out value);
    public IEnumerable<TKey> Keys() => map.Keys();

    public void PutMany(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        if (keys.Length == 1)
            map.Update(keys[0], values[0]);
        else
            map.UpdateBatch(keys, values);
    }
}

/// <summary>
/// An LPM trie of the kernel: keys are prefixes; written one key per call (the trie has no
/// batch update). The kernel's lookup is a longest-prefix match of at most the key's length:
/// a key that is in gets its own value, but one that is not gets that of a shorter route
/// covering it (192.0.2.128/26 finds 192.0.2.128/25). <see cref="TryGet"/> is exact, as the
/// other tables' are: it answers from the values this table wrote, and for a key written by an
/// earlier process (adopted pins) asks the kernel when the trie's keys (enumerated once, then
/// kept with the writes) show it is in.
/// </summary>
public sealed class BpfLpmTable<TKey, TValue>(BpfMap<TKey, TValue> map) : IMapTable<TKey, TValue>
    where TKey : unmanaged, IEquatable<TKey> where TValue : unmanaged
{
    private readonly Dictionary<TKey, TValue> _written = [];
    private HashSet<TKey>? _present;

    public uint Capacity => map.Info.MaxEntries;

    public void Put(in TKey key, in TValue value)
    {
        map.Update(key, value);
        _written[key] = value;
        _present?.Add(key);
    }

    public bool Delete(in TKey key)
    {
        var deleted = map.Delete(key);
        _written.Remove(key);
        _present?.Remove(key);
        return deleted;
    }

    public bool TryGet(in TKey key, out TValue value)
    {
        if (_written.TryGetValue(key, out value))
            return true;
        _present ??= [.. Keys()];
        return _present.Contains(key) && map.TryLookup(key, out value);
    }

    public IEnumerable<TKey> Keys() => map.Keys();

    public void PutMany(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        for (int i = 0; i < keys.Length; i++)
            Put(keys[i], values[i]);
    }
}

/// <summary>An array map of the kernel: every slot exists; deleting zeroes it.</summary>
public sealed class BpfArrayTable<TValue>(BpfMap<uint, TValue> map) : IMapTable<uint, TValue>
    where TValue : unmanaged
{
    public uint Capacity => map.Info.MaxEntries;
    public void Put(in uint key, in TValue value) => map.Update(key, value);

    public bool Delete(in uint key)
    {
        map.Update(key, default);
        return true;
    }

    public bool TryGet(in uint key, out TValue value) => map.TryLookup(key, out value);
    public IEnumerable<uint> Keys() => Enumerable.Range(0, (int)map.Info.MaxEntries).Select(i => (uint)i);

    public void PutMany(ReadOnlySpan<uint> keys, ReadOnlySpan<TValue> values)
    {
        if (keys.Length == 1)
            map.Update(keys[0], values[0]);
        else
            map.UpdateBatch(keys, values);
    }

    public void Zero(ReadOnlySpan<uint> keys)
    {
        if (keys.Length == 1)
        {
            map.Update(keys[0], default);
            return;
        }
        var zeros = ArrayPool<TValue>.Shared.Rent(keys.Length);
        try
        {
            zeros.AsSpan(0, keys.Length).Clear();
            map.UpdateBatch(keys, zeros.AsSpan(0, keys.Length));
        }
        finally
        {
            ArrayPool<TValue>.Shared.Return(zeros);
        }
    }
}

public sealed class BpfPerCpuTable<TValue>(BpfPerCpuMap<uint, TValue> map) : IPerCpuTable<uint, TValue>
    where TValue : unmanaged
{
    public uint Capacity => map.Info.MaxEntries;
    public int Cpus => BpfPerCpuMap<uint, TValue>.PossibleCpus;
    public TValue[] Read(in uint key) => map.TryLookup(key, out var v) ? v : new TValue[BpfPerCpuMap<uint, TValue>.PossibleCpus];

    public void Read(in uint key, Span<TValue> values)
    {
        if (!map.TryLookup(key, values))
            values.Clear();
    }

    /// <summary>
    /// Reads the slots <paramref name="first"/> to <c>first + values.Length / Cpus - 1</c> in one
    /// syscall, <see cref="Cpus"/> values per slot (slots past the end read as zero).
    /// </summary>
    public void ReadRange(uint first, Span<TValue> values)
    {
        var count = values.Length / Cpus;
        var keys = ArrayPool<uint>.Shared.Rent(count);
        try
        {
            var read = map.LookupBatch(first == 0 ? null : first - 1, keys.AsSpan(0, count), values);
            values[(read * Cpus)..].Clear();
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(keys);
        }
    }

    public void Reset(in uint key) => map.UpdateAll(key, default);

    public void ResetAll(ReadOnlySpan<uint> keys) => map.ResetBatch(keys);
}

/// <summary>In-memory table with a capacity, for tests of the compiler without the kernel.</summary>
public sealed class MemoryTable<TKey, TValue>(uint capacity, bool isArray = false) : IMapTable<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    public Dictionary<TKey, TValue> Entries { get; } = [];
    public uint Capacity => capacity;

    public void Put(in TKey key, in TValue value)
    {
        if (!Entries.ContainsKey(key) && !isArray && Entries.Count >= capacity)
            throw new BpfException("update memory table", 7 /* E2BIG */, "table full");
        Entries[key] = value;
    }

    public bool Delete(in TKey key) => Entries.Remove(key);
    public bool TryGet(in TKey key, out TValue value) => Entries.TryGetValue(key, out value);
    public IEnumerable<TKey> Keys() => Entries.Keys.ToArray();

    /// <summary>Counts the calls, so tests can see slots cleaned in batches.</summary>
    public int ZeroCalls { get; private set; }

    /// <summary>Counts the calls, so tests can see writes held back and made in batches.</summary>
    public int PutManyCalls { get; private set; }

    public void PutMany(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        PutManyCalls++;
        for (int i = 0; i < keys.Length; i++)
            Put(keys[i], values[i]);
    }

    public void Zero(ReadOnlySpan<TKey> keys)
    {
        ZeroCalls++;
        foreach (var key in keys)
        {
            if (isArray)
                Entries.Remove(key); // an absent array slot reads as zero, as after Delete
            else
                Put(key, default);
        }
    }
}

public sealed class MemoryPerCpuTable<TValue>(uint capacity, int cpus = 2) : IPerCpuTable<uint, TValue>
    where TValue : unmanaged
{
    public Dictionary<uint, TValue[]> Entries { get; } = [];
    public uint Capacity => capacity;
    public int Cpus => cpus;
    public TValue[] Read(in uint key) => Entries.TryGetValue(key, out var v) ? v : new TValue[cpus];

    public void Read(in uint key, Span<TValue> values)
    {
        if (Entries.TryGetValue(key, out var v))
            v.CopyTo(values);
        else
            values.Clear();
    }

    public void Reset(in uint key) => Entries[key] = new TValue[cpus];

    /// <summary>Counts the calls, so tests can see slots cleaned in batches.</summary>
    public int ResetAllCalls { get; private set; }

    public void ResetAll(ReadOnlySpan<uint> keys)
    {
        ResetAllCalls++;
        foreach (var key in keys)
            Entries.Remove(key); // reads as zero
    }
}

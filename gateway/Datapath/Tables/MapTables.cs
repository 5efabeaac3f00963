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

public sealed class BpfPerCpuTable<TValue>(BpfPerCpuMap<uint, TValue> map) : IPerCpuRangeTable<TValue>
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

/// <summary>A per-CPU table whose slots can be read a range at a time (one syscall per batch).</summary>
public interface IPerCpuRangeTable<TValue> : IPerCpuTable<uint, TValue> where TValue : unmanaged
{
    /// <summary>
    /// Reads the slots <paramref name="first"/> to <c>first + values.Length / Cpus - 1</c>,
    /// <see cref="IPerCpuTable{TKey,TValue}.Cpus"/> values per slot (slots past the end read as zero).
    /// </summary>
    void ReadRange(uint first, Span<TValue> values);
}

/// <summary>
/// Per-CPU counters in a plain array map, one region per possible CPU: slot i of CPU c is
/// entry <c>c * Capacity + i</c> (pdr_stats, see bpf/gtp/gtp_maps.h). Read and reset like a
/// per-CPU map: a slot's values come one per CPU.
/// </summary>
public sealed class BpfCpuRegionTable<TValue>(BpfMap<uint, TValue> map, int cpus) : IPerCpuRangeTable<TValue>
    where TValue : unmanaged
{
    /// <summary>Slots per CPU.</summary>
    public uint Capacity { get; } = map.Info.MaxEntries / (uint)cpus;
    public int Cpus => cpus;

    public TValue[] Read(in uint key)
    {
        var values = new TValue[cpus];
        Read(key, values);
        return values;
    }

    public void Read(in uint key, Span<TValue> values)
    {
        for (int c = 0; c < cpus; c++)
            values[c] = key < Capacity && map.TryLookup((uint)c * Capacity + key, out var v) ? v : default;
    }

    /// <summary>One batch per CPU region, each scattered into its column of <paramref name="values"/>.</summary>
    public void ReadRange(uint first, Span<TValue> values)
    {
        var count = values.Length / cpus;
        values.Clear();
        // Only the slots that exist: past Capacity lies the next CPU's region.
        var inMap = first >= Capacity ? 0 : (int)Math.Min(count, Capacity - first);
        if (inMap == 0)
            return;
        var keys = ArrayPool<uint>.Shared.Rent(inMap);
        var column = ArrayPool<TValue>.Shared.Rent(inMap);
        try
        {
            for (int c = 0; c < cpus; c++)
            {
                var start = (uint)c * Capacity + first;
                var read = map.LookupBatch(start == 0 ? null : start - 1, keys.AsSpan(0, inMap), column.AsSpan(0, inMap));
                for (int i = 0; i < read; i++)
                    values[i * cpus + c] = column[i];
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(keys);
            ArrayPool<TValue>.Shared.Return(column);
        }
    }

    /// <summary>Writes a slot's values, one per CPU, in one syscall (what the program's counting leaves).</summary>
    public void Write(uint key, ReadOnlySpan<TValue> perCpu)
    {
        if (key >= Capacity)
            throw new ArgumentOutOfRangeException(nameof(key), key, $"map '{map.Name}' has {Capacity} slots per CPU");
        if (perCpu.Length != cpus)
            throw new ArgumentException($"map '{map.Name}' needs {cpus} values (one per possible CPU), not {perCpu.Length}", nameof(perCpu));
        Span<uint> keys = cpus <= 256 ? stackalloc uint[cpus] : new uint[cpus];
        for (int c = 0; c < cpus; c++)
            keys[c] = (uint)c * Capacity + key;
        map.UpdateBatch(keys, perCpu);
    }

    public void Reset(in uint key) => ResetAll([key]);

    /// <summary>Every CPU's copy of every key, in one syscall; a key past the slots writes nothing.</summary>
    public void ResetAll(ReadOnlySpan<uint> keys)
    {
        var n = keys.Length * cpus;
        if (n == 0)
            return;
        var all = ArrayPool<uint>.Shared.Rent(n);
        var zeros = ArrayPool<TValue>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < keys.Length; i++)
            {
                if (keys[i] >= Capacity)
                    throw new ArgumentOutOfRangeException(nameof(keys), keys[i], $"map '{map.Name}' has {Capacity} slots per CPU");
                for (int c = 0; c < cpus; c++)
                    all[i * cpus + c] = (uint)c * Capacity + keys[i];
            }
            zeros.AsSpan(0, n).Clear();
            map.UpdateBatch(all.AsSpan(0, n), zeros.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(all);
            ArrayPool<TValue>.Shared.Return(zeros);
        }
    }
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

using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>What the kernel says about a map: type, sizes, name.</summary>
public readonly record struct BpfMapInfo(BpfMapType Type, uint Id, uint KeySize, uint ValueSize, uint MaxEntries, string KernelName)
{
    internal static unsafe BpfMapInfo Read(BpfFdHandle fd, string name)
    {
        BpfMapInfoHead info = default;
        uint length = (uint)sizeof(BpfMapInfoHead);
        var rc = LibBpf.bpf_obj_get_info_by_fd(fd.Fd, &info, &length);
        BpfException.ThrowIfNegative(rc, $"read info of map '{name}'", "BPF_OBJ_GET_INFO_BY_FD failed");
        var kernelName = Encoding.UTF8.GetString(new ReadOnlySpan<byte>(info.Name, 16)).TrimEnd('\0');
        return new BpfMapInfo((BpfMapType)info.Type, info.Id, info.KeySize, info.ValueSize, info.MaxEntries, kernelName);
    }

    /// <summary>Bytes of kernel memory the map is charged for ("memlock" in /proc/self/fdinfo).</summary>
    public static long Memlock(BpfFdHandle fd)
    {
        foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd.Fd}"))
            if (line.StartsWith("memlock:", StringComparison.Ordinal))
                return long.Parse(line["memlock:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }
}

/// <summary>Common part of typed maps: the descriptor, the kernel's description, pinning.</summary>
public abstract unsafe class BpfMapBase<TKey> : IDisposable where TKey : unmanaged
{
    private protected BpfMapBase(BpfFdHandle fd, string name, BpfMapInfo info)
    {
        Descriptor = fd;
        Name = name;
        Info = info;
    }

    /// <summary>Object/map name, used in error messages.</summary>
    public string Name { get; }
    public BpfMapInfo Info { get; }
    public BpfFdHandle Descriptor { get; }

    private protected int Fd => Descriptor.IsClosed ? throw new ObjectDisposedException(Name) : Descriptor.Fd;

    /// <summary>Checks the kernel's key size against <typeparamref name="TKey"/>, and the value size.</summary>
    private protected static BpfMapInfo CheckLayout(BpfFdHandle fd, string name, string csharpType, int valueSize, bool perCpu)
    {
        BpfMapInfo info;
        try
        {
            info = BpfMapInfo.Read(fd, name);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
        string? problem = null;
        if (info.KeySize != sizeof(TKey))
            problem = $"the kernel's key is {info.KeySize} bytes but {typeof(TKey).Name} is {sizeof(TKey)} bytes";
        else if (info.ValueSize != valueSize)
            problem = $"the kernel's value is {info.ValueSize} bytes but the C# value type is {valueSize} bytes";
        else if (info.Type.IsPerCpu() != perCpu)
            problem = perCpu
                ? $"the map is {info.Type}, not a per-CPU map; open it as BpfMap"
                : $"the map is {info.Type}, a per-CPU map; open it as BpfPerCpuMap";
        if (problem is not null)
        {
            fd.Dispose();
            throw new BpfException($"open map '{name}' as {csharpType}", 0, problem);
        }
        return info;
    }

    /// <summary>Deletes a key. Returns false when it was not there.</summary>
    public bool Delete(in TKey key)
    {
        fixed (TKey* k = &key)
        {
            var rc = LibBpf.bpf_map_delete_elem(Fd, k);
            if (rc == -2 /* ENOENT */)
                return false;
            BpfException.ThrowIfNegative(rc, $"delete from map '{Name}'", $"key {Describe(key)}");
            return true;
        }
    }

    /// <summary>
    /// Keys in the map's order. A hash map being changed concurrently may repeat or skip keys
    /// (kernel semantics of BPF_MAP_GET_NEXT_KEY).
    /// </summary>
    public IEnumerable<TKey> Keys()
    {
        TKey current = default;
        bool first = true;
        for (uint guard = 0; guard <= Info.MaxEntries; guard++)
        {
            if (!TryNextKey(first, current, out var next))
                yield break;
            first = false;
            current = next;
            yield return next;
        }
    }

    private bool TryNextKey(bool first, TKey current, out TKey next)
    {
        TKey n;
        int rc = first
            ? LibBpf.bpf_map_get_next_key(Fd, null, &n)
            : LibBpf.bpf_map_get_next_key(Fd, &current, &n);
        next = n;
        if (rc == -2 /* ENOENT: end of map */)
            return false;
        BpfException.ThrowIfNegative(rc, $"iterate map '{Name}'", "BPF_MAP_GET_NEXT_KEY failed");
        return true;
    }

    /// <summary>Pins the map at <paramref name="path"/> on bpffs.</summary>
    public void Pin(string path) => BpfPins.Pin(Descriptor, path, $"pin map '{Name}'");

    private protected static string Describe(in TKey key)
    {
        fixed (TKey* k = &key)
            return Convert.ToHexString(new ReadOnlySpan<byte>(k, sizeof(TKey)));
    }

    /// <summary>BPF_MAP_UPDATE_BATCH of <paramref name="keys"/> with their values laid out as the kernel reads them.</summary>
    private protected void UpdateBatch(ReadOnlySpan<TKey> keys, void* values, string operation)
    {
        var count = (uint)keys.Length;
        int rc;
        fixed (TKey* k = keys)
            rc = LibBpf.bpf_map_update_batch(Fd, k, values, &count, null);
        BpfException.ThrowIfNegative(rc, $"{operation} '{Name}'", $"{count} of {keys.Length} keys written, first {Describe(keys[0])}");
    }

    public void Dispose() => Descriptor.Dispose();
}

/// <summary>A hash/array/LPM map with one value per key.</summary>
public sealed unsafe class BpfMap<TKey, TValue> : BpfMapBase<TKey>
    where TKey : unmanaged where TValue : unmanaged
{
    private BpfMap(BpfFdHandle fd, string name, BpfMapInfo info) : base(fd, name, info) { }

    internal static BpfMap<TKey, TValue> FromDescriptor(BpfFdHandle fd, string name) =>
        new(fd, name, CheckLayout(fd, name, TypeName, sizeof(TValue), perCpu: false));

    /// <summary>Opens a map pinned on bpffs (e.g. by a previous gateway process).</summary>
    public static BpfMap<TKey, TValue> OpenPinned(string path) => FromDescriptor(BpfPins.Open(path, "map"), path);

    private static string TypeName => $"BpfMap<{typeof(TKey).Name}, {typeof(TValue).Name}>";

    /// <summary>The values, mapped read-only into this process (the map must be an array made with BPF_F_MMAPABLE).</summary>
    public BpfMapMemory MapMemory() => BpfMapMemory.Map(Descriptor, Name, Info);

    public bool TryLookup(in TKey key, out TValue value)
    {
        TValue v;
        int rc;
        fixed (TKey* k = &key)
            rc = LibBpf.bpf_map_lookup_elem(Fd, k, &v);
        if (rc == -2 /* ENOENT */)
        {
            value = default;
            return false;
        }
        BpfException.ThrowIfNegative(rc, $"look up map '{Name}'", $"key {Describe(key)}");
        value = v;
        return true;
    }

    public TValue Lookup(in TKey key) =>
        TryLookup(key, out var v) ? v : throw new KeyNotFoundException($"map '{Name}' has no key {Describe(key)}");

    public void Update(in TKey key, in TValue value, BpfUpdate flags = BpfUpdate.Any)
    {
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
            BpfException.ThrowIfNegative(LibBpf.bpf_map_update_elem(Fd, k, v, (ulong)flags),
                $"update map '{Name}' ({flags})", $"key {Describe(key)}");
    }

    /// <summary>
    /// Writes <c>values[i]</c> at <c>keys[i]</c> in one syscall (BPF_MAP_UPDATE_BATCH, any
    /// existing entry replaced): clearing many array slots costs one syscall, not one each.
    /// </summary>
    public void UpdateBatch(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        if (values.Length != keys.Length)
            throw new ArgumentException($"map '{Name}': {keys.Length} keys but {values.Length} values", nameof(values));
        if (keys.IsEmpty)
            return;
        fixed (TValue* v = values)
            UpdateBatch(keys, v, "batch update map");
    }

    public IEnumerable<KeyValuePair<TKey, TValue>> Entries()
    {
        foreach (var key in Keys())
            if (TryLookup(key, out var value))
                yield return new(key, value);
    }
}

/// <summary>A per-CPU map: the kernel keeps one value per possible CPU for each key.</summary>
public sealed unsafe class BpfPerCpuMap<TKey, TValue> : BpfMapBase<TKey>
    where TKey : unmanaged where TValue : unmanaged
{
    private BpfPerCpuMap(BpfFdHandle fd, string name, BpfMapInfo info) : base(fd, name, info) { }

    internal static BpfPerCpuMap<TKey, TValue> FromDescriptor(BpfFdHandle fd, string name) =>
        new(fd, name, CheckLayout(fd, name, $"BpfPerCpuMap<{typeof(TKey).Name}, {typeof(TValue).Name}>", sizeof(TValue), perCpu: true));

    public static BpfPerCpuMap<TKey, TValue> OpenPinned(string path) => FromDescriptor(BpfPins.Open(path, "map"), path);

    /// <summary>Number of possible CPUs: the length of every value array.</summary>
    public static int PossibleCpus { get; } = LibBpf.libbpf_num_possible_cpus();

    // The kernel lays per-CPU values out at 8-byte strides.
    private static int Stride => (sizeof(TValue) + 7) & ~7;

    public bool TryLookup(in TKey key, out TValue[] values)
    {
        var read = new TValue[PossibleCpus];
        if (!TryLookup(key, read))
        {
            values = [];
            return false;
        }
        values = read;
        return true;
    }

    /// <summary>
    /// Reads one value per possible CPU into <paramref name="values"/> (<see cref="PossibleCpus"/>
    /// items) without allocating: usage checks read every PDR's counters every second.
    /// </summary>
    public bool TryLookup(in TKey key, Span<TValue> values)
    {
        if (values.Length != PossibleCpus)
            throw new ArgumentException($"map '{Name}' has {PossibleCpus} values (one per possible CPU), got room for {values.Length}", nameof(values));
        int size = Stride * PossibleCpus;
        byte[]? rented = size <= StackLimit ? null : ArrayPool<byte>.Shared.Rent(size);
        Span<byte> buffer = rented is null ? stackalloc byte[StackLimit] : rented;
        try
        {
            int rc;
            fixed (TKey* k = &key)
            fixed (byte* b = buffer)
                rc = LibBpf.bpf_map_lookup_elem(Fd, k, b);
            if (rc == -2)
                return false;
            BpfException.ThrowIfNegative(rc, $"look up per-CPU map '{Name}'", $"key {Describe(key)}");
            for (int cpu = 0; cpu < values.Length; cpu++)
                values[cpu] = MemoryMarshal.Read<TValue>(buffer[(cpu * Stride)..]);
            return true;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Per-CPU buffers up to this size live on the stack (64 CPUs of 16-byte counters).
    private const int StackLimit = 1024;

    /// <summary>
    /// Reads up to <c>keys.Length</c> entries in one syscall (BPF_MAP_LOOKUP_BATCH): the ones
    /// following <paramref name="after"/> in the map's order (null: from the first; for an
    /// array map, the indexes after it). <paramref name="values"/> gets <see cref="PossibleCpus"/>
    /// values per entry. Returns how many entries were read.
    /// </summary>
    public int LookupBatch(TKey? after, Span<TKey> keys, Span<TValue> values)
    {
        if (values.Length != keys.Length * PossibleCpus)
            throw new ArgumentException($"map '{Name}' needs {PossibleCpus} values per key (one per possible CPU)", nameof(values));
        if (keys.IsEmpty)
            return 0;
        var bytes = ArrayPool<byte>.Shared.Rent(keys.Length * Stride * PossibleCpus);
        try
        {
            var previous = after.GetValueOrDefault();
            TKey next;
            var count = (uint)keys.Length;
            int rc;
            fixed (TKey* k = keys)
            fixed (byte* v = bytes)
                rc = LibBpf.bpf_map_lookup_batch(Fd, after is null ? null : &previous, &next, k, v, &count, null);
            // ENOENT: the map ended before the batch was full; count says how many came.
            if (rc != -2)
                BpfException.ThrowIfNegative(rc, $"batch look up per-CPU map '{Name}'", $"{keys.Length} keys");
            for (int i = 0; i < (int)count * PossibleCpus; i++)
                values[i] = MemoryMarshal.Read<TValue>(bytes.AsSpan(i * Stride));
            return (int)count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    public TValue[] Lookup(in TKey key) =>
        TryLookup(key, out var v) ? v : throw new KeyNotFoundException($"map '{Name}' has no key {Describe(key)}");

    /// <summary>Writes one value per possible CPU (<paramref name="values"/> must have <see cref="PossibleCpus"/> items).</summary>
    public void Update(in TKey key, ReadOnlySpan<TValue> values, BpfUpdate flags = BpfUpdate.Any)
    {
        if (values.Length != PossibleCpus)
            throw new ArgumentException($"map '{Name}' needs {PossibleCpus} values (one per possible CPU), got {values.Length}", nameof(values));
        int size = Stride * PossibleCpus;
        byte[]? rented = size <= StackLimit ? null : ArrayPool<byte>.Shared.Rent(size);
        Span<byte> buffer = rented is null ? stackalloc byte[StackLimit] : rented;
        try
        {
            // The padding between strides goes to the kernel too: zero it, as a fresh array was.
            buffer[..size].Clear();
            for (int cpu = 0; cpu < values.Length; cpu++)
                MemoryMarshal.Write(buffer[(cpu * Stride)..], in values[cpu]);
            fixed (TKey* k = &key)
            fixed (byte* b = buffer)
                BpfException.ThrowIfNegative(LibBpf.bpf_map_update_elem(Fd, k, b, (ulong)flags),
                    $"update per-CPU map '{Name}' ({flags})", $"key {Describe(key)}");
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Zeroes every CPU's value of every key in one syscall (BPF_MAP_UPDATE_BATCH).</summary>
    public void ResetBatch(ReadOnlySpan<TKey> keys)
    {
        if (keys.IsEmpty)
            return;
        var size = keys.Length * Stride * PossibleCpus;
        var zeros = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            zeros.AsSpan(0, size).Clear();
            fixed (byte* v = zeros)
                UpdateBatch(keys, v, "batch reset per-CPU map");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(zeros);
        }
    }

    /// <summary>Sets every CPU's value to the same one (typically zero to reset counters).</summary>
    public void UpdateAll(in TKey key, in TValue value, BpfUpdate flags = BpfUpdate.Any)
    {
        Span<TValue> values = PossibleCpus * sizeof(TValue) <= StackLimit ? stackalloc TValue[PossibleCpus] : new TValue[PossibleCpus];
        values.Fill(value);
        Update(key, values, flags);
    }

    public IEnumerable<KeyValuePair<TKey, TValue[]>> Entries()
    {
        foreach (var key in Keys())
            if (TryLookup(key, out var values))
                yield return new(key, values);
    }
}

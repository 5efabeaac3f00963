using System.Collections;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>What a compiled session's slot or key is: one list per kind.</summary>
internal enum SlotKind : byte
{
    Pdr,
    Far,
    Qer,
    Sdf,
    RuleList,
    NextHop,
    Ue4Key,
    Match,
    /// <summary>PDR id -> its slot in pdrs (a keyed entry).</summary>
    PdrSlotById,
    /// <summary>PDR id -> the index of its counters in pdr_stats (a keyed entry).</summary>
    PdrStats,
}

/// <summary>
/// The map slots and IPv4 keys one compiled session owns, every kind in one array, each entry
/// tagged with its kind (and, for the per-PDR maps, the PDR id). A held session kept eight
/// lists and two maps (eight of them in use, an object each, copied and marked by every
/// collection); the dozen or two entries of a session fit in one array, and a list or map is
/// read by scanning it (kinds keep their order, so "the slot of FAR i" holds).
/// </summary>
internal struct SlotStore
{
    private ulong[]? _items;
    private int _count;

    // kind (8 bits) | key (16 bits, keyed kinds) | value (32 bits)
    private static SlotKind KindOf(ulong item) => (SlotKind)(item >> 56);
    private static uint ValueOf(ulong item) => (uint)item;
    private static ushort KeyOf(ulong item) => (ushort)(item >> 32);
    private static ulong Entry(SlotKind kind, ushort key, uint value) => (ulong)kind << 56 | (ulong)key << 32 | value;

    public readonly int CountOf(SlotKind kind)
    {
        var n = 0;
        for (int i = 0; i < _count; i++)
            if (KindOf(_items![i]) == kind)
                n++;
        return n;
    }

    public readonly uint Get(SlotKind kind, int index)
    {
        for (int i = 0, seen = 0; i < _count; i++)
            if (KindOf(_items![i]) == kind && seen++ == index)
                return ValueOf(_items[i]);
        throw new ArgumentOutOfRangeException(nameof(index), index, $"{kind} has {CountOf(kind)} entries");
    }

    public void Add(SlotKind kind, uint value) => Append(Entry(kind, 0, value));

    private void Append(ulong entry)
    {
        if (_items is null || _count == _items.Length)
            Array.Resize(ref _items, Math.Max(8, _count * 2));
        _items[_count++] = entry;
    }

    /// <summary>The position of the keyed entry, or -1.</summary>
    public readonly int Find(SlotKind kind, ushort key)
    {
        for (int i = 0; i < _count; i++)
            if (KindOf(_items![i]) == kind && KeyOf(_items[i]) == key)
                return i;
        return -1;
    }

    /// <summary>Sets the keyed entry, in place when the key has one.</summary>
    public void Set(SlotKind kind, ushort key, uint value)
    {
        var at = Find(kind, key);
        if (at >= 0)
            _items![at] = Entry(kind, key, value);
        else
            Append(Entry(kind, key, value));
    }

    public readonly ushort KeyAt(int position) => KeyOf(_items![position]);

    /// <summary>The position of the next entry of <paramref name="kind"/> after <paramref name="position"/>, or -1.</summary>
    public readonly int Next(SlotKind kind, int position)
    {
        for (int i = position + 1; i < _count; i++)
            if (KindOf(_items![i]) == kind)
                return i;
        return -1;
    }

    public readonly uint At(int position) => ValueOf(_items![position]);
}

/// <summary>One kind of a session's slots or keys, as a list (a view of its <see cref="SlotStore"/>).</summary>
internal readonly struct SlotList(CompiledSession owner, SlotKind kind) : IReadOnlyList<uint>
{
    public int Count => owner.Slots.CountOf(kind);
    public uint this[int index] => owner.Slots.Get(kind, index);

    public void Add(uint value) => owner.Slots.Add(kind, value);

    public void AddRange(IEnumerable<uint> values)
    {
        foreach (var value in values)
            Add(value);
    }

    public bool Contains(uint value)
    {
        foreach (var v in this)
            if (v == value)
                return true;
        return false;
    }

    /// <summary>A struct enumerator: foreach over a session's slots allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(owner, kind);
    IEnumerator<uint> IEnumerable<uint>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(CompiledSession owner, SlotKind kind) : IEnumerator<uint>
    {
        private int _position = -1;

        public readonly uint Current => owner.Slots.At(_position);
        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => (_position = owner.Slots.Next(kind, _position)) >= 0;
        public void Reset() => _position = -1;
        public readonly void Dispose() { }
    }
}

/// <summary>One of a session's per-PDR maps (PDR id -> slot), as a dictionary (a view of its <see cref="SlotStore"/>).</summary>
public readonly struct SlotMap : IReadOnlyDictionary<ushort, uint>
{
    private readonly CompiledSession _owner;
    private readonly SlotKind _kind;

    internal SlotMap(CompiledSession owner, SlotKind kind) => (_owner, _kind) = (owner, kind);

    public int Count => _owner.Slots.CountOf(_kind);

    public uint this[ushort key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no entry for PDR {key}");

    /// <summary>Sets the PDR's entry (in place when it has one).</summary>
    internal void Set(ushort key, uint value) => _owner.Slots.Set(_kind, key, value);

    public bool ContainsKey(ushort key) => _owner.Slots.Find(_kind, key) >= 0;

    public bool TryGetValue(ushort key, out uint value)
    {
        var at = _owner.Slots.Find(_kind, key);
        value = at >= 0 ? _owner.Slots.At(at) : 0;
        return at >= 0;
    }

    public IEnumerable<ushort> Keys => this.Select(e => e.Key);
    public IEnumerable<uint> Values => this.Select(e => e.Value);

    /// <summary>A struct enumerator: foreach over a session's per-PDR entries allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(_owner, _kind);
    IEnumerator<KeyValuePair<ushort, uint>> IEnumerable<KeyValuePair<ushort, uint>>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator : IEnumerator<KeyValuePair<ushort, uint>>
    {
        private readonly CompiledSession _owner;
        private readonly SlotKind _kind;
        private int _position;

        internal Enumerator(CompiledSession owner, SlotKind kind) => (_owner, _kind, _position) = (owner, kind, -1);

        public readonly KeyValuePair<ushort, uint> Current => new(_owner.Slots.KeyAt(_position), _owner.Slots.At(_position));
        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => (_position = _owner.Slots.Next(_kind, _position)) >= 0;
        public void Reset() => _position = -1;
        public readonly void Dispose() { }
    }
}

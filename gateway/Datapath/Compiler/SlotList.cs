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
}

/// <summary>
/// The map slots and IPv4 keys one compiled session owns, every kind in one array, each entry
/// tagged with its kind. A held session kept eight lists (six of them in use, an object each,
/// copied and marked by every collection); the dozen entries of a session fit in one array,
/// and a list is read by scanning it (kinds keep their order, so "the slot of FAR i" holds).
/// </summary>
internal struct SlotStore
{
    private ulong[]? _items;
    private int _count;

    private static SlotKind KindOf(ulong item) => (SlotKind)(item >> 32);
    private static uint ValueOf(ulong item) => (uint)item;

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

    public void Add(SlotKind kind, uint value)
    {
        if (_items is null || _count == _items.Length)
            Array.Resize(ref _items, Math.Max(8, _count * 2));
        _items[_count++] = (ulong)kind << 32 | value;
    }

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

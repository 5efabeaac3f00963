using System.Collections;
using System.Runtime.CompilerServices;

namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Immutable list with structural equality, so records holding repeated IEs compare by content.
/// Supports collection expressions: <c>CreatePdrs = [pdr1, pdr2]</c>.
/// </summary>
/// <remarks>
/// A list of one item (most repeated IEs: a PDR's one UE IP address, QER ID, URR ID) holds it
/// in itself rather than in an array: one object instead of two, for every session that keeps it.
/// </remarks>
[CollectionBuilder(typeof(ValueList), nameof(ValueList.Create))]
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private readonly T[]? _items;
    private readonly T _single = default!;

    internal ValueList(T[] items)
    {
        if (items.Length == 1)
            _single = items[0];
        else
            _items = items;
    }

    internal ValueList(T single) => _single = single;

    public static ValueList<T> Empty { get; } = new([]);

    public int Count => _items?.Length ?? 1;
    public T this[int index] => _items is null ? (index == 0 ? _single : throw new IndexOutOfRangeException()) : _items[index];
    public bool IsEmpty => Count == 0;

    public ReadOnlySpan<T> AsSpan() => _items ?? new ReadOnlySpan<T>(in _single);

    /// <summary>Same answer as Enumerable.Contains (default equality), without boxing an enumerator: usage checks ask per PDR per second.</summary>
    public bool Contains(T item) => AsSpan().IndexOf(item, EqualityComparer<T>.Default) >= 0;

    public ValueList<T> Add(T item)
    {
        if (IsEmpty)
            return new ValueList<T>(item);
        var copy = new T[Count + 1];
        AsSpan().CopyTo(copy);
        copy[^1] = item;
        return new ValueList<T>(copy);
    }

    /// <summary>A struct enumerator, so a foreach over a ValueList allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(this);
    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)(_items ?? [_single])).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<T>)this).GetEnumerator();

    public struct Enumerator(ValueList<T> list)
    {
        private int _index = -1;

        public readonly T Current => list[_index];
        public bool MoveNext() => ++_index < list.Count;
    }

    public bool Equals(ValueList<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || AsSpan().SequenceEqual(other.AsSpan(), EqualityComparer<T>.Default));

    public override bool Equals(object? obj) => obj is ValueList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in AsSpan())
            hash.Add(item);
        return hash.ToHashCode();
    }

    public static bool operator ==(ValueList<T>? left, ValueList<T>? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(ValueList<T>? left, ValueList<T>? right) => !(left == right);

    public override string ToString() => "[" + string.Join(", ", (IEnumerable<T>)this) + "]";
}

public static class ValueList
{
    public static ValueList<T> Create<T>(ReadOnlySpan<T> items) =>
        items.Length switch { 0 => ValueList<T>.Empty, 1 => new ValueList<T>(items[0]), _ => new ValueList<T>(items.ToArray()) };

    /// <summary>A list of one item.</summary>
    public static ValueList<T> Of<T>(T item) => new(item);

    public static ValueList<T> From<T>(IEnumerable<T> items)
    {
        var array = items.ToArray();
        return array.Length == 0 ? ValueList<T>.Empty : new ValueList<T>(array);
    }
}

using System.Collections;
using System.Runtime.CompilerServices;

namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Immutable list with structural equality, so records holding repeated IEs compare by content.
/// Supports collection expressions: <c>CreatePdrs = [pdr1, pdr2]</c>.
/// </summary>
[CollectionBuilder(typeof(ValueList), nameof(ValueList.Create))]
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private readonly T[] _items;

    internal ValueList(T[] items) => _items = items;

    public static ValueList<T> Empty { get; } = new([]);

    public int Count => _items.Length;
    public T this[int index] => _items[index];
    public bool IsEmpty => _items.Length == 0;

    public ReadOnlySpan<T> AsSpan() => _items;

    /// <summary>Same answer as Enumerable.Contains (default equality), without boxing an enumerator: usage checks ask per PDR per second.</summary>
    public bool Contains(T item) => Array.IndexOf(_items, item) >= 0;

    public ValueList<T> Add(T item)
    {
        var copy = new T[_items.Length + 1];
        _items.CopyTo(copy, 0);
        copy[^1] = item;
        return new ValueList<T>(copy);
    }

    /// <summary>A struct enumerator, so a foreach over a ValueList allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(_items);
    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public struct Enumerator(T[] items)
    {
        private int _index = -1;

        public readonly T Current => items[_index];
        public bool MoveNext() => ++_index < items.Length;
    }

    public bool Equals(ValueList<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || _items.AsSpan().SequenceEqual(other._items, EqualityComparer<T>.Default));

    public override bool Equals(object? obj) => obj is ValueList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items)
            hash.Add(item);
        return hash.ToHashCode();
    }

    public static bool operator ==(ValueList<T>? left, ValueList<T>? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(ValueList<T>? left, ValueList<T>? right) => !(left == right);

    public override string ToString() => "[" + string.Join(", ", _items) + "]";
}

public static class ValueList
{
    public static ValueList<T> Create<T>(ReadOnlySpan<T> items) => items.IsEmpty ? ValueList<T>.Empty : new ValueList<T>(items.ToArray());

    public static ValueList<T> From<T>(IEnumerable<T> items)
    {
        var array = items.ToArray();
        return array.Length == 0 ? ValueList<T>.Empty : new ValueList<T>(array);
    }
}

using System.Collections;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// An append-only list that holds its first two items in itself: every held session keeps a
/// handful of these (its slots, keys, TEIDs and UE addresses, one or two each), and as a
/// List&lt;T&gt; each was two objects on the managed heap, copied and marked by every collection.
/// </summary>
internal sealed class SmallList<T> : IReadOnlyList<T>
{
    private T _first = default!;
    private T _second = default!;
    private T[]? _rest;
    private int _count;

    public int Count => _count;

    public T this[int index] =>
        (uint)index >= (uint)_count ? throw new ArgumentOutOfRangeException(nameof(index))
        : index == 0 ? _first
        : index == 1 ? _second
        : _rest![index - 2];

    public void Add(T item)
    {
        switch (_count)
        {
            case 0: _first = item; break;
            case 1: _second = item; break;
            default:
                var at = _count - 2;
                if (_rest is null || at == _rest.Length)
                    Array.Resize(ref _rest, Math.Max(2, at * 2));
                _rest[at] = item;
                break;
        }
        _count++;
    }

    public void AddRange(IEnumerable<T> items)
    {
        foreach (var item in items)
            Add(item);
    }

    public bool Contains(T item)
    {
        for (int i = 0; i < _count; i++)
            if (EqualityComparer<T>.Default.Equals(this[i], item))
                return true;
        return false;
    }

    public Enumerator GetEnumerator() => new(this);
    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A struct enumerator, so foreach over a session's slots allocates nothing.</summary>
    public struct Enumerator(SmallList<T> list) : IEnumerator<T>
    {
        private int _index = -1;

        public readonly T Current => list[_index];
        readonly object? IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < list._count;
        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }
}

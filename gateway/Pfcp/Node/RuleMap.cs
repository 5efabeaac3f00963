using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// The rules of one kind that a session holds, by id: immutable, sorted by id, in two arrays.
/// </summary>
/// <remarks>
/// A session holds a handful of rules of each kind for its whole life. An ImmutableDictionary
/// kept a tree node and a hash bucket per rule, and needed a builder and a sort per request.
/// Here the arrays are found by binary search and enumerated in id order, which is the order
/// the datapath model wants. A builder that changed nothing gives back the map it came from,
/// so a modification shares the maps of the rule kinds it does not touch.
/// </remarks>
public sealed class RuleMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : struct, IComparable<TKey>
{
    private readonly TKey[] _keys;
    private readonly TValue[] _values;

    private RuleMap(TKey[] keys, TValue[] values)
    {
        _keys = keys;
        _values = values;
    }

    public static RuleMap<TKey, TValue> Empty { get; } = new([], []);

    /// <summary>A map of <paramref name="items"/> keyed by <paramref name="key"/>; a repeated key throws.</summary>
    public static RuleMap<TKey, TValue> From(IEnumerable<TValue> items, Func<TValue, TKey> key)
    {
        var b = Empty.ToBuilder();
        foreach (var item in items)
            if (!b.TryAdd(key(item), item))
                throw new ArgumentException($"id {key(item)} appears more than once", nameof(items));
        return b.ToImmutable();
    }

    public int Count => _keys.Length;
    public IEnumerable<TKey> Keys => _keys;
    public IEnumerable<TValue> Values => _values;

    public TValue this[TKey key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no rule with id {key}");

    public bool ContainsKey(TKey key) => Array.BinarySearch(_keys, key) >= 0;

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        var i = Array.BinarySearch(_keys, key);
        if (i < 0)
        {
            value = default;
            return false;
        }
        value = _values[i];
        return true;
    }

    public Builder ToBuilder() => new(this);

    /// <summary>Entries in id order, without boxing an enumerator.</summary>
    public Enumerator GetEnumerator() => new(this);
    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator()
    {
        for (int i = 0; i < _keys.Length; i++)
            yield return new(_keys[i], _values[i]);
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<TKey, TValue>>)this).GetEnumerator();

    public struct Enumerator(RuleMap<TKey, TValue> map)
    {
        private int _index = -1;

        public readonly KeyValuePair<TKey, TValue> Current => new(map._keys[_index], map._values[_index]);
        public bool MoveNext() => ++_index < map._keys.Length;
    }

    /// <summary>
    /// The rules as a request changes them: copied from the map on the first change only, kept
    /// sorted by id.
    /// </summary>
    public sealed class Builder
    {
        private readonly RuleMap<TKey, TValue> _source;
        private List<TKey>? _keys;
        private List<TValue>? _values;

        internal Builder(RuleMap<TKey, TValue> source) => _source = source;

        public int Count => _keys?.Count ?? _source.Count;
        public IEnumerable<TValue> Values => _values ?? (IEnumerable<TValue>)_source._values;

        public TValue this[TKey key]
        {
            get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no rule with id {key}");
            set
            {
                var (keys, values) = Writable();
                var i = keys.BinarySearch(key);
                if (i >= 0)
                {
                    values[i] = value;
                }
                else
                {
                    keys.Insert(~i, key);
                    values.Insert(~i, value);
                }
            }
        }

        public bool ContainsKey(TKey key) => Find(key) >= 0;

        public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
        {
            var i = Find(key);
            if (i < 0)
            {
                value = default;
                return false;
            }
            value = _values is null ? _source._values[i] : _values[i];
            return true;
        }

        /// <summary>Adds the rule unless its id is taken (then false, nothing changes).</summary>
        public bool TryAdd(TKey key, TValue value)
        {
            if (Find(key) >= 0)
                return false;
            this[key] = value;
            return true;
        }

        public bool Remove(TKey key)
        {
            if (Find(key) < 0)
                return false;
            var (keys, values) = Writable();
            var i = keys.BinarySearch(key);
            keys.RemoveAt(i);
            values.RemoveAt(i);
            return true;
        }

        /// <summary>The map as changed; the map it came from when nothing changed.</summary>
        public RuleMap<TKey, TValue> ToImmutable() =>
            _keys is null ? _source
            : _keys.Count == 0 ? Empty
            : new RuleMap<TKey, TValue>([.. _keys], [.. _values!]);

        private int Find(TKey key) => _keys is null ? Array.BinarySearch(_source._keys, key) : _keys.BinarySearch(key);

        private (List<TKey> Keys, List<TValue> Values) Writable()
        {
            _keys ??= [.. _source._keys];
            _values ??= [.. _source._values];
            return (_keys, _values);
        }
    }
}

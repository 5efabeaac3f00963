using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// The rules of one kind that a session holds, by id: immutable, sorted by id, in one array.
/// </summary>
/// <remarks>
/// A session holds a handful of rules of each kind for its whole life. An ImmutableDictionary
/// kept a tree node and a hash bucket per rule, and needed a builder and a sort per request.
/// Here the entries are found by binary search and enumerated in id order, which is the order
/// the datapath model wants; ids and rules share one array, so a held map is two objects (one
/// fewer for every collection to copy, per rule kind and session). A builder that changed
/// nothing gives back the map it came from, so a modification shares the maps of the rule
/// kinds it does not touch.
/// </remarks>
public sealed class RuleMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : struct, IComparable<TKey>
{
    private readonly KeyValuePair<TKey, TValue>[] _entries;

    private RuleMap(KeyValuePair<TKey, TValue>[] entries) => _entries = entries;

    public static RuleMap<TKey, TValue> Empty { get; } = new([]);

    /// <summary>A map of <paramref name="items"/> keyed by <paramref name="key"/>; a repeated key throws.</summary>
    public static RuleMap<TKey, TValue> From(IEnumerable<TValue> items, Func<TValue, TKey> key)
    {
        var b = Empty.ToBuilder();
        foreach (var item in items)
            if (!b.TryAdd(key(item), item))
                throw new ArgumentException($"id {key(item)} appears more than once", nameof(items));
        return b.ToImmutable();
    }

    public int Count => _entries.Length;
    public IEnumerable<TKey> Keys => _entries.Select(e => e.Key);
    public IEnumerable<TValue> Values => _entries.Select(e => e.Value);

    public TValue this[TKey key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no rule with id {key}");

    public bool ContainsKey(TKey key) => Search(_entries, key) >= 0;

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        var i = Search(_entries, key);
        if (i < 0)
        {
            value = default;
            return false;
        }
        value = _entries[i].Value;
        return true;
    }

    /// <summary>The index of <paramref name="key"/> in entries sorted by key, or the complement of where it would go.</summary>
    private static int Search(ReadOnlySpan<KeyValuePair<TKey, TValue>> entries, TKey key)
    {
        int low = 0, high = entries.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var order = entries[mid].Key.CompareTo(key);
            if (order == 0)
                return mid;
            if (order < 0)
                low = mid + 1;
            else
                high = mid - 1;
        }
        return ~low;
    }

    public Builder ToBuilder() => new(this);

    /// <summary>
    /// <paramref name="recent"/> when it holds the same ids and equal rules (as sessions set up
    /// from one template do: their decoded rules are usually the very same shared records), else
    /// this map. Rules are immutable records, so equal ones are interchangeable; kept, the
    /// shared map is two objects fewer per session for the GC.
    /// </summary>
    public RuleMap<TKey, TValue> SharedWith(RuleMap<TKey, TValue>? recent)
    {
        if (recent is null || recent._entries.Length != _entries.Length || ReferenceEquals(recent, this))
            return this;
        for (int i = 0; i < _entries.Length; i++)
            if (!recent._entries[i].Key.Equals(_entries[i].Key) || !EqualityComparer<TValue>.Default.Equals(recent._entries[i].Value, _entries[i].Value))
                return this;
        return recent;
    }

    /// <summary>Entries in id order, without boxing an enumerator.</summary>
    public Enumerator GetEnumerator() => new(this);
    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() =>
        ((IEnumerable<KeyValuePair<TKey, TValue>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    public struct Enumerator(RuleMap<TKey, TValue> map)
    {
        private int _index = -1;

        public readonly KeyValuePair<TKey, TValue> Current => map._entries[_index];
        public bool MoveNext() => ++_index < map._entries.Length;
    }

    /// <summary>
    /// The rules as a request changes them: copied from the map on the first change only, kept
    /// sorted by id.
    /// </summary>
    public sealed class Builder
    {
        private readonly RuleMap<TKey, TValue> _source;
        private List<KeyValuePair<TKey, TValue>>? _entries;

        internal Builder(RuleMap<TKey, TValue> source) => _source = source;

        public int Count => _entries?.Count ?? _source.Count;
        public IEnumerable<TValue> Values => (_entries ?? (IEnumerable<KeyValuePair<TKey, TValue>>)_source._entries).Select(e => e.Value);

        public TValue this[TKey key]
        {
            get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no rule with id {key}");
            set
            {
                var entries = Writable();
                var i = Find(key);
                if (i >= 0)
                    entries[i] = new(key, value);
                else
                    entries.Insert(~i, new(key, value));
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
            value = _entries is null ? _source._entries[i].Value : _entries[i].Value;
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
            var i = Find(key);
            if (i < 0)
                return false;
            Writable().RemoveAt(i);
            return true;
        }

        /// <summary>The map as changed; the map it came from when nothing changed.</summary>
        public RuleMap<TKey, TValue> ToImmutable() =>
            _entries is null ? _source
            : _entries.Count == 0 ? Empty
            : new RuleMap<TKey, TValue>([.. _entries]);

        private int Find(TKey key) => Search(_entries is null ? _source._entries : CollectionsMarshal.AsSpan(_entries), key);

        private List<KeyValuePair<TKey, TValue>> Writable() => _entries ??= [.. _source._entries];
    }
}

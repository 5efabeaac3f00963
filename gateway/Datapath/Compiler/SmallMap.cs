using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// A map for the few entries a compiled session keeps per PDR or key (its counter indexes,
/// PDR slots, dense keys): one array searched in order, instead of a Dictionary's three
/// objects on the managed heap for every held session. Past <see cref="LinearLimit"/> entries
/// (a session with many PDRs) it moves them to a Dictionary, so lookups stay constant-time.
/// Entries are never removed: a session's maps are built once and replaced on modification.
/// </summary>
internal sealed class SmallMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull, IEquatable<TKey>
{
    private const int LinearLimit = 8;

    private KeyValuePair<TKey, TValue>[] _entries = [];
    private int _count;
    private Dictionary<TKey, TValue>? _large;

    public int Count => _large?.Count ?? _count;

    public TValue this[TKey key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no entry for {key}");
        set
        {
            if (_large is not null)
            {
                _large[key] = value;
                return;
            }
            var at = IndexOf(key);
            if (at >= 0)
            {
                _entries[at] = new(key, value);
                return;
            }
            if (_count == LinearLimit)
            {
                _large = new Dictionary<TKey, TValue>(_count * 2);
                for (int i = 0; i < _count; i++)
                    _large[_entries[i].Key] = _entries[i].Value;
                _large[key] = value;
                _entries = [];
                _count = 0;
                return;
            }
            if (_count == _entries.Length)
                Array.Resize(ref _entries, Math.Max(2, _count * 2));
            _entries[_count++] = new(key, value);
        }
    }

    public bool ContainsKey(TKey key) => _large?.ContainsKey(key) ?? IndexOf(key) >= 0;

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_large is not null)
            return _large.TryGetValue(key, out value);
        var at = IndexOf(key);
        value = at >= 0 ? _entries[at].Value : default;
        return at >= 0;
    }

    private int IndexOf(TKey key)
    {
        for (int i = 0; i < _count; i++)
            if (_entries[i].Key.Equals(key))
                return i;
        return -1;
    }

    public IEnumerable<TKey> Keys => this.Select(e => e.Key);
    public IEnumerable<TValue> Values => this.Select(e => e.Value);

    public Enumerator GetEnumerator() => new(this);
    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A struct enumerator, so foreach over a session's entries allocates nothing while it is small.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private readonly SmallMap<TKey, TValue> _map;
        private Dictionary<TKey, TValue>.Enumerator _large;
        private int _index;

        internal Enumerator(SmallMap<TKey, TValue> map)
        {
            _map = map;
            _index = -1;
            if (map._large is not null)
                _large = map._large.GetEnumerator();
        }

        public readonly KeyValuePair<TKey, TValue> Current => _map._large is not null ? _large.Current : _map._entries[_index];
        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => _map._large is not null ? _large.MoveNext() : ++_index < _map._count;
        public void Reset() => throw new NotSupportedException();
        public readonly void Dispose() { }
    }
}

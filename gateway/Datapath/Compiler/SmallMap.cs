using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// A map for the few entries a compiled session keeps per PDR or key (its counter indexes,
/// PDR slots, dense keys, usage baselines): searched in order, one object for up to two entries
/// instead of a Dictionary's three on the managed heap for every held session. Past
/// <see cref="LinearLimit"/> entries (a session with many PDRs) it moves them to a Dictionary,
/// so lookups stay constant-time.
/// </summary>
internal sealed class SmallMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull, IEquatable<TKey>
{
    private const int LinearLimit = 8;

    // The first two entries live in the map itself (most sessions have one or two PDRs per
    // key), the rest in one array; past LinearLimit everything moves to a Dictionary.
    private KeyValuePair<TKey, TValue> _first;
    private KeyValuePair<TKey, TValue> _second;
    private KeyValuePair<TKey, TValue>[]? _rest;
    private int _count;
    private Dictionary<TKey, TValue>? _large;

    public int Count => _large?.Count ?? _count;

    private KeyValuePair<TKey, TValue> At(int i) => i == 0 ? _first : i == 1 ? _second : _rest![i - 2];

    private void Set(int i, KeyValuePair<TKey, TValue> entry)
    {
        if (i == 0) _first = entry;
        else if (i == 1) _second = entry;
        else _rest![i - 2] = entry;
    }

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
                Set(at, new(key, value));
                return;
            }
            if (_count == LinearLimit)
            {
                _large = new Dictionary<TKey, TValue>(_count * 2);
                for (int i = 0; i < _count; i++)
                    _large[At(i).Key] = At(i).Value;
                _large[key] = value;
                Clear(keepLarge: true);
                return;
            }
            if (_count >= 2 && (_rest is null || _count - 2 == _rest.Length))
                Array.Resize(ref _rest, Math.Max(2, (_count - 2) * 2));
            Set(_count++, new(key, value));
        }
    }

    /// <summary>Removes the key's entry, keeping the others in order.</summary>
    public bool Remove(TKey key)
    {
        if (_large is not null)
            return _large.Remove(key);
        var at = IndexOf(key);
        if (at < 0)
            return false;
        for (int i = at; i < _count - 1; i++)
            Set(i, At(i + 1));
        Set(--_count, default);
        return true;
    }

    public void Clear() => Clear(keepLarge: false);

    private void Clear(bool keepLarge)
    {
        _first = _second = default;
        _rest = null;
        _count = 0;
        if (!keepLarge)
            _large = null;
    }

    public bool ContainsKey(TKey key) => _large?.ContainsKey(key) ?? IndexOf(key) >= 0;

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_large is not null)
            return _large.TryGetValue(key, out value);
        var at = IndexOf(key);
        value = at >= 0 ? At(at).Value : default;
        return at >= 0;
    }

    private int IndexOf(TKey key)
    {
        for (int i = 0; i < _count; i++)
            if (At(i).Key.Equals(key))
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

        public readonly KeyValuePair<TKey, TValue> Current => _map._large is not null ? _large.Current : _map.At(_index);
        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => _map._large is not null ? _large.MoveNext() : ++_index < _map._count;
        public void Reset() => throw new NotSupportedException();
        public readonly void Dispose() { }
    }
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Tables;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// A table whose writes of some values (and deletes of some keys) fail as the kernel's do
/// (ENOMEM). A batch write stops at the first refused value, with what came before it written,
/// as BPF_MAP_UPDATE_BATCH does.
/// </summary>
public sealed class RefusingTable<TKey, TValue>(IMapTable<TKey, TValue> inner, Func<TKey, TValue, bool> refuse,
    Func<TKey, bool>? refuseDelete = null) : IMapTable<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    private const int Enomem = 12;

    /// <summary>Batch writes asked for (each a single syscall on a kernel map).</summary>
    public int PutManyCalls { get; private set; }

    public uint Capacity => inner.Capacity;
    public bool Delete(in TKey key) => refuseDelete?.Invoke(key) == true
        ? throw new BpfException("delete map 'refusing'", Enomem, "refused by the test")
        : inner.Delete(key);
    public bool TryGet(in TKey key, out TValue value) => inner.TryGet(key, out value);
    public IEnumerable<TKey> Keys() => inner.Keys();

    public void Put(in TKey key, in TValue value)
    {
        if (refuse(key, value))
            throw new BpfException("update map 'refusing'", Enomem, "refused by the test");
        inner.Put(key, value);
    }

    public void PutMany(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        PutManyCalls++;
        for (int i = 0; i < keys.Length; i++)
        {
            if (refuse(keys[i], values[i]))
                throw new BpfException("batch update map 'refusing'", Enomem, $"{i} of {keys.Length} keys written");
            inner.Put(keys[i], values[i]);
        }
    }
}

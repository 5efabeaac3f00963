namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Values decoded from recently seen octets, in a small direct-mapped cache. An SMF sends the
/// same node ID, network instances and rule templates (a FAR, QER or URR per DNN and profile)
/// in request after request. With this cache, sessions share one immutable instance each
/// instead of holding copies, and a repeat is not decoded again.
/// </summary>
/// <remarks>
/// A hit compares the octets in full; a miss decodes and takes the slot, so the cache never
/// changes what a message decodes to. Only successful decodes are kept. Each slot is replaced
/// whole without a lock: a racing reader sees the old entry or the new one.
/// </remarks>
public sealed class RecentDecodes<T>(int slots) where T : class
{
    private sealed record Entry(byte[] Octets, T Value);

    private readonly Entry?[] _slots = new Entry?[slots];

    /// <summary>The value these octets decoded to last time, or <c>decode(state)</c> (then kept).</summary>
    public T Get<TState>(ReadOnlySpan<byte> octets, TState state, Func<TState, T> decode) where TState : allows ref struct
    {
        var hash = new HashCode();
        hash.AddBytes(octets);
        var slot = (int)((uint)hash.ToHashCode() % (uint)_slots.Length);
        if (Volatile.Read(ref _slots[slot]) is { } hit && octets.SequenceEqual(hit.Octets))
            return hit.Value;
        var value = decode(state);
        Volatile.Write(ref _slots[slot], new Entry(octets.ToArray(), value));
        return value;
    }
}

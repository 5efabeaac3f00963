using System.Net;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// The answers sent to requests, kept for <see cref="MaxAge"/> so that a retransmitted request
/// (same peer, same sequence number) gets the same answer again and is never applied twice.
/// </summary>
/// <remarks>
/// The bytes are packed into large shared chunks, not kept as an array each: at 20,000 requests
/// a second every answer outlives several young-generation collections, and as an object of its
/// own each one was copied by them. A chunk (on the large-object heap, never copied) is reused
/// once every answer in it has expired; answers expire in the order they were cached, so that
/// is the oldest chunk first. Not thread-safe: the node calls it under its lock.
/// </remarks>
internal sealed class AnswerCache(TimeProvider time, TimeSpan maxAge)
{
    /// <summary>1 MiB: a few thousand answers; larger than the 85,000 bytes that put it on the large-object heap.</summary>
    internal const int ChunkBytes = 1 << 20;
    /// <summary>Emptied chunks kept for reuse: allocating large objects counts towards a full collection.</summary>
    private const int SpareChunks = 4;

    private readonly record struct Entry(long Chunk, int Offset, int Length, long At);

    private readonly Dictionary<(IPEndPoint Peer, uint Sequence), Entry> _entries = [];
    /// <summary>Every answer cached, oldest first (a newer answer to the same request leaves an older one here).</summary>
    private readonly Queue<((IPEndPoint Peer, uint Sequence) Key, long At, long Chunk)> _order = new();
    /// <summary>Chunks in use, oldest first; the first one's number is <see cref="_firstChunk"/>.</summary>
    private readonly List<byte[]> _chunks = [];
    private readonly Stack<byte[]> _spare = new();
    private long _firstChunk;
    /// <summary>Bytes used in the newest chunk.</summary>
    private int _used;

    public TimeSpan MaxAge { get; } = maxAge;
    public int Count => _entries.Count;
    /// <summary>Chunks holding answers (for tests and diagnostics).</summary>
    internal int ChunksInUse => _chunks.Count;

    /// <summary>Keeps the answer to <paramref name="peer"/>'s request <paramref name="sequence"/> (replacing an older one).</summary>
    public void Add(IPEndPoint peer, uint sequence, ReadOnlySpan<byte> answer)
    {
        var at = time.GetTimestamp();
        if (_chunks.Count == 0 || _used + answer.Length > _chunks[^1].Length)
        {
            // A fresh chunk; an answer larger than a chunk (a long usage report) gets one of its size.
            _chunks.Add(answer.Length <= ChunkBytes
                ? _spare.TryPop(out var reused) ? reused : GC.AllocateUninitializedArray<byte>(ChunkBytes)
                : GC.AllocateUninitializedArray<byte>(answer.Length));
            _used = 0;
        }
        var chunk = _firstChunk + _chunks.Count - 1;
        answer.CopyTo(_chunks[^1].AsSpan(_used));
        _entries[(peer, sequence)] = new Entry(chunk, _used, answer.Length, at);
        _order.Enqueue(((peer, sequence), at, chunk));
        _used += answer.Length;
    }

    /// <summary>The answer cached for this request, if any.</summary>
    public bool TryGet(IPEndPoint peer, uint sequence, out ReadOnlySpan<byte> answer)
    {
        if (!_entries.TryGetValue((peer, sequence), out var e))
        {
            answer = default;
            return false;
        }
        answer = _chunks[(int)(e.Chunk - _firstChunk)].AsSpan(e.Offset, e.Length);
        return true;
    }

    /// <summary>Forgets the answers older than <see cref="MaxAge"/> and reuses the chunks they emptied.</summary>
    public void Expire()
    {
        while (_order.TryPeek(out var oldest) && time.GetElapsedTime(oldest.At) > MaxAge)
        {
            _order.Dequeue();
            // Unless the same request was answered again since (a newer entry).
            if (_entries.TryGetValue(oldest.Key, out var e) && e.At == oldest.At && e.Chunk == oldest.Chunk)
                _entries.Remove(oldest.Key);
        }
        // Every chunk before the one the oldest answer left is in holds nothing anyone can find.
        var firstLive = _order.TryPeek(out var next) ? next.Chunk : _firstChunk + _chunks.Count;
        while (_firstChunk < firstLive && _chunks.Count > 0)
        {
            var emptied = _chunks[0];
            _chunks.RemoveAt(0);
            _firstChunk++;
            if (emptied.Length == ChunkBytes && _spare.Count < SpareChunks)
                _spare.Push(emptied);
        }
    }
}

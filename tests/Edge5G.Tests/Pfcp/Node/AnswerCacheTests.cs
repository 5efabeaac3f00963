using System.Net;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Tests.Datapath;
using Xunit;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

public class AnswerCacheTests
{
    private static readonly IPEndPoint Smf = new(IPAddress.Parse("192.0.2.1"), 8805);
    private static readonly IPEndPoint OtherSmf = new(IPAddress.Parse("192.0.2.2"), 8805);

    private static byte[] Answer(uint sequence, int length = 40)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)(sequence * 7 + i);
        return bytes;
    }

    private static byte[]? Get(AnswerCache cache, IPEndPoint peer, uint sequence) =>
        cache.TryGet(peer, sequence, out var answer) ? answer.ToArray() : null;

    [Fact]
    public void AnAnswerIsFoundByPeerAndSequence_ByteForByte()
    {
        var cache = new AnswerCache(new ManualTime(), TimeSpan.FromSeconds(10));
        for (uint seq = 1; seq <= 100; seq++)
            cache.Add(Smf, seq, Answer(seq, 20 + (int)seq));

        Assert.Equal(100, cache.Count);
        Assert.Equal(Answer(57, 77), Get(cache, Smf, 57));
        Assert.Null(Get(cache, OtherSmf, 57));
        Assert.Null(Get(cache, Smf, 101));
    }

    [Fact]
    public void AnswersExpireOldestFirst_AfterMaxAge()
    {
        var time = new ManualTime();
        var cache = new AnswerCache(time, TimeSpan.FromSeconds(10));
        cache.Add(Smf, 1, Answer(1));
        time.Advance(TimeSpan.FromSeconds(6));
        cache.Add(Smf, 2, Answer(2));
        time.Advance(TimeSpan.FromSeconds(5));
        cache.Expire();

        Assert.Null(Get(cache, Smf, 1));
        Assert.Equal(Answer(2), Get(cache, Smf, 2));
        time.Advance(TimeSpan.FromSeconds(6));
        cache.Expire();
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.ChunksInUse);
    }

    [Fact]
    public void ANewerAnswerToTheSameRequest_OutlivesTheOlderOnesExpiry()
    {
        var time = new ManualTime();
        var cache = new AnswerCache(time, TimeSpan.FromSeconds(10));
        cache.Add(Smf, 9, Answer(1));
        time.Advance(TimeSpan.FromSeconds(8));
        cache.Add(Smf, 9, Answer(2));
        time.Advance(TimeSpan.FromSeconds(3));
        cache.Expire();

        Assert.Equal(Answer(2), Get(cache, Smf, 9));
    }

    [Fact]
    public void ChunksFill_AndAreReusedOnceEveryAnswerInThemExpired()
    {
        var time = new ManualTime();
        var cache = new AnswerCache(time, TimeSpan.FromSeconds(10));
        const int Length = 1000;
        var perChunk = AnswerCache.ChunkBytes / Length;
        uint seq = 0;
        for (int i = 0; i < perChunk * 2 + 1; i++)
            cache.Add(Smf, ++seq, Answer(seq, Length));
        Assert.Equal(3, cache.ChunksInUse);

        // The first two chunks' answers age out; one answer of the third is still wanted.
        time.Advance(TimeSpan.FromSeconds(11));
        cache.Add(Smf, ++seq, Answer(seq, Length));
        cache.Expire();
        Assert.Equal(1, cache.ChunksInUse);
        Assert.Equal(1, cache.Count);
        Assert.Equal(Answer(seq, Length), Get(cache, Smf, seq));

        // Filling again takes the emptied chunks back, and every answer reads back intact.
        var first = seq + 1;
        for (int i = 0; i < perChunk * 2; i++)
            cache.Add(Smf, ++seq, Answer(seq, Length));
        Assert.Equal(3, cache.ChunksInUse);
        for (var s = first; s <= seq; s += 97)
            Assert.Equal(Answer(s, Length), Get(cache, Smf, s));
    }

    [Fact]
    public void AnAnswerLargerThanAChunk_IsKeptWhole()
    {
        var cache = new AnswerCache(new ManualTime(), TimeSpan.FromSeconds(10));
        cache.Add(Smf, 1, Answer(1));
        var big = Answer(2, AnswerCache.ChunkBytes + 10);
        cache.Add(Smf, 2, big);
        cache.Add(Smf, 3, Answer(3));

        Assert.Equal(big, Get(cache, Smf, 2));
        Assert.Equal(Answer(1), Get(cache, Smf, 1));
        Assert.Equal(Answer(3), Get(cache, Smf, 3));
        Assert.Equal(3, cache.ChunksInUse);
    }
}

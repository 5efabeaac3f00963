using LoxiLb.Edge5G.Pfcp.Node;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>The sorted immutable map a session keeps its rules of one kind in.</summary>
public class RuleMapTests
{
    [Fact]
    public void SharedWith_GivesTheRecentMap_OnlyForTheSameIdsAndEqualRules()
    {
        string a = "a", b = "b";
        var recent = RuleMap<uint, string>.From([a, b], s => (uint)(s[0] - 'a' + 1));
        var same = RuleMap<uint, string>.From([b, a], s => (uint)(s[0] - 'a' + 1));
        var equalButCopied = RuleMap<uint, string>.From([new string('a', 1), b], s => (uint)(s[0] - 'a' + 1));
        var otherRule = RuleMap<uint, string>.From(["a2", b], s => (uint)(s[0] - 'a' + 1));
        var fewer = RuleMap<uint, string>.From([a], s => 1);
        var otherIds = RuleMap<uint, string>.From([a, b], s => (uint)(s[0] - 'a' + 5));

        Assert.Same(recent, same.SharedWith(recent));
        Assert.Same(recent, equalButCopied.SharedWith(recent));
        Assert.Same(otherRule, otherRule.SharedWith(recent));
        Assert.Same(fewer, fewer.SharedWith(recent));
        Assert.Same(otherIds, otherIds.SharedWith(recent));
        Assert.Same(same, same.SharedWith(null));
    }

    [Fact]
    public void Builder_AddsRemovesAndReplaces_KeepingIdOrder_AndTheSourceUnchanged()
    {
        var first = RuleMap<uint, string>.From(["c", "a"], s => (uint)(s[0] - 'a' + 1));
        Assert.Equal([1u, 3u], first.Keys);

        var b = first.ToBuilder();
        Assert.True(b.TryAdd(2, "b"));
        Assert.False(b.TryAdd(3, "again")); // taken: nothing changes
        b[1] = "A";
        b[9] = "i";
        Assert.True(b.Remove(3));
        Assert.False(b.Remove(7));
        Assert.Equal(3, b.Count);
        Assert.True(b.TryGetValue(2, out var two) && two == "b");
        var next = b.ToImmutable();

        Assert.Equal([1u, 2u, 9u], next.Keys);
        Assert.Equal(["A", "b", "i"], next.Values);
        Assert.Equal([(1u, "A"), (2u, "b"), (9u, "i")], next.Select(kv => (kv.Key, kv.Value)));
        Assert.Equal("i", next[9]);
        Assert.False(next.ContainsKey(3));
        Assert.Throws<KeyNotFoundException>(() => next[3]);
        // The map the builder came from is as it was.
        Assert.Equal([1u, 3u], first.Keys);
        Assert.Equal(["a", "c"], first.Values);
    }

    [Fact]
    public void ABuilderThatChangedNothing_GivesBackTheSameMap_AndOneThatRemovedEverything_TheEmptyOne()
    {
        var map = RuleMap<ushort, int>.From([10, 20], v => (ushort)v);
        var untouched = map.ToBuilder();
        Assert.False(untouched.TryAdd(10, 0));
        Assert.False(untouched.Remove(5));
        Assert.Same(map, untouched.ToImmutable());

        var emptied = map.ToBuilder();
        Assert.True(emptied.Remove(10));
        Assert.True(emptied.Remove(20));
        Assert.Same(RuleMap<ushort, int>.Empty, emptied.ToImmutable());
    }

    [Fact]
    public void From_RefusesARepeatedId()
    {
        var e = Assert.Throws<ArgumentException>(() => RuleMap<byte, string>.From(["x1", "y1"], s => (byte)(s[1] - '0')));
        Assert.Contains("id 1 appears more than once", e.Message);
    }

    [Fact]
    public void Foreach_GoesInIdOrder_WithoutAllocating()
    {
        var map = RuleMap<uint, long>.From([30L, 10L, 20L], v => (uint)v);
        long order = 0;
        foreach (var (id, value) in map) // warm
            order = order * 100 + id + value;
        var before = GC.GetAllocatedBytesForCurrentThread();
        order = 0;
        foreach (var (id, value) in map)
            order = order * 100 + (id + value) / 2;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(102030, order);
    }
}

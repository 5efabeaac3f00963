using LoxiLb.Edge5G.Datapath.Compiler;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>The compact lists and maps a compiled session keeps: same answers as List and Dictionary.</summary>
public class SmallCollectionTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(9)]
    public void SmallList_HoldsItsItemsInOrder(int count)
    {
        var list = new SmallList<uint>();
        var expected = Enumerable.Range(100, count).Select(i => (uint)i).ToList();
        list.AddRange(expected);

        Assert.Equal(count, list.Count);
        Assert.Equal(expected, list.ToList());
        var seen = new List<uint>();
        foreach (var item in list)
            seen.Add(item);
        Assert.Equal(expected, seen);
        Assert.Equal(expected.Select((v, i) => v), Enumerable.Range(0, count).Select(i => list[i]));
        Assert.Equal(count > 0, list.Contains(100));
        Assert.Equal(count > 8, list.Contains(108));
        Assert.False(list.Contains(99));
        Assert.Throws<ArgumentOutOfRangeException>(() => list[count]);
    }

    [Fact]
    public void SlotLists_OfOneSession_KeepEachKindInOrder_ThoughTheyShareOneArray()
    {
        var session = new CompiledSession(null!); // the slot lists do not look at the model
        var expected = new Dictionary<SlotKind, List<uint>>();
        foreach (var kind in Enum.GetValues<SlotKind>())
            expected[kind] = [];
        // Interleaved as the compiler adds them, with values using all 32 bits (IPv4 keys).
        var rng = new Random(7);
        for (int i = 0; i < 40; i++)
        {
            var kind = (SlotKind)rng.Next(Enum.GetValues<SlotKind>().Length);
            var value = i % 5 == 0 ? 0xC000_0200u + (uint)i : (uint)rng.Next();
            new SlotList(session, kind).Add(value);
            expected[kind].Add(value);
        }

        foreach (var (kind, values) in expected)
        {
            var list = new SlotList(session, kind);
            Assert.Equal(values.Count, list.Count);
            Assert.Equal(values, list.ToList());
            Assert.Equal(values, Enumerable.Range(0, values.Count).Select(i => list[i]));
            foreach (var v in values)
                Assert.True(list.Contains(v));
            Assert.Throws<ArgumentOutOfRangeException>(() => list[values.Count]);
        }
        Assert.Equal(expected[SlotKind.Far], session.FarSlots.ToList());
        Assert.Equal(expected[SlotKind.Ue4Key], session.Ue4Keys.ToList());
        Assert.False(session.QerSlots.Contains(expected[SlotKind.Far].FirstOrDefault(v => !expected[SlotKind.Qer].Contains(v), 12345u)));
        Assert.Empty(new SlotList(new CompiledSession(null!), SlotKind.Pdr));
    }

    [Fact]
    public void SlotMaps_OfOneSession_AnswerAsDictionaries_BesideItsLists()
    {
        var session = new CompiledSession(null!);
        session.FarSlots.Add(7);
        session.PdrStats.Set(2, 0xFFFF_FFF0);
        session.PdrSlotById.Set(2, 40);
        session.PdrStats.Set(1, 11);
        session.FarSlots.Add(8);
        session.PdrStats.Set(2, 12); // replaced in place

        Assert.Equal([new KeyValuePair<ushort, uint>(2, 12), new(1, 11)], session.PdrStats.ToList());
        Assert.Equal(2, session.PdrStats.Count);
        Assert.Equal(11u, session.PdrStats[1]);
        Assert.True(session.PdrStats.TryGetValue(2, out var two) && two == 12);
        Assert.False(session.PdrStats.TryGetValue(3, out _));
        Assert.False(session.PdrStats.ContainsKey(3));
        Assert.Throws<KeyNotFoundException>(() => session.PdrStats[3]);
        Assert.Equal([(ushort)2], session.PdrSlotById.Keys);
        Assert.Equal([40u], session.PdrSlotById.Values);
        Assert.Equal([7u, 8u], session.FarSlots.ToList()); // the lists are not disturbed
        var sum = 0u;
        foreach (var (_, stats) in session.PdrStats)
            sum += stats;
        Assert.Equal(23u, sum);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(40)]
    public void SmallMap_AnswersAsADictionary_BeforeAndAfterItOutgrowsTheLinearSearch(int count)
    {
        var map = new SmallMap<ushort, uint>();
        var reference = new Dictionary<ushort, uint>();
        for (ushort k = 1; k <= count; k++)
        {
            map[k] = 1000u + k;
            reference[k] = 1000u + k;
        }
        map[1] = 7; // overwrite keeps one entry
        reference[1] = 7;

        Assert.Equal(reference.Count, map.Count);
        Assert.Equal(reference.OrderBy(e => e.Key), map.OrderBy(e => e.Key));
        foreach (var (key, value) in reference)
        {
            Assert.True(map.TryGetValue(key, out var got));
            Assert.Equal(value, got);
            Assert.Equal(value, map[key]);
            Assert.True(map.ContainsKey(key));
        }
        Assert.False(map.TryGetValue(0, out _));
        Assert.False(map.ContainsKey((ushort)(count + 1)));
        Assert.Throws<KeyNotFoundException>(() => map[0]);
        Assert.Equal(reference.Keys.Order(), map.Keys.Order());
        Assert.Equal(reference.Values.Order(), map.Values.Order());
    }

    [Fact]
    public void SmallMap_Remove_KeepsTheOthersInOrder_AndClearEmptiesIt()
    {
        var map = new SmallMap<uint, string>();
        foreach (var k in new uint[] { 5, 6, 7, 8 })
            map[k] = $"v{k}";

        Assert.True(map.Remove(6));
        Assert.False(map.Remove(6));
        Assert.Equal(new uint[] { 5, 7, 8 }, map.Keys);
        Assert.Equal("v8", map[8]);
        map[9] = "v9";
        Assert.Equal(new uint[] { 5, 7, 8, 9 }, map.Keys);

        map.Clear();
        Assert.False(map.ContainsKey(5));
        Assert.Empty(map);
    }

    [Fact]
    public void SmallList_OfReferences_ComparesByValue()
    {
        var list = new SmallList<System.Net.IPAddress>();
        list.Add(System.Net.IPAddress.Parse("192.0.2.10"));

        Assert.Contains(System.Net.IPAddress.Parse("192.0.2.10"), list);
        Assert.True(list.Contains(System.Net.IPAddress.Parse("192.0.2.10")));
        Assert.False(list.Contains(System.Net.IPAddress.Parse("192.0.2.11")));
    }
}

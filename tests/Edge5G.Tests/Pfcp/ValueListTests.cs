using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>The immutable list records keep repeated IEs in: the same answers for 0, 1 and more items.</summary>
public class ValueListTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void AListOfN_AnswersLikeAnArray(int n)
    {
        var items = Enumerable.Range(10, n).Select(i => $"ie{i}").ToArray();
        ValueList<string> list = [.. items];

        Assert.Equal(n, list.Count);
        Assert.Equal(n == 0, list.IsEmpty);
        Assert.Equal(items, list.AsSpan().ToArray());
        Assert.Equal(items, list.ToArray());
        var seen = new List<string>();
        foreach (var item in list)
            seen.Add(item);
        Assert.Equal(items, seen);
        for (int i = 0; i < n; i++)
            Assert.Equal(items[i], list[i]);
        Assert.Throws<IndexOutOfRangeException>(() => list[n]);
        Assert.Equal(n > 0, list.Contains(new string("ie10".ToCharArray()))); // by value, not identity
        Assert.False(list.Contains("ie9"));
        Assert.Equal([.. items, "x"], list.Add("x").ToArray());
        Assert.Equal(items, list.ToArray()); // Add leaves the list as it was
        Assert.Equal("[" + string.Join(", ", items) + "]", list.ToString());
    }

    [Fact]
    public void Lists_CompareByContent_HowEverTheyWereBuilt()
    {
        ValueList<uint> one = [7];
        var fromArray = ValueList.From(new uint[] { 7 });
        var added = ValueList<uint>.Empty.Add(7);

        Assert.Equal(one, fromArray);
        Assert.Equal(one, ValueList.Of(7u));
        Assert.Equal([7u], ValueList.Of(7u).AsSpan().ToArray());
        Assert.Equal(one, added);
        Assert.True(one == added);
        Assert.Equal(one.GetHashCode(), added.GetHashCode());
        Assert.NotEqual(one, ValueList<uint>.Empty);
        Assert.NotEqual(one, (ValueList<uint>)[7, 7]);
        Assert.NotEqual(one, (ValueList<uint>)[8]);
    }
}

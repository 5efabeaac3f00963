using LoxiLb.Edge5G.Replay;

namespace LoxiLb.Edge5G.Tests.Support;

public static class PacketAssert
{
    /// <summary>Exact byte comparison with a readable diff (hex dump and decodes) on failure.</summary>
    public static void Equal(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        var diff = PacketDiff.Describe(expected, actual);
        if (diff is not null)
            Assert.Fail(diff);
    }
}

using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>Byte-exact checks for IEs: encode to the spec layout, decode back to an equal value.</summary>
internal static class PfcpAssert
{
    public static void SameOctets(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual) =>
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(actual));

    /// <summary>A leaf IE: typed value → exactly <paramref name="expected"/> (type, length, value) → equal value.</summary>
    public static void LeafRoundTrip(IeType type, object value, byte[] expected)
    {
        SameOctets(expected, LeafIes.Encode(type, value).ToBytes());
        var parsed = PfcpIe.Parse(expected);
        Assert.Equal((ushort)type, parsed.Type);
        Assert.Equal(value, LeafIes.Decode(parsed));
    }

    /// <summary>A grouped (or any IIeValue) IE: record → exactly <paramref name="expected"/> → equal record.</summary>
    public static void RoundTrip<T>(IeType type, T value, IeDecoder<T> decode, byte[] expected) where T : IIeValue
    {
        SameOctets(expected, PfcpIe.Of(type, value).ToBytes());
        Assert.Equal(value, decode(PfcpIe.Parse(expected)));
    }

    /// <summary>Decoding the IE value throws the given cause.</summary>
    public static PfcpFormatException Fails(PfcpCause cause, Action decode)
    {
        var e = Assert.Throws<PfcpFormatException>(decode);
        Assert.Equal(cause, e.Cause);
        return e;
    }
}

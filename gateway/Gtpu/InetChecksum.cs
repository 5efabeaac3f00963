namespace LoxiLb.Edge5G.Gtpu;

/// <summary>The Internet checksum (RFC 1071): ones' complement of the ones' complement sum of 16-bit words.</summary>
public static class InetChecksum
{
    /// <summary>Over <paramref name="data"/> (an odd last octet is padded with zero); the caller prepends any pseudo-header.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2)
            sum += (uint)((data[i] << 8) | data[i + 1]);
        if ((data.Length & 1) == 1)
            sum += (uint)(data[^1] << 8);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}

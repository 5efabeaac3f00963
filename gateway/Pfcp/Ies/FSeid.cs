using System.Net;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// F-SEID (clause 8.2.37): flags (bit 2 V4, bit 1 V6), the 64-bit SEID, then the IPv4 and/or
/// IPv6 address of the node that allocated it. At least one address is required.
/// </summary>
public sealed record FSeid(ulong Seid, IPAddress? Ipv4 = null, IPAddress? Ipv6 = null) : IIeValue
{
    private const byte V6 = 0x01, V4 = 0x02;

    public static FSeid Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        if ((flags & (V4 | V6)) == 0)
            throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, "neither V4 nor V6 is set");
        ulong seid = r.U64("SEID");
        var ipv4 = (flags & V4) != 0 ? r.Ipv4("IPv4 address") : null;
        var ipv6 = (flags & V6) != 0 ? r.Ipv6("IPv6 address") : null;
        return new FSeid(seid, ipv4, ipv6);
    }

    public void WriteValue(PfcpWriter writer)
    {
        if (Ipv4 is null && Ipv6 is null)
            throw new InvalidOperationException("an F-SEID needs an IPv4 or IPv6 address");
        writer.U8((byte)((Ipv4 is null ? 0 : V4) | (Ipv6 is null ? 0 : V6)));
        writer.U64(Seid);
        if (Ipv4 is not null) writer.Ipv4(Ipv4);
        if (Ipv6 is not null) writer.Ipv6(Ipv6);
    }
}

using System.Net;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// UE IP Address (clause 8.2.62). Octet 5 flags: bit 1 V6, bit 2 V4, bit 3 S/D (in a PDI:
/// 1 = destination address), bit 4 IPv6D (prefix delegation bits follow), bit 5 CHV4 and
/// bit 6 CHV6 (the UP function allocates), bit 7 IP6PL (IPv6 prefix length follows).
/// Then IPv4, IPv6, IPv6 prefix delegation bits, IPv6 prefix length, each when flagged.
/// </summary>
public sealed record UeIpAddress : IIeValue
{
    private const byte V6 = 0x01, V4 = 0x02, SD = 0x04, IPV6D = 0x08, CHV4 = 0x10, CHV6 = 0x20, IP6PL = 0x40;

    public IPAddress? Ipv4 { get; init; }
    public IPAddress? Ipv6 { get; init; }

    /// <summary>S/D: the address is the destination (downlink PDI) rather than the source.</summary>
    public bool IsDestination { get; init; }

    public byte? Ipv6PrefixDelegationBits { get; init; }
    public byte? Ipv6PrefixLength { get; init; }
    public bool ChooseIpv4 { get; init; }
    public bool ChooseIpv6 { get; init; }

    public static UeIpAddress Source(IPAddress address) => FromAddress(address, destination: false);
    public static UeIpAddress Destination(IPAddress address) => FromAddress(address, destination: true);

    private static UeIpAddress FromAddress(IPAddress address, bool destination) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? new UeIpAddress { Ipv4 = address, IsDestination = destination }
            : new UeIpAddress { Ipv6 = address, IsDestination = destination };

    public static UeIpAddress Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        return new UeIpAddress
        {
            IsDestination = (flags & SD) != 0,
            ChooseIpv4 = (flags & CHV4) != 0,
            ChooseIpv6 = (flags & CHV6) != 0,
            Ipv4 = (flags & V4) != 0 ? r.Ipv4("IPv4 address") : null,
            Ipv6 = (flags & V6) != 0 ? r.Ipv6("IPv6 address") : null,
            Ipv6PrefixDelegationBits = (flags & IPV6D) != 0 ? r.U8("IPv6 prefix delegation bits") : null,
            Ipv6PrefixLength = (flags & IP6PL) != 0 ? r.U8("IPv6 prefix length") : null,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)(
            (Ipv6 is null ? 0 : V6) | (Ipv4 is null ? 0 : V4) | (IsDestination ? SD : 0)
            | (Ipv6PrefixDelegationBits.HasValue ? IPV6D : 0) | (ChooseIpv4 ? CHV4 : 0)
            | (ChooseIpv6 ? CHV6 : 0) | (Ipv6PrefixLength.HasValue ? IP6PL : 0)));
        if (Ipv4 is not null) writer.Ipv4(Ipv4);
        if (Ipv6 is not null) writer.Ipv6(Ipv6);
        if (Ipv6PrefixDelegationBits is { } bits) writer.U8(bits);
        if (Ipv6PrefixLength is { } length) writer.U8(length);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace LoxiLb.Edge5G.Gtpu;

/// <summary>
/// The ICMPv6 Router Advertisement (RFC 4861 4.2) that answers a UE's Router Solicitation on
/// its PDU session: the session's /64 in one Prefix Information option, from which the UE forms
/// its global address with the interface identifier it got over NAS (TS 23.501 5.8.2.2.3).
/// The link is point to point, so the prefix is advertised for autonomous configuration (A)
/// but not as on-link (L clear, RFC 7066 / TS 29.061 11.2.1.3): everything goes via the
/// gateway.
/// </summary>
public static class RouterAdvertisement
{
    /// <summary>The gateway's address on every session's link: the RA's source, the UE's default router.</summary>
    public static readonly IPAddress RouterLinkLocal = IPAddress.Parse("fe80::1");

    /// <summary>All-nodes: a solicited RA may go there (RFC 4861 6.2.6), and on this link it reaches just the UE.</summary>
    public static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    /// <summary>Router Lifetime: the largest RFC 8319 allows, the gateway stays for the session's life.</summary>
    public const ushort RouterLifetimeSeconds = 65535;

    /// <summary>Hop limit the UE should use for its own packets (RA Cur Hop Limit).</summary>
    public const byte CurHopLimit = 64;

    private const int Ipv6Header = 40, RaHeader = 16, PrefixOption = 32;
    private const byte Icmpv6 = 58, TypeRouterAdvertisement = 134, OptionPrefixInformation = 3;
    private const byte PrefixAutonomous = 0x40;

    /// <summary>The IPv6 packet: fe80::1 to all-nodes, hop limit 255, advertising the /64 of <paramref name="ueAddress"/>.</summary>
    public static byte[] Build(IPAddress ueAddress)
    {
        if (ueAddress.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException($"{ueAddress} is not an IPv6 address", nameof(ueAddress));
        var packet = new byte[Ipv6Header + RaHeader + PrefixOption];
        var ip = packet.AsSpan();
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], RaHeader + PrefixOption);
        ip[6] = Icmpv6;
        ip[7] = 255; // RFC 4861 6.1.2: a receiver drops an RA with any other hop limit
        RouterLinkLocal.TryWriteBytes(ip[8..24], out _);
        AllNodes.TryWriteBytes(ip[24..40], out _);

        var ra = ip[Ipv6Header..];
        ra[0] = TypeRouterAdvertisement;
        ra[4] = CurHopLimit;
        // M and O clear: no DHCPv6, the prefix is all there is (DNS comes over NAS).
        BinaryPrimitives.WriteUInt16BigEndian(ra[6..], RouterLifetimeSeconds);
        // Reachable Time and Retrans Timer 0: unspecified.

        var prefix = ra[RaHeader..];
        prefix[0] = OptionPrefixInformation;
        prefix[1] = PrefixOption / 8;
        prefix[2] = 64;
        prefix[3] = PrefixAutonomous;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[4..], uint.MaxValue); // valid lifetime: infinity
        BinaryPrimitives.WriteUInt32BigEndian(prefix[8..], uint.MaxValue); // preferred lifetime: infinity
        Span<byte> ue = stackalloc byte[16];
        ueAddress.TryWriteBytes(ue, out _);
        ue[..8].CopyTo(prefix[16..]);

        // RFC 4443 2.3: over the pseudo-header (RFC 8200 8.1: addresses, upper-layer length, next header) and the message.
        Span<byte> pseudo = stackalloc byte[40 + RaHeader + PrefixOption];
        ip[8..40].CopyTo(pseudo);
        BinaryPrimitives.WriteUInt32BigEndian(pseudo[32..], RaHeader + PrefixOption);
        pseudo[39] = Icmpv6;
        ra.CopyTo(pseudo[40..]);
        BinaryPrimitives.WriteUInt16BigEndian(ra[2..], InetChecksum.Compute(pseudo));
        return packet;
    }
}

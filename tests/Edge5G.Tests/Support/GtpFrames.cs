using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Gtpu;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// Frames of the test topology (the bench's "on a stick" plan): N3/N9 address 198.51.100.1,
/// gNB 198.51.100.2, central UPF 198.51.100.3, N6 router 203.0.113.2, UE 192.0.2.10, local
/// data network 203.0.113.128/25, remote servers elsewhere in 203.0.113.0/24.
/// </summary>
public static class GtpFrames
{
    public static readonly PhysicalAddress GatewayMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    public static readonly PhysicalAddress GnbMac = PhysicalAddress.Parse("02-00-00-00-00-02");
    public static readonly PhysicalAddress RouterMac = PhysicalAddress.Parse("02-00-00-00-00-03");
    public static readonly PhysicalAddress CentralUpfMac = PhysicalAddress.Parse("02-00-00-00-00-04");

    public static readonly IPAddress N3 = IPAddress.Parse("198.51.100.1");
    public static readonly IPAddress Gnb = IPAddress.Parse("198.51.100.2");
    public static readonly IPAddress CentralUpf = IPAddress.Parse("198.51.100.3");
    public static readonly IPAddress N3v6 = IPAddress.Parse("2001:db8:3::1");
    public static readonly IPAddress Gnbv6 = IPAddress.Parse("2001:db8:3::2");
    public static readonly IPAddress Ue = IPAddress.Parse("192.0.2.10");
    public static readonly IPAddress Uev6 = IPAddress.Parse("2001:db8:10:1::10");
    public static readonly IPAddress LocalServer = IPAddress.Parse("203.0.113.200");
    public static readonly IPAddress RemoteServer = IPAddress.Parse("203.0.113.10");
    public static readonly IPAddress Serverv6 = IPAddress.Parse("2001:db8:200::200");

    /// <summary>An inner IPv4/UDP packet (no Ethernet) with checksums; DF set when asked.</summary>
    public static IPv4Packet InnerUdp4(IPAddress src, IPAddress dst, ushort sport, ushort dport, int payload = 64, byte ttl = 64,
        bool dontFragment = false)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = Payload(payload) };
        var ip = new IPv4Packet(src, dst) { TimeToLive = ttl, Id = 1, PayloadPacket = udp, FragmentFlags = (byte)(dontFragment ? 0x2 : 0) };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return ip;
    }

    public static IPv6Packet InnerUdp6(IPAddress src, IPAddress dst, ushort sport, ushort dport, int payload = 64, byte hopLimit = 64)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = Payload(payload) };
        var ip = new IPv6Packet(src, dst) { HopLimit = hopLimit, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        return ip;
    }

    public static byte[] Payload(int length) => Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

    /// <summary>Ethernet around an IP packet.</summary>
    public static byte[] Ethernet(PhysicalAddress src, PhysicalAddress dst, IPPacket ip) => Ethernet(src, dst, ip.Bytes);

    /// <summary>Ethernet around IP packet bytes (no padding: what XDP hands to the driver).</summary>
    public static byte[] Ethernet(PhysicalAddress src, PhysicalAddress dst, byte[] ip)
    {
        var frame = new byte[14 + ip.Length];
        dst.GetAddressBytes().CopyTo(frame, 0);
        src.GetAddressBytes().CopyTo(frame, 6);
        frame[12] = (byte)((ip[0] >> 4) == 4 ? 0x08 : 0x86);
        frame[13] = (byte)((ip[0] >> 4) == 4 ? 0x00 : 0xdd);
        ip.CopyTo(frame, 14);
        return frame;
    }

    /// <summary>Ethernet / outer IP / UDP 2152 / GTP-U message.</summary>
    public static byte[] Gtp(PhysicalAddress srcMac, PhysicalAddress dstMac, IPAddress outerSrc, IPAddress outerDst, GtpuMessage message,
        ushort sourcePort = 2152, bool udpChecksum = true, byte ttl = 64)
    {
        var udp = new UdpPacket(sourcePort, 2152) { PayloadData = message.Encode() };
        IPPacket ip = outerSrc.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? new IPv4Packet(outerSrc, outerDst) { TimeToLive = ttl, Id = 1, PayloadPacket = udp }
            : new IPv6Packet(outerSrc, outerDst) { HopLimit = ttl, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        if (udpChecksum || ip is IPv6Packet)
            udp.UpdateUdpChecksum();
        if (ip is IPv4Packet v4)
            v4.UpdateIPChecksum();
        return Ethernet(srcMac, dstMac, ip);
    }

    /// <summary>The frame with one more VLAN tag, outermost (right after the MAC addresses).</summary>
    public static byte[] Tagged(byte[] frame, ushort tpid, ushort vlan) =>
        [.. frame[..12], (byte)(tpid >> 8), (byte)tpid, (byte)(vlan >> 8), (byte)vlan, .. frame[12..]];

    /// <summary>The frame without its 802.1Q/802.1ad tags (one, or two for QinQ), if it has any.</summary>
    public static byte[] Untagged(byte[] frame)
    {
        while (frame.Length >= 18 && (frame[12] << 8 | frame[13]) is OuterFrame.Dot1Q or OuterFrame.Dot1Ad)
            frame = [.. frame[..12], .. frame[16..]];
        return frame;
    }

    /// <summary>An uplink G-PDU from the gNB to N3.</summary>
    public static byte[] Uplink(uint teid, IPPacket inner, byte? qfi = null) =>
        Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.GPdu(teid, inner.Bytes, qfi, Gtpu.PduSessionContainer.Uplink));

    /// <summary>The inner packet as the gateway forwards it: TTL/hop limit one less (RFC 1624 checksum update).</summary>
    public static byte[] Forwarded(IPPacket inner) => Forwarded(inner.Bytes);

    public static byte[] Forwarded(byte[] ipPacket)
    {
        var bytes = ipPacket.ToArray();
        if ((bytes[0] >> 4) == 6)
        {
            bytes[7]--;
            return bytes;
        }
        bytes[8]--;
        var sum = (uint)((bytes[10] << 8) | bytes[11]) + 0x0100;
        sum = (sum & 0xffff) + (sum >> 16);
        bytes[10] = (byte)(sum >> 8);
        bytes[11] = (byte)sum;
        return bytes;
    }

    /// <summary>What the gateway sends towards a gNB or UPF for an inner packet: outer IPv4 with DF, TTL 64, ID 0, UDP checksum 0.</summary>
    public static byte[] Encapsulated(PhysicalAddress srcMac, PhysicalAddress dstMac, IPAddress outerSrc, IPAddress outerDst, uint teid,
        byte[]? inner, byte? qfi, byte pduType = Gtpu.PduSessionContainer.Downlink, bool endMarker = false)
    {
        var message = endMarker
            ? new GtpuMessage(GtpuMessageType.EndMarker, teid, [])
            : GtpuMessage.GPdu(teid, inner!, qfi, pduType);
        return Tunnelled(srcMac, dstMac, outerSrc, outerDst, message);
    }

    /// <summary>A GTP-U message as the gateway's encapsulation writes it.</summary>
    public static byte[] Tunnelled(PhysicalAddress srcMac, PhysicalAddress dstMac, IPAddress outerSrc, IPAddress outerDst, GtpuMessage message,
        ushort ipId = 0, bool df = true, ushort destinationPort = 2152, byte tos = 0)
    {
        if (outerSrc.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return Gtp(srcMac, dstMac, outerSrc, outerDst, message);
        var udp = new UdpPacket(2152, destinationPort) { PayloadData = message.Encode() };
        var ip = new IPv4Packet(outerSrc, outerDst) { TimeToLive = 64, Id = ipId, FragmentFlags = (byte)(df ? 0x2 : 0), TypeOfService = tos, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.Checksum = 0;
        ip.UpdateIPChecksum();
        return Ethernet(srcMac, dstMac, ip);
    }
    /// <summary>ICMP Fragmentation Needed (RFC 1191) from <paramref name="from"/> to the sender of
    /// <paramref name="original"/>, quoting its first 548 octets (576 in all), as a router sends it.</summary>
    public static IPv4Packet FragmentationNeeded(IPAddress from, IPv4Packet original, ushort mtu)
    {
        var quote = original.Bytes.AsSpan(0, Math.Min(original.Bytes.Length, 576 - 28));
        var icmp = new byte[8 + quote.Length];
        icmp[0] = 3; // destination unreachable
        icmp[1] = 4; // fragmentation needed and DF set
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), mtu);
        quote.CopyTo(icmp.AsSpan(8));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), InetChecksum.Compute(icmp));
        var ip = new IPv4Packet(from, original.SourceAddress) { TimeToLive = 64, Id = 0, TypeOfService = 0xc0, Protocol = ProtocolType.Icmp, PayloadData = icmp };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ip;
    }

    /// <summary>ICMPv6 Packet Too Big (RFC 4443 3.2) from <paramref name="from"/> to the sender of
    /// <paramref name="original"/>, quoting as much as fits in 1280 octets.</summary>
    public static IPv6Packet PacketTooBig(IPAddress from, IPv6Packet original, uint mtu)
    {
        var quote = original.Bytes.AsSpan(0, Math.Min(original.Bytes.Length, 1280 - 48));
        var icmp = new byte[8 + quote.Length];
        icmp[0] = 2; // packet too big
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(4), mtu);
        quote.CopyTo(icmp.AsSpan(8));
        var pseudo = new byte[40 + icmp.Length];
        from.GetAddressBytes().CopyTo(pseudo, 0);
        original.SourceAddress.GetAddressBytes().CopyTo(pseudo, 16);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(32), (uint)icmp.Length);
        pseudo[39] = 58;
        icmp.CopyTo(pseudo, 40);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), InetChecksum.Compute(pseudo));
        return new IPv6Packet(from, original.SourceAddress)
        {
            HopLimit = 64, TrafficClass = 0xc0, NextHeader = ProtocolType.IcmpV6, PayloadData = icmp, PayloadLength = (ushort)icmp.Length,
        };
    }
}

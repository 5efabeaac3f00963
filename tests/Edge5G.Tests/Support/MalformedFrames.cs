using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Abi;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// Hand-built frames for the malformed-input matrix: every length field, flag and header of
/// the outer packet under the test's control (PacketDotNet fixes lengths up, so it cannot
/// build the broken ones). Defaults give a well-formed frame from the gNB to N3 over UDP 2152.
/// </summary>
public sealed record OuterFrame
{
    public const ushort Dot1Q = 0x8100;
    public const ushort Dot1Ad = 0x88a8;

    public IPAddress Source { get; init; } = GtpFrames.Gnb;
    public IPAddress Destination { get; init; } = GtpFrames.N3;
    public ushort SourcePort { get; init; } = 2152;
    public ushort DestinationPort { get; init; } = 2152;

    /// <summary>The UDP payload (a GTP-U message, well-formed or not).</summary>
    public byte[] Payload { get; init; } = [];

    /// <summary>UDP length field; null = 8 + payload.</summary>
    public int? UdpLength { get; init; }

    /// <summary>Added to the IPv4 total length / IPv6 payload length the header would otherwise carry.</summary>
    public int IpLengthDelta { get; init; }

    /// <summary>IPv4 options (a multiple of 4 bytes, IHL = 5 + length / 4).</summary>
    public byte[] Ipv4Options { get; init; } = [];

    /// <summary>IPv4 flags and fragment offset word (0x4000 = DF, 0x2000 = MF, low 13 bits = offset in 8-octet units).</summary>
    public ushort Ipv4Fragment { get; init; }

    /// <summary>An IPv6 Fragment header (offset in 8-octet units, M flag) between the IPv6 header and UDP.</summary>
    public (ushort Offset, bool More)? Ipv6Fragment { get; init; }

    /// <summary>An (empty, 8-octet) IPv6 Hop-by-Hop Options header right after the IPv6 header.</summary>
    public bool Ipv6HopByHop { get; init; }

    /// <summary>A VLAN tag with this TPID (0x8100 or 0x88a8), VLAN <see cref="VlanId"/>.</summary>
    public ushort? VlanTpid { get; init; }

    public ushort VlanId { get; init; } = 100;

    /// <summary>QinQ: an 802.1ad service tag with this VLAN in front of the <see cref="VlanTpid"/> tag.</summary>
    public ushort? ServiceVlanId { get; init; }

    private int TagBytes => (VlanTpid is null ? 0 : 4) + (ServiceVlanId is null ? 0 : 4);

    /// <summary>Ethernet padding (zeros) up to this frame length.</summary>
    public int PadTo { get; init; }

    public bool IsIpv6 => Source.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>Offset of the UDP header in the built frame.</summary>
    public int UdpOffset => 14 + TagBytes + (IsIpv6 ? 40 + (Ipv6HopByHop ? 8 : 0) + (Ipv6Fragment is null ? 0 : 8) : 20 + Ipv4Options.Length);

    public byte[] Build()
    {
        var udp = new byte[8 + Payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)(UdpLength ?? udp.Length));
        Payload.CopyTo(udp, 8);
        var src = Source.GetAddressBytes();
        var dst = Destination.GetAddressBytes();
        // Checksum over the bytes present, with the UDP length field as the pseudo-header length.
        var check = InternetChecksum.Udp(src, dst, udp, BinaryPrimitives.ReadUInt16BigEndian(udp.AsSpan(4)));
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), check);

        byte[] ip;
        if (IsIpv6)
        {
            var frag = Ipv6Fragment is null ? [] : new byte[8];
            if (Ipv6Fragment is { } fr)
            {
                frag[0] = 17;
                BinaryPrimitives.WriteUInt16BigEndian(frag.AsSpan(2), (ushort)((fr.Offset << 3) | (fr.More ? 1 : 0)));
                BinaryPrimitives.WriteUInt32BigEndian(frag.AsSpan(4), 0x1234);
            }
            var afterHeader = (byte)(frag.Length > 0 ? 44 : 17);
            // Hop-by-Hop: next header, length 0 (8 octets), PadN of 4 octets.
            byte[] hopByHop = Ipv6HopByHop ? [afterHeader, 0, 1, 4, 0, 0, 0, 0] : [];
            var extensions = hopByHop.Concat(frag).ToArray();
            ip = new byte[40 + extensions.Length + udp.Length];
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)(extensions.Length + udp.Length + IpLengthDelta));
            ip[6] = Ipv6HopByHop ? (byte)0 : afterHeader;
            ip[7] = 64;
            src.CopyTo(ip, 8);
            dst.CopyTo(ip, 24);
            extensions.CopyTo(ip, 40);
            udp.CopyTo(ip, 40 + extensions.Length);
        }
        else
        {
            if (Ipv4Options.Length % 4 != 0 || Ipv4Options.Length > 40)
                throw new ArgumentException("IPv4 options must be a multiple of 4 bytes, at most 40");
            var header = 20 + Ipv4Options.Length;
            ip = new byte[header + udp.Length];
            ip[0] = (byte)(0x40 | (header / 4));
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)(ip.Length + IpLengthDelta));
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), 1);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), Ipv4Fragment);
            ip[8] = 64;
            ip[9] = 17;
            src.CopyTo(ip, 12);
            dst.CopyTo(ip, 16);
            Ipv4Options.CopyTo(ip, 20);
            InternetChecksum.SetIpv4Header(ip);
            udp.CopyTo(ip, header);
        }

        if (ServiceVlanId is not null && VlanTpid is null)
            throw new ArgumentException("a QinQ service tag needs the customer tag (VlanTpid) behind it");
        var tag = TagBytes;
        var frame = new byte[Math.Max(14 + tag + ip.Length, PadTo)];
        GtpFrames.GatewayMac.GetAddressBytes().CopyTo(frame, 0);
        GtpFrames.GnbMac.GetAddressBytes().CopyTo(frame, 6);
        var etherType = (ushort)(IsIpv6 ? 0x86dd : 0x0800);
        var at = 12;
        if (ServiceVlanId is { } service)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at), Dot1Ad);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at + 2), service);
            at += 4;
        }
        if (VlanTpid is { } tpid)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at + 2), VlanId);
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12 + tag), etherType);
        ip.CopyTo(frame, 14 + tag);
        return frame;
    }
}

/// <summary>GTP-U messages written byte by byte (TS 29.281 5.1, 5.2), for headers the codec will not produce.</summary>
public static class RawGtpu
{
    public const byte Version1 = 0x20, PT = 0x10, E = 0x04, S = 0x02, PN = 0x01;
    public const byte GPdu = 255;
    public const byte PscType = 0x85;

    /// <summary>Mandatory header (length field as given, or the length of what follows) + the rest verbatim.</summary>
    public static byte[] Message(byte flags, byte type, uint teid, byte[] rest, int? lengthField = null)
    {
        var bytes = new byte[8 + rest.Length];
        bytes[0] = flags;
        bytes[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)(lengthField ?? rest.Length));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), teid);
        rest.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>The 4 optional octets: sequence number, N-PDU number, next extension header type.</summary>
    public static byte[] Optional(ushort sequence = 0, byte npdu = 0, byte nextExtension = 0) =>
        [(byte)(sequence >> 8), (byte)sequence, npdu, nextExtension];

    /// <summary>One 4-octet extension header: length 1, two content octets, next type.</summary>
    public static byte[] Extension(byte content0, byte content1, byte next) => [1, content0, content1, next];

    /// <summary>An uplink PDU Session Container (TS 38.415 UL PDU SESSION INFORMATION) with this QFI.</summary>
    public static byte[] UplinkContainer(byte qfi, byte next = 0) => Extension(0x10, (byte)(qfi & 0x3f), next);

    /// <summary>A chain of 4-octet extension headers of these types, each naming the next; the last says "no more".</summary>
    public static byte[] Chain(params byte[] types)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < types.Length; i++)
        {
            var next = i + 1 < types.Length ? types[i + 1] : (byte)0;
            bytes.AddRange(types[i] == PscType ? UplinkContainer(9, next) : Extension(0, 0, next));
        }
        return bytes.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}

/// <summary>Internet checksums for the hand-built frames.</summary>
public static class InternetChecksum
{
    public static void SetIpv4Header(byte[] ip)
    {
        var header = (ip[0] & 0x0f) * 4;
        ip[10] = ip[11] = 0;
        var sum = Fold(Sum(ip.AsSpan(0, header)));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), (ushort)~sum);
    }

    public static ushort Udp(byte[] src, byte[] dst, byte[] udp, int lengthField)
    {
        uint sum = Sum(src) + Sum(dst) + 17 + (uint)lengthField;
        var copy = udp.ToArray();
        copy[6] = copy[7] = 0;
        sum += Sum(copy);
        var folded = (ushort)~Fold(sum);
        return folded == 0 ? (ushort)0xffff : folded;
    }

    /// <summary>ICMPv6 checksum (RFC 4443 2.3) of the message in an IPv6 packet without extension headers, written into it.</summary>
    public static void SetIcmpv6(byte[] ip)
    {
        var length = ip.Length - 40;
        ip[42] = ip[43] = 0;
        uint sum = Sum(ip.AsSpan(8, 32)) + 58 + (uint)length + Sum(ip.AsSpan(40));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(42), (ushort)~Fold(sum));
    }

    private static uint Sum(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < bytes.Length; i += 2)
            sum += (uint)((bytes[i] << 8) | bytes[i + 1]);
        if (bytes.Length % 2 == 1)
            sum += (uint)(bytes[^1] << 8);
        return sum;
    }

    private static ushort Fold(uint sum)
    {
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }
}

/// <summary>
/// All datapath counters before a run, to assert that exactly one reason moved, by one packet
/// of the frame's length.
/// </summary>
public sealed class StatSnapshot
{
    private readonly GtpHarness _harness;
    private readonly Counter[] _before;

    public StatSnapshot(GtpHarness harness)
    {
        _harness = harness;
        _before = Read(harness);
    }

    private static Counter[] Read(GtpHarness h) =>
        Enumerable.Range(0, (int)DatapathStat.Count).Select(i => h.Datapath.Stat((DatapathStat)i)).ToArray();

    /// <summary>The reasons whose packet count moved since the snapshot.</summary>
    public IReadOnlyList<DatapathStat> MovedStats()
    {
        var after = Read(_harness);
        return Enumerable.Range(0, after.Length).Where(i => after[i].Packets != _before[i].Packets).Select(i => (DatapathStat)i).ToArray();
    }

    /// <summary>The counters that moved since the snapshot, for failure messages.</summary>
    public string Moved()
    {
        var after = Read(_harness);
        var moved = Enumerable.Range(0, after.Length)
            .Where(i => after[i].Packets != _before[i].Packets)
            .Select(i => $"{(DatapathStat)i} +{after[i].Packets - _before[i].Packets}");
        return $"counters moved: {string.Join(", ", moved)}";
    }

    /// <summary>Asserts that only <paramref name="stat"/> changed, by one packet of <paramref name="frameLength"/> bytes.</summary>
    public void AssertOnly(DatapathStat stat, int frameLength, string? because = null)
    {
        var after = Read(_harness);
        var moved = new List<string>();
        for (int i = 0; i < after.Length; i++)
        {
            var packets = after[i].Packets - _before[i].Packets;
            var bytes = after[i].Bytes - _before[i].Bytes;
            if ((DatapathStat)i == stat ? packets != 1 || bytes != (ulong)frameLength : packets != 0)
                moved.Add($"{(DatapathStat)i} +{packets} packets +{bytes} bytes");
        }
        if (moved.Count > 0)
            Assert.Fail($"{because}{(because is null ? "" : ": ")}expected {stat} +1 packet +{frameLength} bytes and nothing else; counters moved: {string.Join(", ", moved)}");
    }
}

using System.Buffers.Binary;

namespace LoxiLb.Edge5G.Gtpu;

/// <summary>
/// IPv4 fragmentation (RFC 791 3.2, RFC 815's reassembly in mind): an IPv4 packet without DF
/// split into packets of at most <c>mtu</c> octets, each with its own header. Every fragment
/// but the last carries a multiple of 8 data octets and MF; the last keeps the packet's own MF
/// (a fragment of a fragment). Offsets continue the packet's own. The first fragment keeps all
/// options, the others only those whose copied flag is set. The TTL is decremented, as a
/// router does for what it forwards, and each header checksum is recomputed.
/// </summary>
public static class Ipv4Fragmenter
{
    private const ushort DontFragment = 0x4000, MoreFragments = 0x2000, OffsetMask = 0x1fff;

    /// <summary>Why a packet cannot be fragmented (null: it can).</summary>
    public static string? Refusal(ReadOnlySpan<byte> packet, int mtu)
    {
        if (packet.Length < 20 || packet[0] >> 4 != 4)
            return "not an IPv4 packet";
        int ihl = (packet[0] & 0x0f) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (ihl < 20 || total < ihl || total > packet.Length)
            return $"IPv4 header length {ihl} or total length {total} does not fit {packet.Length} octets";
        if ((BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & DontFragment) != 0)
            return "DF is set";
        if (packet[8] <= 1)
            return "the TTL expires";
        if (mtu < ihl + 8)
            return $"an MTU of {mtu} leaves no room for 8 octets of data behind a {ihl}-octet header";
        return null;
    }

    /// <summary>The fragments of <paramref name="packet"/>, each at most <paramref name="mtu"/> octets (one when it fits whole).</summary>
    /// <exception cref="ArgumentException">The packet cannot be fragmented (<see cref="Refusal"/>).</exception>
    public static List<byte[]> Fragment(ReadOnlySpan<byte> packet, int mtu)
    {
        if (Refusal(packet, mtu) is { } why)
            throw new ArgumentException(why, nameof(packet));
        int ihl = (packet[0] & 0x0f) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var header = packet[..ihl];
        var data = packet[ihl..total];
        ushort flagsOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        int baseOffset = flagsOffset & OffsetMask; // in 8-octet units
        bool lastHadMore = (flagsOffset & MoreFragments) != 0;
        var laterHeader = CopiedOptionsHeader(header);

        var fragments = new List<byte[]>();
        int position = 0;
        while (position < data.Length || fragments.Count == 0)
        {
            var own = fragments.Count == 0 ? header : laterHeader;
            int room = (mtu - own.Length) & ~7;
            int take = Math.Min(room, data.Length - position);
            bool last = position + take >= data.Length;
            var fragment = new byte[own.Length + take];
            own.CopyTo(fragment);
            data.Slice(position, take).CopyTo(fragment.AsSpan(own.Length));
            fragment[0] = (byte)(0x40 | own.Length / 4);
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(2), (ushort)fragment.Length);
            ushort more = last ? (lastHadMore ? MoreFragments : (ushort)0) : MoreFragments;
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(6), (ushort)(more | (baseOffset + position / 8)));
            fragment[8]--; // TTL
            fragment[10] = fragment[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(10), InetChecksum.Compute(fragment.AsSpan(0, own.Length)));
            fragments.Add(fragment);
            position += take;
        }
        return fragments;
    }

    /// <summary>The header for fragments after the first: the fixed part and the options with the copied flag, padded to 4 octets.</summary>
    private static byte[] CopiedOptionsHeader(ReadOnlySpan<byte> header)
    {
        var kept = new List<byte>(header[..20].ToArray());
        for (int i = 20; i < header.Length;)
        {
            byte type = header[i];
            if (type == 0) // End of Option List
                break;
            if (type == 1) // No Operation
            {
                i++;
                continue;
            }
            int length = i + 1 < header.Length ? header[i + 1] : 0;
            if (length < 2 || i + length > header.Length)
                break; // a malformed option: what follows is not copied
            if ((type & 0x80) != 0)
                kept.AddRange(header.Slice(i, length).ToArray());
            i += length;
        }
        while (kept.Count % 4 != 0)
            kept.Add(0); // End of Option List, then padding
        return [.. kept];
    }
}

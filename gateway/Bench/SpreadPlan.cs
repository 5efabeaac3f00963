using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Bench;

/// <summary>Value of the wrapper's bench_spread map (struct bench_patch in bench.bpf.c): the bytes written over the frame.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct BenchPatch
{
    public const int MaxLength = 64;
    public fixed byte Bytes[MaxLength];
}

/// <summary>
/// How a spread run sends every frame to another session: one patch per session, in a
/// shuffled order so that consecutive frames reach sessions far apart in the maps. A patch is
/// the frame's bytes from <see cref="Offset"/> for <see cref="Length"/>, spanning every field
/// that changes (TEID or UE address, and the checksums over them), so the wrapper writes it
/// with one copy. The control side computes every byte (checksums by RFC 1624 from the
/// original frame's); the wrapper only copies.
/// </summary>
public sealed class SpreadPlan
{
    public int Offset { get; }
    public int Length { get; }
    public BenchPatch[] Patches { get; }

    // The fields that change (0 = unused) while the patches are computed.
    private readonly int[] _words, _halves;

    private SpreadPlan(int count, int[] words, int[] halves)
    {
        Patches = new BenchPatch[count];
        _words = words;
        _halves = halves;
        var used = words.Select(o => (o, 4)).Concat(halves.Select(o => (o, 2))).Where(f => f.o != 0).ToArray();
        Offset = used.Min(f => f.o);
        Length = used.Max(f => f.o + f.Item2) - Offset;
        if (halves[2] != 0 && halves[2] != Offset)
            throw new ArgumentException("the outer checksum must open the patch: it covers every byte after it");
        if (Length > BenchPatch.MaxLength)
            throw new ArgumentException($"the fields to patch span {Length} bytes, more than {BenchPatch.MaxLength}");
    }

    /// <summary>
    /// For an untagged IPv4 G-PDU carrying IPv4: session i gets TEID teids[i] and inner source
    /// ues[i] (its uplink PDR matches the UE address); the inner IPv4 and UDP checksums and the
    /// outer UDP checksum (when the frame has one) follow.
    /// </summary>
    public static SpreadPlan Uplink(byte[] frame, IReadOnlyList<uint> teids, IReadOnlyList<IPAddress> ues, int seed = 1)
    {
        if (teids.Count != ues.Count)
            throw new ArgumentException("one TEID per UE address");
        var outerUdp = Ipv4Payload(frame, EthernetIpv4(frame), out _);
        var gtp = outerUdp + 8;
        var inner = GtpPayload(frame, gtp);
        var innerL4 = Ipv4Payload(frame, inner, out var innerProto);
        // The TEID, the inner source; the inner IPv4 and UDP checksums, the outer UDP checksum.
        var plan = new SpreadPlan(teids.Count, [gtp + 4, inner + 12],
            [inner + 10, innerProto == 17 && Check(frame, innerL4 + 6) != 0 ? innerL4 + 6 : 0, Check(frame, outerUdp + 6) != 0 ? outerUdp + 6 : 0]);
        var order = Shuffled(teids.Count, seed);
        var scratch = new byte[frame.Length];
        var teid = new byte[4];
        var oldUe = frame.AsSpan(inner + 12, 4);
        for (int i = 0; i < order.Length; i++)
        {
            var s = order[i];
            BinaryPrimitives.WriteUInt32BigEndian(teid, teids[s]);
            var ue = Ipv4Bytes(ues[s]);
            // The inner UDP checksum covers the source address (pseudo-header); Set derives the
            // outer one, which covers everything that changes.
            plan.Set(i, frame, scratch, [teid, ue],
                Adjust(Check(frame, inner + 10), oldUe, ue),
                plan._halves[1] == 0 ? (ushort)0 : Udp(Adjust(Check(frame, innerL4 + 6), oldUe, ue)));
        }
        return plan;
    }

    /// <summary>For an untagged IPv4 frame from the data network: session i gets destination ues[i].</summary>
    public static SpreadPlan Downlink(byte[] frame, IReadOnlyList<IPAddress> ues, int seed = 1)
    {
        var l4 = Ipv4Payload(frame, EthernetIpv4(frame), out var proto);
        // The destination; the IPv4 and UDP checksums.
        var plan = new SpreadPlan(ues.Count, [14 + 16, 0], [14 + 10, proto == 17 && Check(frame, l4 + 6) != 0 ? l4 + 6 : 0, 0]);
        var order = Shuffled(ues.Count, seed);
        var scratch = new byte[frame.Length];
        var oldDst = frame.AsSpan(14 + 16, 4);
        for (int i = 0; i < order.Length; i++)
        {
            var ue = Ipv4Bytes(ues[order[i]]);
            plan.Set(i, frame, scratch, [ue, []],
                Adjust(Check(frame, 14 + 10), oldDst, ue),
                plan._halves[1] == 0 ? (ushort)0 : Udp(Adjust(Check(frame, l4 + 6), oldDst, ue)));
        }
        return plan;
    }

    /// <summary>
    /// Patch i: the frame (copied into <paramref name="scratch"/>) with the changed fields
    /// written, from Offset for Length bytes. The third checksum, an outer UDP checksum at the
    /// start of the patch, covers every byte after it that changed, so it is derived here.
    /// </summary>
    private unsafe void Set(int i, byte[] frame, byte[] scratch, byte[][] words, ushort check0, ushort check1)
    {
        frame.CopyTo(scratch, 0);
        for (int k = 0; k < _words.Length; k++)
            if (_words[k] != 0)
                words[k].CopyTo(scratch, _words[k]);
        if (_halves[0] != 0)
            BinaryPrimitives.WriteUInt16BigEndian(scratch.AsSpan(_halves[0]), check0);
        if (_halves[1] != 0)
            BinaryPrimitives.WriteUInt16BigEndian(scratch.AsSpan(_halves[1]), check1);
        if (_halves[2] is var outer and not 0)
        {
            var end = Offset + Length;
            var changed = Udp(Adjust(Check(frame, outer), frame.AsSpan(outer + 2, end - outer - 2), scratch.AsSpan(outer + 2, end - outer - 2)));
            BinaryPrimitives.WriteUInt16BigEndian(scratch.AsSpan(outer), changed);
        }
        fixed (byte* p = Patches[i].Bytes)
            scratch.AsSpan(Offset, Length).CopyTo(new Span<byte>(p, BenchPatch.MaxLength));
    }

    /// <summary>The frame the wrapper sends for entry <paramref name="index"/>: the same copy, done here.</summary>
    public unsafe byte[] Apply(byte[] frame, int index)
    {
        var copy = frame.ToArray();
        fixed (byte* p = Patches[index].Bytes)
            new ReadOnlySpan<byte>(p, Length).CopyTo(copy.AsSpan(Offset));
        return copy;
    }

    /// <summary>14: the offset of the IPv4 header of an untagged frame, the only shape the offsets above allow.</summary>
    private static int EthernetIpv4(byte[] frame) =>
        frame.Length >= 34 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x0800
            ? 14
            : throw new ArgumentException("spread runs take untagged IPv4 frames");

    private static int Ipv4Payload(byte[] frame, int ip, out byte protocol)
    {
        if (frame.Length < ip + 20 || frame[ip] >> 4 != 4)
            throw new ArgumentException($"no IPv4 header at offset {ip} of the frame");
        protocol = frame[ip + 9];
        return ip + (frame[ip] & 0x0f) * 4;
    }

    /// <summary>Offset of the T-PDU: after the GTP-U header, its optional fields and extension headers.</summary>
    private static int GtpPayload(byte[] frame, int gtp)
    {
        var flags = frame[gtp];
        if (flags >> 5 != 1 || frame[gtp + 1] != 0xff)
            throw new ArgumentException("the frame is not a GTP-U v1 G-PDU");
        var off = gtp + 8;
        if ((flags & 0x07) == 0)
            return off;
        var next = (flags & 0x04) != 0 ? frame[off + 3] : (byte)0;
        off += 4;
        while (next != 0)
        {
            var len = frame[off] * 4;
            if (len == 0)
                throw new ArgumentException("GTP-U extension header of length 0");
            next = frame[off + len - 1];
            off += len;
        }
        return off;
    }

    private static ushort Check(byte[] frame, int off) => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(off));

    /// <summary>RFC 1624 eqn. 3: the checksum after the 16-bit words of <paramref name="old"/> become those of <paramref name="now"/>.</summary>
    internal static ushort Adjust(ushort check, ReadOnlySpan<byte> old, ReadOnlySpan<byte> now)
    {
        uint sum = (ushort)~check;
        for (int i = 0; i + 1 < old.Length; i += 2)
        {
            sum += (ushort)~BinaryPrimitives.ReadUInt16BigEndian(old[i..]);
            sum += BinaryPrimitives.ReadUInt16BigEndian(now[i..]);
        }
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>A computed UDP checksum of zero is sent as all ones (RFC 768): zero means none.</summary>
    private static ushort Udp(ushort check) => check == 0 ? (ushort)0xffff : check;

    private static byte[] Ipv4Bytes(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? address.GetAddressBytes()
            : throw new ArgumentException($"{address} is not an IPv4 address");

    /// <summary>0..count-1 in a fixed pseudo-random order (Fisher-Yates with a seeded generator).</summary>
    private static int[] Shuffled(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }
}

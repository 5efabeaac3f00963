using System.Buffers.Binary;
using System.Net;
using LoxiLb.Edge5G.Bench;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using PacketDotNet.Utils;

namespace LoxiLb.Edge5G.Tests.Bench;

/// <summary>
/// The patches of a spread run, on the shared benchmark frames (all three checksums nonzero):
/// every patched frame is a session's own (TEID, UE address) with every checksum valid as
/// PacketDotNet computes it, each session once per round, in a shuffled order.
/// </summary>
public class SpreadPlanTests
{
    private const int Sessions = 300;
    // Offsets in the benchmark uplink frame: outer IPv4 at 14, UDP at 34, GTP-U at 42 with one
    // PDU Session Container (16 bytes), inner IPv4 at 58.
    private const int Teid = 46, Inner = 58;

    private static BenchFrames Frames => BenchFrames.Load(Path.Combine(RepoPaths.Shared, "bench"), TextWriter.Null);

    private static uint TeidOf(int i) => 0x10000000u + (uint)i * 7;
    private static IPAddress UeOf(int i) => new(new byte[] { 10, 1, (byte)(i >> 8), (byte)i });

    [Fact]
    public void Uplink_EveryPatchedFrameIsASessionsOwn_WithValidChecksums()
    {
        var frame = Frames.Uplink;
        var plan = SpreadPlan.Uplink(frame, Enumerable.Range(0, Sessions).Select(TeidOf).ToArray(), Enumerable.Range(0, Sessions).Select(UeOf).ToArray());

        // One copy spans the outer UDP checksum (40) to the inner UDP checksum (84).
        Assert.Equal(40, plan.Offset);
        Assert.Equal(46, plan.Length);
        var seen = new List<int>();
        for (int i = 0; i < Sessions; i++)
        {
            var patched = plan.Apply(frame, i);
            var session = (int)((BinaryPrimitives.ReadUInt32BigEndian(patched.AsSpan(Teid)) - 0x10000000u) / 7);
            seen.Add(session);
            Assert.Equal(TeidOf(session), BinaryPrimitives.ReadUInt32BigEndian(patched.AsSpan(Teid)));

            var outer = Packet.ParsePacket(LinkLayers.Ethernet, patched).Extract<IPv4Packet>();
            Assert.True(outer.ValidChecksum);
            Assert.True(outer.Extract<UdpPacket>().ValidUdpChecksum, $"outer UDP checksum of patch {i}");
            var inner = new IPv4Packet(new ByteArraySegment(patched, Inner, patched.Length - Inner));
            Assert.Equal(UeOf(session), inner.SourceAddress);
            Assert.Equal(IPAddress.Parse("203.0.113.200"), inner.DestinationAddress);
            Assert.True(inner.ValidChecksum, $"inner IPv4 checksum of patch {i}");
            Assert.True(inner.Extract<UdpPacket>().ValidUdpChecksum, $"inner UDP checksum of patch {i}");
            // Nothing outside the patched span changes.
            Assert.Equal(frame[..40], patched[..40]);
            Assert.Equal(frame[86..], patched[86..]);
        }
        AssertShuffledPermutation(seen);
    }

    [Fact]
    public void Downlink_EveryPatchedFrameGoesToASessionsUe_WithValidChecksums()
    {
        var frame = Frames.Downlink;
        var plan = SpreadPlan.Downlink(frame, Enumerable.Range(0, Sessions).Select(UeOf).ToArray());

        // The IPv4 checksum (24) to the UDP checksum (40).
        Assert.Equal(24, plan.Offset);
        Assert.Equal(18, plan.Length);
        var seen = new List<int>();
        for (int i = 0; i < Sessions; i++)
        {
            var patched = plan.Apply(frame, i);
            var ip = Packet.ParsePacket(LinkLayers.Ethernet, patched).Extract<IPv4Packet>();
            var ue = ip.DestinationAddress.GetAddressBytes();
            var session = ue[2] << 8 | ue[3];
            seen.Add(session);
            Assert.Equal(UeOf(session), ip.DestinationAddress);
            Assert.Equal(IPAddress.Parse("203.0.113.200"), ip.SourceAddress);
            Assert.True(ip.ValidChecksum, $"IPv4 checksum of patch {i}");
            Assert.True(ip.Extract<UdpPacket>().ValidUdpChecksum, $"UDP checksum of patch {i}");
        }
        AssertShuffledPermutation(seen);
    }

    [Fact]
    public void PatchesSpanningMoreThanTheWrapperCopies_AreRefused()
    {
        // 40 bytes of inner IPv4 options put the inner UDP checksum 86 bytes after the outer one.
        var frame = Frames.Uplink;
        var withOptions = new byte[frame.Length + 40];
        frame.AsSpan(0, Inner + 20).CopyTo(withOptions);
        withOptions[Inner] = 0x4f;
        frame.AsSpan(Inner + 20).CopyTo(withOptions.AsSpan(Inner + 60));

        var e = Assert.Throws<ArgumentException>(() => SpreadPlan.Uplink(withOptions, [1u], [UeOf(1)]));
        Assert.Contains("span 86 bytes, more than 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TaggedOrNonIpv4Frames_AreRefused()
    {
        var tagged = Frames.Downlink.ToArray();
        tagged[12] = 0x81;
        tagged[13] = 0x00;
        var e = Assert.Throws<ArgumentException>(() => SpreadPlan.Downlink(tagged, [UeOf(1)]));
        Assert.Contains("untagged IPv4", e.Message, StringComparison.Ordinal);
    }

    /// <summary>RFC 1624's update agrees with a checksum computed afresh, over random headers and changes.</summary>
    [Fact]
    public void IncrementalChecksum_MatchesAFullRecomputation()
    {
        var random = new Random(7);
        for (int n = 0; n < 2000; n++)
        {
            var data = new byte[20];
            random.NextBytes(data);
            data[10] = data[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(10), Gtpu.InetChecksum.Compute(data));
            var old = data[12..20];
            var now = new byte[8];
            random.NextBytes(now);
            var updated = SpreadPlan.Adjust(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(10)), old, now);

            now.CopyTo(data, 12);
            data[10] = data[11] = 0;
            var fresh = Gtpu.InetChecksum.Compute(data);
            // 0x0000 and 0xffff are the same number in ones' complement; both verify.
            Assert.True(updated == fresh || updated is 0 or 0xffff && fresh is 0 or 0xffff, $"case {n}: {updated:x4} against {fresh:x4}");
        }
    }

    private static void AssertShuffledPermutation(List<int> seen)
    {
        Assert.Equal(Enumerable.Range(0, Sessions), seen.Order());
        // Shuffled: consecutive frames rarely go to neighbouring sessions.
        var neighbours = seen.Zip(seen.Skip(1)).Count(p => Math.Abs(p.First - p.Second) == 1);
        Assert.True(neighbours < Sessions / 20, $"{neighbours} of {Sessions} consecutive frames went to neighbouring sessions");
    }
}

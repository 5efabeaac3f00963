using System.Buffers.Binary;
using System.Net;
using LoxiLb.Edge5G.Gtpu;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;

namespace LoxiLb.Edge5G.Tests.Fragmentation;

/// <summary>IPv4 fragmentation (RFC 791) of downlink packets without DF too big for the tunnel.</summary>
public class Ipv4FragmenterTests
{
    private static readonly IPAddress Server = IPAddress.Parse("203.0.113.200");
    private static readonly IPAddress Ue = IPAddress.Parse("192.0.2.10");

    private static ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at));

    [Fact]
    public void A1500OctetPacket_At1456_IsTwoFragments_1452And68_WithMfOffsetsTtlAndChecksums()
    {
        var packet = InnerUdp4(Server, Ue, 5001, 40000, payload: 1500 - 28).Bytes; // id 1, TTL 64

        var fragments = Ipv4Fragmenter.Fragment(packet, 1456);

        Assert.Equal([1452, 68], fragments.Select(f => f.Length));
        // First: 1432 data octets (179 units of 8), MF, offset 0; last: the other 48, offset 179, no MF.
        Assert.Equal([0x2000 | 0, 179], fragments.Select(f => (int)U16(f, 6)));
        Assert.All(fragments, f =>
        {
            Assert.Equal(0x45, f[0]);
            Assert.Equal(f.Length, U16(f, 2));
            Assert.Equal(1, U16(f, 4)); // the identification is kept
            Assert.Equal(63, f[8]);     // TTL decremented
            Assert.Equal(17, f[9]);
            Assert.Equal(0, InetChecksum.Compute(f.AsSpan(0, 20))); // a valid header checksum sums to zero
            Assert.Equal(packet.AsSpan(12, 8).ToArray(), f.AsSpan(12, 8).ToArray());
        });
        Assert.Equal(packet.AsSpan(20).ToArray(), fragments.SelectMany(f => f.Skip(20)).ToArray());
        // PacketDotNet reads each as IPv4 with the same fields.
        var first = new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(fragments[0]));
        Assert.Equal((Server, Ue, 1452), (first.SourceAddress, first.DestinationAddress, (int)first.TotalLength));
    }

    [Fact]
    public void AFragmentOfAFragment_ContinuesItsOffset_AndTheLastKeepsItsMf()
    {
        var packet = InnerUdp4(Server, Ue, 5001, 40000, payload: 100).Bytes;
        // Make it a middle fragment: MF set, offset 10 (80 octets into the original).
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), 0x2000 | 10);

        var fragments = Ipv4Fragmenter.Fragment(packet, 20 + 64);

        Assert.Equal([0x2000 | 10, 0x2000 | 18], fragments.Select(f => (int)U16(f, 6)));
        Assert.Equal([84, 20 + 108 - 64], fragments.Select(f => f.Length));
    }

    [Fact]
    public void OnlyOptionsWithTheCopiedFlag_GoIntoLaterFragments()
    {
        var packet = InnerUdp4(Server, Ue, 5001, 40000, payload: 200).Bytes;
        // Insert 8 octets of options: Record Route (7, not copied, length 3 + pad) and Router Alert (148, copied, length 4).
        byte[] options = [7, 3, 4, 148, 4, 0, 0, 1];
        var withOptions = packet[..20].Concat(options).Concat(packet[20..]).ToArray();
        withOptions[0] = 0x47;
        BinaryPrimitives.WriteUInt16BigEndian(withOptions.AsSpan(2), (ushort)withOptions.Length);

        var fragments = Ipv4Fragmenter.Fragment(withOptions, 28 + 96);

        Assert.Equal(0x47, fragments[0][0]);
        Assert.Equal(options, fragments[0].AsSpan(20, 8).ToArray());
        Assert.All(fragments.Skip(1), f =>
        {
            Assert.Equal(0x46, f[0]); // 20 + 4: Router Alert only
            Assert.Equal([148, 4, 0, 0], f.AsSpan(20, 4).ToArray());
            Assert.Equal(0, InetChecksum.Compute(f.AsSpan(0, 24)));
        });
        Assert.Equal(withOptions.AsSpan(28).ToArray(), fragments[0].Skip(28).Concat(fragments.Skip(1).SelectMany(f => f.Skip(24))).ToArray());
    }

    [Fact]
    public void APacketThatFits_IsOneFragment_WithOnlyItsTtlAndChecksumChanged()
    {
        var packet = InnerUdp4(Server, Ue, 5001, 40000, payload: 64).Bytes;

        var only = Assert.Single(Ipv4Fragmenter.Fragment(packet, 1456));

        Assert.Equal(packet.Length, only.Length);
        Assert.Equal(0, U16(only, 6));
        Assert.Equal(63, only[8]);
        Assert.Equal(packet.AsSpan(12).ToArray(), only.AsSpan(12).ToArray());
    }

    [Theory]
    [InlineData("DF", "DF is set")]
    [InlineData("TTL 1", "the TTL expires")]
    [InlineData("IPv6", "not an IPv4 packet")]
    [InlineData("short", "does not fit")]
    [InlineData("MTU 27", "no room for 8 octets")]
    public void WhatCannotBeFragmented_IsRefusedWithTheReason(string what, string reason)
    {
        var packet = what switch
        {
            "DF" => InnerUdp4(Server, Ue, 1, 2, payload: 1500, dontFragment: true).Bytes,
            "TTL 1" => InnerUdp4(Server, Ue, 1, 2, payload: 1500, ttl: 1).Bytes,
            "IPv6" => InnerUdp6(IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2"), 1, 2).Bytes,
            "short" => InnerUdp4(Server, Ue, 1, 2, payload: 100).Bytes[..60],
            _ => InnerUdp4(Server, Ue, 1, 2, payload: 100).Bytes,
        };

        Assert.Contains(reason, Ipv4Fragmenter.Refusal(packet, what == "MTU 27" ? 27 : 1456));
        Assert.Throws<ArgumentException>(() => Ipv4Fragmenter.Fragment(packet, what == "MTU 27" ? 27 : 1456));
    }
}

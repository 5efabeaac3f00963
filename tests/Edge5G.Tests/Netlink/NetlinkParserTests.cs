using System.Buffers.Binary;
using System.Net;
using LoxiLb.Edge5G.Netlink;
using LoxiLb.Edge5G.Netlink.Protocol;
using LoxiLb.Edge5G.Netlink.Sockets;

namespace LoxiLb.Edge5G.Tests.Netlink;

/// <summary>Message building and parsing on hand-made bytes, including lying length fields.</summary>
public class NetlinkParserTests
{
    private const int AfInet = 2;

    [Fact]
    public void RouteMessage_RoundTripsThroughWriterAndParser()
    {
        var bytes = RouteMessage(metricsMtu: 1280);
        var route = ParseSingle(bytes, RouteInfo.Parse);
        Assert.Equal(AfInet, route.Family);
        Assert.Equal(Rtnl.RTN_UNICAST, route.Type);
        Assert.Equal(IPAddress.Parse("203.0.113.0"), route.Destination);
        Assert.Equal(24, route.DestinationLength);
        Assert.Equal(7, route.OutputIfindex);
        Assert.Equal(IPAddress.Parse("198.51.100.2"), route.Gateway);
        Assert.Equal(IPAddress.Parse("198.51.100.1"), route.PreferredSource);
        Assert.Equal(1280u, route.Mtu);
        Assert.Equal(254u, route.Table);
    }

    [Fact]
    public void SeveralMessagesInOneDatagram_AreAllRead_EvenWhenTheLastIsUnpadded()
    {
        var link = new byte[64];
        var w = new NetlinkWriter(link, Rtnl.RTM_NEWLINK, 0, "test");
        w.Header(new IfInfoMsg { Index = 3, Type = Rtnl.ARPHRD_ETHER });
        w.Attribute(Rtnl.IFLA_IFNAME, "ab\0"u8); // 7-byte attribute: the message ends unaligned
        var second = w.Finish().ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(second, (uint)(second.Length - 1));
        var datagram = RouteMessage(0).Concat(second[..^1]).ToArray();

        var types = new List<ushort>();
        string? name = null;
        foreach (var m in new NetlinkMessageReader(datagram, "test"))
        {
            types.Add(m.Type);
            if (m.Type == Rtnl.RTM_NEWLINK)
                name = LinkInfo.Parse(m).Name;
        }
        Assert.Equal([Rtnl.RTM_NEWROUTE, Rtnl.RTM_NEWLINK], types);
        Assert.Equal("ab", name);
    }

    [Fact]
    public void TruncatedHeader_Throws_NamingTheOffsetAndSizes()
    {
        var datagram = RouteMessage(0).Concat(new byte[10]).ToArray();
        var e = Assert.Throws<NetlinkFormatException>(() => Count(datagram));
        var first = RouteMessage(0).Length;
        Assert.Equal($"parse test: truncated netlink header at byte {first}: 10 bytes left, a header needs 16", e.Message);
        Assert.Equal(0, e.Errno);
    }

    [Fact]
    public void MessageLengthPastTheEnd_Throws()
    {
        var bytes = RouteMessage(0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length + 8);
        var e = Assert.Throws<NetlinkFormatException>(() => Count(bytes));
        Assert.Contains($"netlink message at byte 0 declares length {bytes.Length + 8} but only {bytes.Length} bytes remain", e.Message);
    }

    [Fact]
    public void MessageLengthShorterThanItsHeader_Throws()
    {
        var bytes = RouteMessage(0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 12);
        var e = Assert.Throws<NetlinkFormatException>(() => Count(bytes));
        Assert.Contains("declares length 12, shorter than its own 16-byte header", e.Message);
    }

    [Fact]
    public void AttributeLengthPastTheEnd_Throws_NamingTheAttribute()
    {
        var bytes = RouteMessage(0);
        // First attribute (RTA_DST) starts after nlmsghdr (16) and rtmsg (12).
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(28), 200);
        var e = Assert.Throws<NetlinkFormatException>(() => ParseSingle(bytes, RouteInfo.Parse));
        Assert.Contains($"attribute type {Rtnl.RTA_DST} at byte 0 of the attributes of message type {Rtnl.RTM_NEWROUTE} at byte 0 declares length 200 but only {bytes.Length - 28} bytes remain", e.Message);
    }

    [Fact]
    public void AttributeShorterThanItsHeader_AndTooShortForItsValue_Throw()
    {
        var bytes = RouteMessage(0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(28), 2);
        var e = Assert.Throws<NetlinkFormatException>(() => ParseSingle(bytes, RouteInfo.Parse));
        Assert.Contains("declares length 2, shorter than its header", e.Message);

        var buffer = new byte[64];
        var w = new NetlinkWriter(buffer, Rtnl.RTM_NEWROUTE, 0, "test");
        w.Header(new RtMsg { Family = AfInet });
        w.Attribute(Rtnl.RTA_OIF, [1, 2]);
        var shortOif = w.Finish().ToArray();
        e = Assert.Throws<NetlinkFormatException>(() => ParseSingle(shortOif, RouteInfo.Parse));
        Assert.Contains($"attribute type {Rtnl.RTA_OIF} of message type {Rtnl.RTM_NEWROUTE} at byte 0 has 2 bytes, a u32 needs 4", e.Message);
    }

    [Fact]
    public void PayloadTooShortForTheFamilyHeader_Throws()
    {
        var bytes = new byte[16 + 8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), Rtnl.RTM_NEWNEIGH);
        var e = Assert.Throws<NetlinkFormatException>(() => ParseSingle(bytes, NeighbourInfo.Parse));
        Assert.Contains("has a 8-byte payload, too short for its 12-byte NdMsg", e.Message);
    }

    [Fact]
    public void ErrorMessage_CarriesTheErrnoAndTheExtendedAckText()
    {
        // NLMSG_ERROR, capped: error code, the request's header, then NLMSGERR_ATTR_MSG.
        var text = "Invalid prefix\0"u8.ToArray();
        var payload = new byte[4 + 16 + Rtnl.Align(4 + text.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(payload, -22);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(20), (ushort)(4 + text.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(22), Rtnl.NLMSGERR_ATTR_MSG);
        text.CopyTo(payload, 24);
        var message = Message(Rtnl.NLMSG_ERROR, Rtnl.NLM_F_CAPPED | Rtnl.NLM_F_ACK_TLVS, payload);

        foreach (var m in new NetlinkMessageReader(message, "test"))
            Assert.Equal((22, "Invalid prefix"), NetlinkSocket.ParseError(m));
    }

    [Fact]
    public void KernelErrors_BecomeExceptionsWithErrnoAndOperation()
    {
        // Unprivileged and harmless: ask for an interface index that cannot exist.
        using var socket = NetlinkSocket.Open(TimeSpan.FromSeconds(2));
        var buffer = new byte[RtnetlinkRequests.MaxLength];
        var e = Assert.Throws<NetlinkException>(() =>
            socket.Request(RtnetlinkRequests.GetLink(buffer, 0x7ffffff0, "RTM_GETLINK ifindex 2147483632"), "RTM_GETLINK ifindex 2147483632", null));
        Assert.Equal(19, e.Errno);
        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.StartsWith("RTM_GETLINK ifindex 2147483632: the kernel refused the request (ENODEV", e.Message);
    }

    [Fact]
    public void RequestTooLargeForItsBuffer_Throws()
    {
        var e = Assert.Throws<NetlinkFormatException>(() =>
        {
            var w = new NetlinkWriter(new byte[32], Rtnl.RTM_GETROUTE, 0, "tiny");
            w.Header(new RtMsg());
            w.Attribute(Rtnl.RTA_DST, IPAddress.IPv6Loopback);
        });
        Assert.Equal("tiny: request needs more than the 32 bytes of its buffer", e.Message);
    }

    [Fact]
    public void VlanLink_GivesItsParent_IdAndProtocol_OtherKindsNoVlan()
    {
        // RTM_NEWLINK of `ip link add link <#4> name n3.300 type vlan proto 802.1ad id 300`, as the
        // kernel writes it (this machine's kernel has no VLAN support to ask: CONFIG_VLAN_8021Q unset).
        static byte[] Attr(ushort type, params byte[][] parts)
        {
            var value = parts.SelectMany(p => p).ToArray();
            var bytes = new byte[(4 + value.Length + 3) & ~3];
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)(4 + value.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), type);
            value.CopyTo(bytes, 4);
            return bytes;
        }
        byte[] Link(string kind, byte[]? data)
        {
            var buffer = new byte[256];
            var w = new NetlinkWriter(buffer, Rtnl.RTM_NEWLINK, 0, "test");
            w.Header(new IfInfoMsg { Index = 9, Type = Rtnl.ARPHRD_ETHER });
            w.Attribute(Rtnl.IFLA_IFNAME, "n3.300\0"u8);
            w.AttributeU32(Rtnl.IFLA_LINK, 4);
            var info = Attr(Rtnl.IFLA_INFO_KIND, System.Text.Encoding.ASCII.GetBytes(kind + "\0"));
            if (data is not null)
                info = [.. info, .. Attr(Rtnl.IFLA_INFO_DATA, data)];
            w.Attribute(Rtnl.IFLA_LINKINFO, info);
            return w.Finish().ToArray();
        }
        var vlanData = Attr(Rtnl.IFLA_VLAN_ID, BitConverter.GetBytes((ushort)300)).Concat(Attr(Rtnl.IFLA_VLAN_PROTOCOL, [0x88, 0xa8])).ToArray();

        var vlan = ParseSingle(Link("vlan", vlanData), LinkInfo.Parse);
        var veth = ParseSingle(Link("veth", null), LinkInfo.Parse);

        Assert.Equal(("n3.300", 4, "vlan"), (vlan.Name, vlan.Link, vlan.Kind));
        Assert.Equal(((ushort)300, (ushort)0x88a8), vlan.Vlan);
        Assert.Equal("veth", veth.Kind);
        Assert.Null(veth.Vlan);
    }

    private static byte[] RouteMessage(uint metricsMtu)
    {
        var buffer = new byte[256];
        var w = new NetlinkWriter(buffer, Rtnl.RTM_NEWROUTE, 0, "test");
        w.Header(new RtMsg { Family = AfInet, DestinationLength = 24, Table = 254, Type = Rtnl.RTN_UNICAST });
        w.Attribute(Rtnl.RTA_DST, IPAddress.Parse("203.0.113.0"));
        w.AttributeU32(Rtnl.RTA_OIF, 7);
        w.Attribute(Rtnl.RTA_GATEWAY, IPAddress.Parse("198.51.100.2"));
        w.Attribute(Rtnl.RTA_PREFSRC, IPAddress.Parse("198.51.100.1"));
        if (metricsMtu != 0)
        {
            var nested = new byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(nested, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(nested.AsSpan(2), Rtnl.RTAX_MTU);
            BinaryPrimitives.WriteUInt32LittleEndian(nested.AsSpan(4), metricsMtu);
            w.Attribute(Rtnl.RTA_METRICS, nested);
        }
        return w.Finish().ToArray();
    }

    private static byte[] Message(ushort type, ushort flags, byte[] payload)
    {
        var bytes = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), flags);
        payload.CopyTo(bytes, 16);
        return bytes;
    }

    private delegate T Parser<T>(in NetlinkMessage message);

    private static T ParseSingle<T>(byte[] bytes, Parser<T> parse)
    {
        var reader = new NetlinkMessageReader(bytes, "test");
        Assert.True(reader.MoveNext());
        return parse(reader.Current);
    }

    private static int Count(byte[] bytes)
    {
        var n = 0;
        foreach (var _ in new NetlinkMessageReader(bytes, "parse test"))
            n++;
        return n;
    }
}

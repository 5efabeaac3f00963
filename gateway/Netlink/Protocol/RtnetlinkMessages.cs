using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Netlink.Interop;

namespace LoxiLb.Edge5G.Netlink.Protocol;

/// <summary>The fields of an RTM_NEWROUTE message this project uses.</summary>
internal sealed record RouteInfo(
    int Family,
    byte Type,
    uint Flags,
    uint Table,
    IPAddress? Destination,
    int DestinationLength,
    int OutputIfindex,
    IPAddress? Gateway,
    IPAddress? PreferredSource,
    uint Mtu)
{
    public static RouteInfo Parse(in NetlinkMessage message)
    {
        var rtm = message.Header<RtMsg>();
        IPAddress? destination = null, gateway = null, preferredSource = null;
        int oif = 0;
        uint mtu = 0, table = rtm.Table;
        foreach (var a in message.Attributes<RtMsg>())
        {
            switch (a.Type)
            {
                case Rtnl.RTA_DST: destination = a.Address(rtm.Family); break;
                case Rtnl.RTA_OIF: oif = (int)a.U32(); break;
                case Rtnl.RTA_GATEWAY: gateway = a.Address(rtm.Family); break;
                case Rtnl.RTA_PREFSRC: preferredSource = a.Address(rtm.Family); break;
                case Rtnl.RTA_TABLE: table = a.U32(); break;
                case Rtnl.RTA_VIA: gateway = Via(a, message.Operation); break;
                case Rtnl.RTA_METRICS:
                    foreach (var metric in a.Nested())
                        if (metric.Type == Rtnl.RTAX_MTU)
                            mtu = metric.U32();
                    break;
            }
        }
        return new RouteInfo(rtm.Family, rtm.Type, rtm.Flags, table, destination, rtm.DestinationLength, oif, gateway, preferredSource, mtu);
    }

    // struct rtvia: a u16 address family, then the address (an IPv6 next hop of an IPv4 route).
    private static IPAddress Via(in NetlinkAttribute a, string operation)
    {
        if (a.Value.Length < 2)
            throw new NetlinkFormatException(operation, $"RTA_VIA has {a.Value.Length} bytes, its family needs 2");
        var family = BinaryPrimitives.ReadUInt16LittleEndian(a.Value);
        var size = family == NetlinkNative.AF_INET6 ? 16 : family == NetlinkNative.AF_INET ? 4 : -1;
        if (size < 0 || a.Value.Length < 2 + size)
            throw new NetlinkFormatException(operation, $"RTA_VIA of family {family} has {a.Value.Length - 2} address bytes");
        return new IPAddress(a.Value.Slice(2, size));
    }
}

/// <summary>The fields of an RTM_NEWLINK message this project uses.</summary>
internal sealed record LinkInfo(int Index, ushort HardwareType, uint Flags, string Name, byte[] Address, int Mtu, byte OperState)
{
    /// <summary>IFLA_LINK: for a VLAN device its parent (for a veth, its peer, possibly in another namespace).</summary>
    public int Link { get; init; }
    /// <summary>IFLA_INFO_KIND ("vlan", "veth", ...), null for devices without link info.</summary>
    public string? Kind { get; init; }
    /// <summary>VLAN id and protocol (0x8100 or 0x88a8) of a "vlan" device.</summary>
    public (ushort Id, ushort Protocol)? Vlan { get; init; }

    public static LinkInfo Parse(in NetlinkMessage message)
    {
        var ifi = message.Header<IfInfoMsg>();
        string name = "";
        byte[] address = [];
        int mtu = 0, link = 0;
        byte operState = 0;
        string? kind = null;
        ushort? vlanId = null;
        ushort vlanProtocol = 0x8100;
        foreach (var a in message.Attributes<IfInfoMsg>())
        {
            switch (a.Type)
            {
                case Rtnl.IFLA_IFNAME: name = a.String(); break;
                case Rtnl.IFLA_ADDRESS: address = a.Value.ToArray(); break;
                case Rtnl.IFLA_MTU: mtu = (int)a.U32(); break;
                case Rtnl.IFLA_OPERSTATE: operState = a.U8(); break;
                case Rtnl.IFLA_LINK: link = (int)a.U32(); break;
                case Rtnl.IFLA_LINKINFO:
                    foreach (var info in a.Nested())
                    {
                        if (info.Type == Rtnl.IFLA_INFO_KIND)
                            kind = info.String();
                        else if (info.Type == Rtnl.IFLA_INFO_DATA && kind == "vlan")
                            foreach (var v in info.Nested())
                            {
                                if (v.Type == Rtnl.IFLA_VLAN_ID)
                                    vlanId = (ushort)(v.U16() & 0x0fff);
                                else if (v.Type == Rtnl.IFLA_VLAN_PROTOCOL && v.Value.Length >= 2)
                                    vlanProtocol = (ushort)(v.Value[0] << 8 | v.Value[1]); // network order on the wire
                            }
                    }
                    break;
            }
        }
        return new LinkInfo(ifi.Index, ifi.Type, ifi.Flags, name, address, mtu, operState)
        {
            Link = link,
            Kind = kind,
            Vlan = kind == "vlan" && vlanId is { } id ? (id, vlanProtocol) : null,
        };
    }
}

/// <summary>The fields of an RTM_NEWNEIGH / RTM_DELNEIGH message this project uses.</summary>
internal sealed record NeighbourInfo(int Family, int Ifindex, NeighbourState State, byte Flags, IPAddress? Destination, byte[]? LinkAddress)
{
    public static NeighbourInfo Parse(in NetlinkMessage message)
    {
        var ndm = message.Header<NdMsg>();
        IPAddress? destination = null;
        byte[]? lladdr = null;
        foreach (var a in message.Attributes<NdMsg>())
        {
            switch (a.Type)
            {
                case Rtnl.NDA_DST: destination = a.Address(ndm.Family); break;
                case Rtnl.NDA_LLADDR: lladdr = a.Value.ToArray(); break;
            }
        }
        return new NeighbourInfo(ndm.Family, ndm.Ifindex, (NeighbourState)ndm.State, ndm.Flags, destination, lladdr);
    }
}

/// <summary>Builders for the requests the resolver sends; each returns the finished bytes.</summary>
internal static class RtnetlinkRequests
{
    /// <summary>Enough for any request built here (largest: header + rtmsg + two attributes).</summary>
    public const int MaxLength = 128;

    private const ushort Get = Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK;

    public static int Family(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? NetlinkNative.AF_INET6 : NetlinkNative.AF_INET;

    /// <summary>RTM_GETROUTE for one destination, as `ip route get` asks it.</summary>
    public static Span<byte> GetRoute(Span<byte> buffer, IPAddress destination, int outputIfindex, string operation)
    {
        var w = new NetlinkWriter(buffer, Rtnl.RTM_GETROUTE, Get, operation);
        var family = Family(destination);
        w.Header(new RtMsg { Family = (byte)family, DestinationLength = (byte)(family == NetlinkNative.AF_INET6 ? 128 : 32) });
        w.Attribute(Rtnl.RTA_DST, destination);
        if (outputIfindex > 0)
            w.AttributeU32(Rtnl.RTA_OIF, (uint)outputIfindex);
        return w.Finish();
    }

    public static Span<byte> GetLink(Span<byte> buffer, int ifindex, string operation)
    {
        var w = new NetlinkWriter(buffer, Rtnl.RTM_GETLINK, Get, operation);
        w.Header(new IfInfoMsg { Family = NetlinkNative.AF_UNSPEC, Index = ifindex });
        // Without this the kernel fills in kilobytes of counters nobody here reads.
        w.AttributeU32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
        return w.Finish();
    }

    public static Span<byte> GetNeighbour(Span<byte> buffer, int ifindex, IPAddress address, string operation)
    {
        var w = new NetlinkWriter(buffer, Rtnl.RTM_GETNEIGH, Get, operation);
        w.Header(new NdMsg { Family = (byte)Family(address), Ifindex = ifindex });
        w.Attribute(Rtnl.NDA_DST, address);
        return w.Finish();
    }

    /// <summary>
    /// RTM_NEWNEIGH with NTF_USE (`ip neigh replace ADDR dev DEV use`): the kernel creates the
    /// entry if needed and starts resolving it (ARP request / neighbour solicitation) as if a
    /// packet were waiting, without changing the state of an entry that is already usable.
    /// </summary>
    public static Span<byte> UseNeighbour(Span<byte> buffer, int ifindex, IPAddress address, string operation)
    {
        var w = new NetlinkWriter(buffer, Rtnl.RTM_NEWNEIGH, Get | Rtnl.NLM_F_CREATE, operation);
        w.Header(new NdMsg { Family = (byte)Family(address), Ifindex = ifindex, State = (ushort)NeighbourState.None, Flags = Rtnl.NTF_USE });
        w.Attribute(Rtnl.NDA_DST, address);
        return w.Finish();
    }
}

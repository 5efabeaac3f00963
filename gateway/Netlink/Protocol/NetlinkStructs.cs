using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Netlink.Protocol;

// Fixed headers of netlink and rtnetlink messages, laid out as in the kernel uapi headers
// (linux/netlink.h, linux/rtnetlink.h, linux/neighbour.h, linux/if_link.h, linux/if_addr.h).
// All fields are host byte order; addresses inside attributes are network order.

[StructLayout(LayoutKind.Sequential)]
internal struct NlMsgHdr
{
    public uint Length;
    public ushort Type;
    public ushort Flags;
    public uint Sequence;
    public uint PortId;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RtMsg
{
    public byte Family;
    public byte DestinationLength;
    public byte SourceLength;
    public byte Tos;
    public byte Table;
    public byte Protocol;
    public byte Scope;
    public byte Type;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NdMsg
{
    public byte Family;
    public byte Pad1;
    public ushort Pad2;
    public int Ifindex;
    public ushort State;
    public byte Flags;
    public byte Type;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IfInfoMsg
{
    public byte Family;
    public byte Pad;
    public ushort Type;
    public int Index;
    public uint Flags;
    public uint Change;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IfAddrMsg
{
    public byte Family;
    public byte PrefixLength;
    public byte Flags;
    public byte Scope;
    public int Index;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RtAttr
{
    public ushort Length;
    public ushort Type;
}

/// <summary>Message types, flags and attribute numbers used here (see rtnetlink(7), netlink(7)).</summary>
internal static class Rtnl
{
    public const int HeaderLength = 16;
    public const int AttributeHeaderLength = 4;

    // nlmsg_type
    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28;
    public const ushort RTM_DELNEIGH = 29;
    public const ushort RTM_GETNEIGH = 30;
    public const ushort RTM_NEWRULE = 32;
    public const ushort RTM_DELRULE = 33;
    public const ushort RTM_NEWNEXTHOP = 104;
    public const ushort RTM_DELNEXTHOP = 105;

    // nlmsg_flags
    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP = 0x300;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_CAPPED = 0x100; // on NLMSG_ERROR: the request was not echoed
    public const ushort NLM_F_ACK_TLVS = 0x200; // on NLMSG_ERROR: extended ack attributes follow

    public const ushort NLMSGERR_ATTR_MSG = 1;

    // Multicast groups (RTNLGRP_*), joined one by one with NETLINK_ADD_MEMBERSHIP.
    public const int RTNLGRP_LINK = 1;
    public const int RTNLGRP_NEIGH = 3;
    public const int RTNLGRP_IPV4_IFADDR = 5;
    public const int RTNLGRP_IPV4_ROUTE = 7;
    public const int RTNLGRP_IPV4_RULE = 8;
    public const int RTNLGRP_IPV6_IFADDR = 9;
    public const int RTNLGRP_IPV6_ROUTE = 11;
    public const int RTNLGRP_IPV6_RULE = 19;
    public const int RTNLGRP_NEXTHOP = 32;

    // rtm_type
    public const byte RTN_UNICAST = 1;
    public const byte RTN_LOCAL = 2;
    public const byte RTN_BROADCAST = 3;
    public const byte RTN_ANYCAST = 4;
    public const byte RTN_MULTICAST = 5;
    public const byte RTN_BLACKHOLE = 6;
    public const byte RTN_UNREACHABLE = 7;
    public const byte RTN_PROHIBIT = 8;
    public const byte RTN_THROW = 9;

    public const uint RTNH_F_DEAD = 1;
    public const uint RTNH_F_LINKDOWN = 16;

    // RTA_* (route attributes)
    public const ushort RTA_DST = 1;
    public const ushort RTA_OIF = 4;
    public const ushort RTA_GATEWAY = 5;
    public const ushort RTA_PREFSRC = 7;
    public const ushort RTA_METRICS = 8;
    public const ushort RTA_TABLE = 15;
    public const ushort RTA_VIA = 18;
    public const ushort RTAX_MTU = 2;

    // IFLA_* (link attributes)
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_LINK = 5;
    public const ushort IFLA_LINKINFO = 18;
    // IFLA_INFO_* (nested in IFLA_LINKINFO) and IFLA_VLAN_* (nested in IFLA_INFO_DATA of a vlan link)
    public const ushort IFLA_INFO_KIND = 1;
    public const ushort IFLA_INFO_DATA = 2;
    public const ushort IFLA_VLAN_ID = 1;
    public const ushort IFLA_VLAN_PROTOCOL = 5;
    public const ushort IFLA_OPERSTATE = 16;
    public const ushort IFLA_EXT_MASK = 29;
    public const uint RTEXT_FILTER_SKIP_STATS = 1 << 3;
    public const ushort ARPHRD_ETHER = 1;
    public const uint IFF_UP = 0x1;
    public const uint IFF_RUNNING = 0x40; // operationally up (oper state UP or UNKNOWN)

    // NDA_* (neighbour attributes) and ndm flags
    public const ushort NDA_DST = 1;
    public const ushort NDA_LLADDR = 2;
    public const byte NTF_USE = 0x01;

    /// <summary>Attribute type without the nested/byte-order flag bits.</summary>
    public const ushort NLA_TYPE_MASK = 0x3fff;

    public static int Align(int length) => (length + 3) & ~3;
}

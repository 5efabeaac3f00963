using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Netlink;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>What a resolved next hop becomes in the nexthops map (the layout the XDP program reads).</summary>
public class KernelNextHopEntryTests
{
    private static readonly PhysicalAddress Ours = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress Theirs = PhysicalAddress.Parse("02-00-00-00-00-02");

    private static NextHop Hop(VlanEgress? vlan = null) =>
        new(9, "n3.300", Ours, Theirs, 1496, IPAddress.Parse("198.51.100.2"), null) { Vlan = vlan };

    [Fact]
    public unsafe void VlanEgress_TransmitsOnTheParent_WithTheTagInNetworkOrder()
    {
        var entry = KernelNextHops.EntryFor(Hop(new VlanEgress(300, 0x88a8, 4)));

        Assert.Equal((4u, (ushort)1496, (byte)1, (byte)1), (entry.Ifindex, entry.Mtu, entry.Valid, entry.Vlan));
        // Network order: the bytes as they go on the wire.
        Assert.Equal([0x88, 0xa8, 0x01, 0x2c], [.. BitConverter.GetBytes(entry.VlanProto), .. BitConverter.GetBytes(entry.VlanTci)]);
        Assert.Equal(Theirs.GetAddressBytes(), new ReadOnlySpan<byte>(entry.DestinationMac, 6).ToArray());
        Assert.Equal(Ours.GetAddressBytes(), new ReadOnlySpan<byte>(entry.SourceMac, 6).ToArray());
    }

    [Fact]
    public void PlainEgress_HasNoTag_AndUnresolvedIsInvalid()
    {
        var plain = KernelNextHops.EntryFor(Hop());
        var unresolved = KernelNextHops.EntryFor(null);

        Assert.Equal((9u, (byte)1, (byte)0, (ushort)0, (ushort)0), (plain.Ifindex, plain.Valid, plain.Vlan, plain.VlanProto, plain.VlanTci));
        Assert.Equal((0u, (byte)0), (unresolved.Ifindex, unresolved.Valid));
    }
}

using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>A next hop given by configuration (rules files, replay, tests) rather than the kernel.</summary>
public sealed record StaticRoute(string Prefix, int Ifindex, PhysicalAddress SourceMac, PhysicalAddress DestinationMac, ushort Mtu = 1500)
{
    /// <summary>Prefix "default" (or null destination) is the route to the data network.</summary>
    public bool IsDataNetwork => Prefix == "default";
}

/// <summary>
/// Next hops from a fixed list of routes: a FAR's peer gets the longest matching prefix,
/// FARs towards the data network get the "default" route. Each route is one nexthops slot.
/// </summary>
public sealed class StaticNextHops : INextHops
{
    private readonly List<(StaticRoute Route, IPAddress? Network, int Length, uint Slot)> _routes = [];

    public unsafe StaticNextHops(IMapTable<uint, NexthopEntry> table, IEnumerable<StaticRoute> routes)
    {
        uint slot = 0;
        foreach (var route in routes)
        {
            IPAddress? network = null;
            int length = 0;
            if (!route.IsDataNetwork)
            {
                var parts = route.Prefix.Split('/');
                network = IPAddress.Parse(parts[0]);
                length = parts.Length > 1 ? int.Parse(parts[1]) : (network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            }
            var entry = new NexthopEntry { Ifindex = (uint)route.Ifindex, Mtu = route.Mtu, Valid = 1 };
            route.DestinationMac.GetAddressBytes().CopyTo(new Span<byte>(entry.DestinationMac, 6));
            route.SourceMac.GetAddressBytes().CopyTo(new Span<byte>(entry.SourceMac, 6));
            table.Put(slot, entry);
            _routes.Add((route, network, length, slot++));
        }
    }

    public uint Acquire(IPAddress? peer)
    {
        if (peer is null)
            return _routes.FirstOrDefault(r => r.Route.IsDataNetwork) is { Route: not null } d ? d.Slot : AbiConstants.None;
        var best = _routes
            .Where(r => r.Network is not null && r.Network.AddressFamily == peer.AddressFamily && Matches(r.Network, r.Length, peer))
            .OrderByDescending(r => r.Length)
            .FirstOrDefault();
        return best.Route is null ? AbiConstants.None : best.Slot;
    }

    public void Release(uint slot) { }

    private static bool Matches(IPAddress network, int length, IPAddress address)
    {
        var n = network.GetAddressBytes();
        var a = address.GetAddressBytes();
        for (int i = 0; i < n.Length; i++)
        {
            var bits = Math.Clamp(length - i * 8, 0, 8);
            var mask = (byte)(0xff << (8 - bits));
            if ((n[i] & mask) != (a[i] & mask))
                return false;
        }
        return true;
    }
}

using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Netlink;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// Next hops resolved from the kernel's routes and neighbours (rtnetlink) and kept current:
/// each destination FARs use is one slot of the nexthops map, rewritten when the kernel's
/// view changes. An unresolved slot is written invalid, so its packets use bpf_fib_lookup
/// (and the stack) until the neighbour answers.
/// </summary>
public sealed class KernelNextHops : INextHops, INextHopRestorer, IDisposable
{
    private readonly NextHopTable _table;
    private readonly IMapTable<uint, NexthopEntry> _map;
    private readonly IPAddress? _dataNetwork;
    private readonly object _gate = new();

    /// <param name="dataNetwork">An address in the data network whose route FARs towards N6 use; null = FIB per packet.</param>
    public KernelNextHops(NextHopTable table, IMapTable<uint, NexthopEntry> map, IPAddress? dataNetwork)
    {
        _table = table;
        _map = map;
        _dataNetwork = dataNetwork;
        _table.NextHopsChanged += changed =>
        {
            lock (_gate)
                foreach (var e in changed)
                    Write(e);
        };
    }

    public uint Acquire(IPAddress? peer)
    {
        var destination = peer ?? _dataNetwork;
        if (destination is null)
            return AbiConstants.None;
        lock (_gate)
        {
            var entry = _table.Acquire(destination);
            if (entry.Id >= _map.Capacity)
            {
                _table.Release(entry.Id);
                return AbiConstants.None;
            }
            Write(entry);
            return (uint)entry.Id;
        }
    }

    /// <summary>Takes a slot over from a previous process (its entry is in the pinned map) and refreshes it.</summary>
    public void Restore(uint slot, IPAddress? destination)
    {
        destination ??= _dataNetwork;
        if (destination is null)
            return;
        lock (_gate)
            Write(_table.AcquireAt((int)slot, destination));
    }

    public void Release(uint slot)
    {
        if (slot == AbiConstants.None)
            return;
        lock (_gate)
            _table.Release((int)slot);
    }

    private void Write(NextHopEntry e) =>
        _map.Put((uint)e.Id, EntryFor(e.Resolution.IsResolved ? e.Resolution.NextHop : null));

    /// <summary>The nexthops map value for a resolved next hop (null: unresolved, the FIB decides per packet).</summary>
    internal static unsafe NexthopEntry EntryFor(NextHop? hop)
    {
        var value = new NexthopEntry();
        if (hop is not null)
        {
            value.Ifindex = (uint)hop.Ifindex;
            value.Mtu = (ushort)Math.Min(hop.Mtu, ushort.MaxValue);
            value.Valid = 1;
            hop.DestinationMac.GetAddressBytes().CopyTo(new Span<byte>(value.DestinationMac, 6));
            hop.SourceMac.GetAddressBytes().CopyTo(new Span<byte>(value.SourceMac, 6));
            if (hop.Vlan is { } vlan)
            {
                // XDP transmits on the parent and writes the tag the VLAN device would have added.
                value.Ifindex = (uint)vlan.ParentIfindex;
                value.Vlan = 1;
                value.VlanProto = (ushort)IPAddress.HostToNetworkOrder((short)vlan.Protocol);
                value.VlanTci = (ushort)IPAddress.HostToNetworkOrder((short)vlan.Id);
            }
        }
        return value;
    }

    public void Dispose() => _table.Dispose();
}

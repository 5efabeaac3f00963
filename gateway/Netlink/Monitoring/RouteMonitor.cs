using System.Diagnostics;
using System.Net;
using LoxiLb.Edge5G.Netlink.Interop;
using LoxiLb.Edge5G.Netlink.Protocol;
using LoxiLb.Edge5G.Netlink.Sockets;

namespace LoxiLb.Edge5G.Netlink;

/// <summary>
/// Listens to rtnetlink notifications (links, addresses, IPv4/IPv6 routes, neighbours, rules,
/// nexthop objects) and raises <see cref="Changed"/> once per burst, so that a table of next
/// hops can resolve again the ones a change may affect.
/// <para>
/// The socket is created by the constructing thread, so it watches that thread's network
/// namespace; a background thread reads it. Handlers run on that thread, one batch at a time.
/// Dispose wakes the thread through an eventfd and joins it.
/// </para>
/// </summary>
public sealed class RouteMonitor : IDisposable
{
    private static readonly int[] Groups =
    [
        Rtnl.RTNLGRP_LINK, Rtnl.RTNLGRP_NEIGH,
        Rtnl.RTNLGRP_IPV4_IFADDR, Rtnl.RTNLGRP_IPV6_IFADDR,
        Rtnl.RTNLGRP_IPV4_ROUTE, Rtnl.RTNLGRP_IPV6_ROUTE,
        Rtnl.RTNLGRP_IPV4_RULE, Rtnl.RTNLGRP_IPV6_RULE,
        Rtnl.RTNLGRP_NEXTHOP,
    ];

    private readonly NetlinkSocket _socket;
    private readonly WakeupEvent _stop;
    private readonly Thread _thread;
    private readonly TimeSpan _quietPeriod;
    private readonly TimeSpan _maxDelay;
    private int _disposed;
    private volatile bool _releaseOnExit;

    /// <param name="quietPeriod">A batch closes once no notification arrived for this long (default 10 ms).</param>
    /// <param name="maxDelay">A batch closes at the latest this long after its first notification (default 100 ms).</param>
    public RouteMonitor(TimeSpan? quietPeriod = null, TimeSpan? maxDelay = null)
        : this(quietPeriod, maxDelay, receiveBufferBytes: 4 << 20)
    {
    }

    /// <param name="receiveBufferBytes">Socket buffer; a tiny one lets tests provoke an overrun.</param>
    internal RouteMonitor(TimeSpan? quietPeriod, TimeSpan? maxDelay, int receiveBufferBytes)
    {
        _quietPeriod = quietPeriod ?? TimeSpan.FromMilliseconds(10);
        _maxDelay = maxDelay ?? TimeSpan.FromMilliseconds(100);
        _socket = NetlinkSocket.Open(TimeSpan.FromSeconds(1), Groups, receiveBufferBytes);
        try
        {
            _stop = new WakeupEvent();
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "rtnetlink monitor" };
        _thread.Start();
    }

    /// <summary>A batch of changes; raised on the monitor thread.</summary>
    public event Action<RouteChange>? Changed;

    /// <summary>A handler threw, a notification did not parse, or the socket failed (the thread then stops).</summary>
    public event Action<Exception>? Faulted;

    /// <summary>True while the reader thread runs.</summary>
    public bool IsRunning => _thread.IsAlive;

    private void Run()
    {
        try
        {
            while (_socket.WaitReadable(_stop.Fd, -1, out _))
            {
                var batch = new Batch();
                if (!Collect(batch))
                    return;
                Raise(batch.Build());
            }
        }
        catch (Exception e)
        {
            ReportFault(e);
        }
        finally
        {
            if (_releaseOnExit)
                Release();
        }
    }

    /// <summary>Reads until the quiet period passes or the batch is old enough; false when stopping.</summary>
    private bool Collect(Batch batch)
    {
        var age = Stopwatch.StartNew();
        while (true)
        {
            Drain(batch, age);
            var wait = Math.Min(_quietPeriod.TotalMilliseconds, (_maxDelay - age.Elapsed).TotalMilliseconds);
            if (wait <= 0)
                return true;
            if (!_socket.WaitReadable(_stop.Fd, (int)Math.Ceiling(wait), out var timedOut))
                return timedOut;
        }
    }

    /// <summary>Reads what is queued, but stops at the batch's deadline so a flood cannot starve the handlers.</summary>
    private void Drain(Batch batch, Stopwatch age)
    {
        while (age.Elapsed < _maxDelay)
        {
            var length = _socket.Receive(NetlinkNative.MSG_DONTWAIT);
            if (length == -NetlinkNative.EAGAIN)
                return;
            if (length == -NetlinkNative.ENOBUFS)
            {
                // The kernel dropped notifications: no telling what changed.
                batch.Kinds |= RouteChangeKinds.Lost;
                continue;
            }
            if (length < 0)
                throw new NetlinkException("read rtnetlink notifications", (int)-length, "recv failed");
            try
            {
                foreach (var message in new NetlinkMessageReader(_socket.Received.Span, "parse rtnetlink notification"))
                    batch.Add(message);
            }
            catch (NetlinkFormatException e)
            {
                batch.Kinds |= RouteChangeKinds.Lost;
                ReportFault(e);
            }
        }
    }

    private void Raise(RouteChange change)
    {
        try
        {
            Changed?.Invoke(change);
        }
        catch (Exception e)
        {
            ReportFault(e);
        }
    }

    private void ReportFault(Exception e)
    {
        try
        {
            Faulted?.Invoke(e);
        }
        catch
        {
            // A failing fault handler has nowhere left to report to; keep the reader alive.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (Thread.CurrentThread == _thread)
        {
            // A handler disposes the monitor: the thread releases the socket when it unwinds.
            _releaseOnExit = true;
            _stop.Signal();
            return;
        }
        _stop.Signal();
        if (!_thread.Join(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException("the rtnetlink monitor thread did not stop within 10 s");
        Release();
    }

    private void Release()
    {
        _socket.Dispose();
        _stop.Dispose();
    }

    /// <summary>Notifications merged so far.</summary>
    private sealed class Batch
    {
        private readonly HashSet<int> _interfaces = [];
        private readonly HashSet<IPNetwork> _routes = [];
        private readonly HashSet<NeighbourKey> _neighbours = [];
        private int _messages;

        public RouteChangeKinds Kinds { get; set; }

        public void Add(in NetlinkMessage message)
        {
            _messages++;
            switch (message.Type)
            {
                case Rtnl.RTM_NEWLINK or Rtnl.RTM_DELLINK:
                    Kinds |= RouteChangeKinds.Link;
                    _interfaces.Add(message.Header<IfInfoMsg>().Index);
                    break;
                case Rtnl.RTM_NEWADDR or Rtnl.RTM_DELADDR:
                    Kinds |= RouteChangeKinds.Address;
                    _interfaces.Add(message.Header<IfAddrMsg>().Index);
                    break;
                // MPLS and other families route nothing we resolve.
                case Rtnl.RTM_NEWROUTE or Rtnl.RTM_DELROUTE
                    when message.Header<RtMsg>().Family is NetlinkNative.AF_INET or NetlinkNative.AF_INET6:
                    Kinds |= RouteChangeKinds.Route;
                    _routes.Add(Prefix(RouteInfo.Parse(message)));
                    break;
                case Rtnl.RTM_NEWNEIGH or Rtnl.RTM_DELNEIGH:
                    // The same group carries bridge FDB entries (AF_BRIDGE): not next hops.
                    var neighbour = NeighbourInfo.Parse(message);
                    if (neighbour.Destination is not null &&
                        neighbour.Family is NetlinkNative.AF_INET or NetlinkNative.AF_INET6)
                    {
                        Kinds |= RouteChangeKinds.Neighbour;
                        _neighbours.Add(new NeighbourKey(neighbour.Ifindex, neighbour.Destination));
                    }
                    break;
                case Rtnl.RTM_NEWRULE or Rtnl.RTM_DELRULE:
                    Kinds |= RouteChangeKinds.Rule;
                    break;
                case Rtnl.RTM_NEWNEXTHOP or Rtnl.RTM_DELNEXTHOP:
                    Kinds |= RouteChangeKinds.NextHopObject;
                    break;
                case Rtnl.NLMSG_OVERRUN:
                    Kinds |= RouteChangeKinds.Lost;
                    break;
            }
        }

        private static IPNetwork Prefix(RouteInfo route) =>
            route.Destination is null
                ? new IPNetwork(route.Family == NetlinkNative.AF_INET6 ? IPAddress.IPv6Any : IPAddress.Any, 0)
                : new IPNetwork(Masked(route.Destination, route.DestinationLength), route.DestinationLength);

        // The kernel keeps host bits clear in route keys; IPNetwork insists on it, so be sure.
        private static IPAddress Masked(IPAddress address, int length)
        {
            var bytes = address.GetAddressBytes();
            for (var i = 0; i < bytes.Length; i++)
            {
                var keep = Math.Clamp(length - i * 8, 0, 8);
                bytes[i] &= (byte)(0xff << (8 - keep));
            }
            return new IPAddress(bytes);
        }

        public RouteChange Build() => new(Kinds, _interfaces, [.. _routes], _neighbours, _messages);
    }
}

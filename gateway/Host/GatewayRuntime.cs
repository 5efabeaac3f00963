using System.Net;
using System.Reflection;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.LoxiLb;
using LoxiLb.Edge5G.Netlink;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoxiLb.Edge5G.Host;

/// <summary>An interface the datapath runs on.</summary>
public sealed record InterfaceState(string Name, string Role, int Ifindex, bool Attached, string Mode, string? PinPath);

/// <summary>What `edge5g get status` shows.</summary>
public sealed record GatewayStatus(string Version, DateTimeOffset StartedAt, bool DatapathAdopted, string PinRoot,
    IReadOnlyList<InterfaceState> Interfaces, int Sessions, IReadOnlyList<string> GtpAddresses);

/// <summary>
/// The running datapath of the daemon: the GTP-U program loaded (or adopted from pins left
/// by the previous process), attached to the interfaces by role, the session table that
/// compiles into its maps, next hops kept current from rtnetlink, and the ring buffer of
/// datapath events. Restarting the daemon adopts pinned maps and links: the new program
/// replaces the old one in place (atomic link update), so forwarding never stops.
/// </summary>
public sealed partial class GatewayRuntime : IHostedService, IDisposable
{
    private readonly GatewayOptions _options;
    private readonly ILogger<GatewayRuntime> _log;
    private readonly TimeProvider _time;
    private readonly List<(InterfaceState State, BpfLink Link)> _links = [];
    private BpfRingBuffer<EventRecord>? _events;
    private Thread? _eventThread;
    private BpfRingBuffer<SlowPacketRecord>? _slowPackets;
    private Thread? _slowThread;
    private UdpGtpuSender? _slowSender;
    private volatile bool _stopping;
    private KernelNextHops? _nextHops;
    private SessionStateStore? _state;

    public GatewayRuntime(IOptions<GatewayOptions> options, ILogger<GatewayRuntime> log, TimeProvider? time = null)
    {
        _options = options.Value;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    public GtpDatapath Datapath { get; private set; } = null!;
    public SessionTable Sessions { get; private set; } = null!;
    public LoxiLbSessions LoxiLb { get; private set; } = null!;
    public GtpAddresses Addresses { get; private set; } = null!;
    public DateTimeOffset StartedAt { get; private set; }
    public bool Adopted { get; private set; }
    public bool Started { get; private set; }

    /// <summary>Fragments what the datapath hands over (downlink IPv4 without DF, too big once encapsulated).</summary>
    public TooBigFragmenter? Fragmenter { get; private set; }

    /// <summary>Packets of buffering FARs the datapath handed over, on the slow-packet thread (the PFCP node holds them).</summary>
    public event Action<SlowPacketRecord>? BufferedPacket;

    /// <summary>Datapath events (downlink data on BUFF/NOCP FARs, error indications), on the event thread.</summary>
    public event Action<EventRecord>? DatapathEvent;

    public static string Version { get; } =
        typeof(GatewayRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public GatewayStatus Status() => new(Version, StartedAt, Adopted, _options.Datapath.PinRoot,
        _links.Select(l => l.State).ToArray(), Started ? Sessions.Count : 0, Addresses?.All.Select(a => a.ToString()).ToArray() ?? []);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        StartedAt = _time.GetUtcNow();
        var o = _options;
        var access = o.Gtp.AccessAddresses.Select(IPAddress.Parse).ToArray();
        var core = o.Gtp.CoreAddresses.Select(IPAddress.Parse).ToArray();
        Addresses = new GtpAddresses(
            access.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            access.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6),
            core.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            core.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6));

        var roles = new List<(string Name, string Role, InterfaceRoles Roles)>();
        void Role(string? name, string role, InterfaceRoles r)
        {
            if (string.IsNullOrEmpty(name))
                return;
            var existing = roles.FindIndex(x => x.Name == name);
            if (existing >= 0)
                roles[existing] = (name, roles[existing].Role + "+" + role, roles[existing].Roles | r);
            else
                roles.Add((name, role, r));
        }
        Role(o.Interfaces.Access, "access", InterfaceRoles.Access);
        Role(o.Interfaces.Core, "core", InterfaceRoles.Core);
        Role(o.Interfaces.N9, "n9", InterfaceRoles.N9);
        // Fail before touching anything when an interface is missing.
        var ifindexes = roles.ToDictionary(r => r.Name, r => BpfLink.InterfaceIndex(r.Name, $"configure interface '{r.Name}' ({r.Role})"));

        var mapsDir = Path.Combine(o.Datapath.PinRoot, "maps");
        var linksDir = Path.Combine(o.Datapath.PinRoot, "links");
        Datapath = LoadOrAdopt(mapsDir);
        foreach (var (name, _, r) in roles)
            Datapath.SetInterface(ifindexes[name], r);
        foreach (var a in Addresses.All)
            Datapath.AddLocalAddress(a);
        Datapath.SetRecovery(o.Gtp.Recovery);
        Datapath.SetErrorIndicationRate(o.Gtp.ErrorIndicationRate);
        Datapath.SetIcmpErrorRate(o.Gtp.IcmpErrorRate);
        Datapath.SetFragmentRate(o.Gtp.FragmentRate);
        // Only the PFCP node holds buffered packets (and knows when to send them): without it
        // they are dropped in the datapath, and counted there as such.
        Datapath.SetBufferRate(string.IsNullOrEmpty(o.Pfcp.Address) ? (ushort)0 : o.Gtp.BufferRate);
        var (icmp4, icmp6) = InterfaceAddresses(o.Interfaces.Core);
        Datapath.SetIcmpSources(icmp4, icmp6);

        var mode = o.Interfaces.XdpMode == "generic" ? XdpMode.Generic : XdpMode.Native;
        foreach (var (name, role, _) in roles)
            _links.Add(AttachOrReplace(name, role, ifindexes[name], mode, linksDir));

        var table = NextHopTable.Create((int)Datapath.Options.NextHops);
        FollowCoreAddresses(table.Monitor!, o.Interfaces.Core, o.Interfaces.Core is { Length: > 0 } coreName ? ifindexes[coreName] : 0, (icmp4, icmp6));
        _nextHops = new KernelNextHops(table, Datapath.Tables.Nexthops,
            o.Gtp.DataNetworkNextHop is { Length: > 0 } dn ? IPAddress.Parse(dn) : null);
        Sessions = new SessionTable(Datapath.Tables, Addresses, _nextHops, _time);
        _state = new SessionStateStore(Path.Combine(o.Datapath.StateDirectory, "sessions.json"), _log);
        if (Adopted)
            AdoptSessions();
        LoxiLb = new LoxiLbSessions(Sessions);
        if (Adopted)
            LoxiLb.Adopt(Sessions.Sessions.Select(c => c.Session));
        StartEvents();
        Started = true;
        LogStarted(_log, string.Join(", ", _links.Select(l => $"{l.State.Name}({l.State.Role})")), Adopted);
        return Task.CompletedTask;
    }

    /// <summary>
    /// ICMP errors to the data network come from the core interface's address: when its
    /// addresses change (or notifications were lost), the datapath's sources follow. Runs on the
    /// monitor thread, which next hops share: nothing may escape from here.
    /// </summary>
    private void FollowCoreAddresses(RouteMonitor monitor, string? core, int ifindex, (IPAddress? Ipv4, IPAddress? Ipv6) current)
    {
        if (ifindex <= 0)
            return;
        var gate = new object();
        void Refresh()
        {
            try
            {
                lock (gate)
                {
                    var now = InterfaceAddresses(core);
                    if (Equals(now.Ipv4, current.Ipv4) && Equals(now.Ipv6, current.Ipv6))
                        return;
                    Datapath.SetIcmpSources(now.Ipv4, now.Ipv6);
                    LogIcmpSources(_log, core!, now.Ipv4?.ToString() ?? "none", now.Ipv6?.ToString() ?? "none");
                    current = now;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogIcmpSourcesFailed(_log, core!, e);
            }
        }
        monitor.Changed += change =>
        {
            if ((change.Kinds & RouteChangeKinds.Lost) != 0
                || ((change.Kinds & (RouteChangeKinds.Address | RouteChangeKinds.Link)) != 0 && change.Interfaces.Contains(ifindex)))
                Refresh();
        };
        Refresh(); // a change between the first read and the subscription
    }

    /// <summary>The first IPv4 and the first global IPv6 address of an interface (null when it has none).</summary>
    private static (IPAddress? Ipv4, IPAddress? Ipv6) InterfaceAddresses(string? name)
    {
        var nic = string.IsNullOrEmpty(name) ? null
            : System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name);
        if (nic is null)
            return (null, null);
        var addresses = nic.GetIPProperties().UnicastAddresses.Select(u => u.Address).ToArray();
        return (addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal));
    }

    private GtpDatapath LoadOrAdopt(string mapsDir)
    {
        var options = new GtpDatapathOptions
        {
            Sessions = _options.Datapath.Sessions,
            // Sessions with SDF filters need a rule list and filters; size them with the sessions.
            RuleLists = Math.Max(64, _options.Datapath.Sessions / 2),
            SdfFilters = Math.Max(256, _options.Datapath.Sessions * 2),
            FramedRoutes = Math.Max(1024, _options.Datapath.Sessions),
            Recovery = _options.Gtp.Recovery,
            ErrorIndicationRate = _options.Gtp.ErrorIndicationRate,
            IcmpErrorRate = _options.Gtp.IcmpErrorRate,
            FragmentRate = _options.Gtp.FragmentRate,
            BufferRate = string.IsNullOrEmpty(_options.Pfcp.Address) ? (ushort)0 : _options.Gtp.BufferRate,
            Ue4Pool = _options.Pfcp.UePools.FirstOrDefault(p => Cidr.Parse(p).Network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
        };
        Adopted = Directory.Exists(mapsDir) && Directory.EnumerateFileSystemEntries(mapsDir).Any();
        var datapath = GtpDatapath.Load(options, Adopted ? mapsDir : null);
        if (!Adopted)
            datapath.PinMaps(mapsDir);
        return datapath;
    }

    private (InterfaceState, BpfLink) AttachOrReplace(string name, string role, int ifindex, XdpMode mode, string linksDir)
    {
        var pin = Path.Combine(linksDir, name);
        BpfLink link;
        if (File.Exists(pin))
        {
            link = BpfLink.OpenPinned(pin);
            link.Replace(Datapath.Program);
            LogLinkAdopted(_log, name);
        }
        else
        {
            link = BpfLink.AttachXdp(Datapath.Program, ifindex, mode);
            link.Pin(pin);
        }
        return (new InterfaceState(name, role, ifindex, true, mode.ToString().ToLowerInvariant(), pin), link);
    }

    private void AdoptSessions()
    {
        var records = _state!.Load();
        var orphans = Sessions.Adopt(records, _nextHops!);
        LogSessionsAdopted(_log, records.Count, orphans);
    }

    private void StartEvents()
    {
        _events = new BpfRingBuffer<EventRecord>(Datapath.Object.MapDescriptor("events"), e => DatapathEvent?.Invoke(e));
        _eventThread = PollThread("datapath events", _events.Poll);
        // Packets for the gateway to send: on their own thread, so events never wait for them.
        _slowSender = new UdpGtpuSender();
        Fragmenter = new TooBigFragmenter(_slowSender, _log);
        var fragmenter = Fragmenter;
        _slowPackets = new BpfRingBuffer<SlowPacketRecord>(Datapath.Object.MapDescriptor("slow_packets"), r =>
        {
            if (r.Kind == SlowPacketKind.Fragment)
                fragmenter.Handle(r);
            else
                BufferedPacket?.Invoke(r);
        });
        _slowThread = PollThread("slow packets", _slowPackets.Poll);
    }

    private Thread PollThread(string name, Func<TimeSpan, int> poll)
    {
        var thread = new Thread(() =>
        {
            while (!_stopping)
            {
                try
                {
                    poll(TimeSpan.FromMilliseconds(200));
                }
                catch (Exception e) when (!_stopping)
                {
                    LogEventsFailed(_log, name, e);
                    Thread.Sleep(1000);
                }
            }
        }) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    /// <summary>Saves the session state for the next process to adopt (after every change, debounced by the caller).</summary>
    public void SaveState()
    {
        if (Started)
            _state?.Save(Sessions.Export());
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _eventThread?.Join(TimeSpan.FromSeconds(2));
        _slowThread?.Join(TimeSpan.FromSeconds(2));
        if (!Started)
            return Task.CompletedTask;
        SaveState();
        if (!_options.Datapath.KeepOnStop)
        {
            foreach (var (state, link) in _links)
            {
                link.Unpin();
                link.Detach();
            }
            BpfPins.RemoveTree(_options.Datapath.PinRoot);
            _state?.Delete();
            LogRemoved(_log, _options.Datapath.PinRoot);
        }
        else
        {
            LogKept(_log, _options.Datapath.PinRoot);
        }
        Started = false;
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _stopping = true;
        _events?.Dispose();
        _slowPackets?.Dispose();
        _slowSender?.Dispose();
        foreach (var (_, link) in _links)
            link.Dispose();
        _nextHops?.Dispose();
        Datapath?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ICMP errors to the data network now come from {Interface}'s addresses: {Ipv4}, {Ipv6}")]
    private static partial void LogIcmpSources(ILogger logger, string @interface, string ipv4, string ipv6);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not update the ICMP source addresses from {Interface}")]
    private static partial void LogIcmpSourcesFailed(ILogger logger, string @interface, Exception exception);

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "datapath running on {Interfaces} (adopted pinned state: {Adopted})")]
    private static partial void LogStarted(ILogger logger, string interfaces, bool adopted);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "adopted the pinned XDP link on {Interface}; program replaced in place")]
    private static partial void LogLinkAdopted(ILogger logger, string @interface);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "adopted {Count} sessions from the saved state; removed {Orphans} datapath entries no saved session owned")]
    private static partial void LogSessionsAdopted(ILogger logger, int count, int orphans);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "stopping: datapath kept forwarding (pins under {PinRoot})")]
    private static partial void LogKept(ILogger logger, string pinRoot);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "stopping: datapath detached and pins under {PinRoot} removed")]
    private static partial void LogRemoved(ILogger logger, string pinRoot);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "reading the datapath's {Ring} failed")]
    private static partial void LogEventsFailed(ILogger logger, string ring, Exception exception);
}

using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Netlink;

namespace LoxiLb.Edge5G.Lab;

/// <summary>
/// The GTP-U lab: namespaces for a gNB, the gateway, the data network and (optionally) a
/// central UPF, joined by veth pairs on documentation addresses:
/// <code>
///   gnb  gnb0 198.51.100.2/26  ---  n3 198.51.100.1/26   gw   n6 203.0.113.1/25 --- dn0 203.0.113.2/25  dn
///                                   n9 198.51.100.65/26  --- cupf0 198.51.100.66/26  cupf (central UPF)
/// </code>
/// UEs live in 192.0.2.0/24 behind the gNB; the data network routes that pool to the gateway.
/// The central UPF serves the rest of 203.0.113.0/24 (203.0.113.128/25). The GTP-U program runs
/// on n3 (access), n6 (core) and n9; the peers run the XDP_PASS counter so redirected frames
/// are received (a veth drops them otherwise).
/// </summary>
public sealed class GtpLab : IDisposable
{
    public static readonly IPAddress N3 = IPAddress.Parse("198.51.100.1");
    public static readonly IPAddress GnbAddress = IPAddress.Parse("198.51.100.2");
    public static readonly IPAddress N9 = IPAddress.Parse("198.51.100.65");
    public static readonly IPAddress CentralUpfAddress = IPAddress.Parse("198.51.100.66");
    public static readonly IPAddress N6 = IPAddress.Parse("203.0.113.1");
    public static readonly IPAddress DataNetworkRouter = IPAddress.Parse("203.0.113.2");
    public static readonly IPAddress RemoteServer = IPAddress.Parse("203.0.113.200");
    public const string UePool = "192.0.2.0/24";

    private readonly List<BpfObject> _peerCounters = [];

    private GtpLab(LabNetwork network) => Network = network;

    public LabNetwork Network { get; }
    public NetworkNamespace Gnb { get; private set; } = null!;
    public NetworkNamespace Gateway { get; private set; } = null!;
    public NetworkNamespace DataNetwork { get; private set; } = null!;
    public NetworkNamespace? CentralUpf { get; private set; }
    public GtpDatapath Datapath { get; private set; } = null!;
    public SessionTable Sessions { get; private set; } = null!;
    public KernelNextHops NextHops { get; private set; } = null!;

    /// <summary>
    /// Builds the namespaces and, unless <paramref name="withDatapath"/> is false (the gateway
    /// then runs as its own process in the gw namespace), loads and attaches the program and
    /// starts next-hop tracking in this process.
    /// </summary>
    public static GtpLab Create(bool withCentralUpf = false, GtpDatapathOptions? options = null, XdpMode mode = XdpMode.Native,
        bool withDatapath = true)
    {
        var lab = new GtpLab(new LabNetwork());
        try
        {
            lab.Build(withCentralUpf, options ?? new GtpDatapathOptions { Sessions = 1024, RuleLists = 64, SdfFilters = 256, NextHops = 64 }, mode,
                withDatapath);
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    private void Build(bool withCentralUpf, GtpDatapathOptions options, XdpMode mode, bool withDatapath)
    {
        Gnb = Network.AddNamespace("gnb");
        Gateway = Network.AddNamespace("gw");
        DataNetwork = Network.AddNamespace("dn");
        Network.AddVeth(Gnb, "gnb0", Gateway, "n3", ["198.51.100.2/26"], ["198.51.100.1/26"]);
        Network.AddVeth(Gateway, "n6", DataNetwork, "dn0", ["203.0.113.1/25"], ["203.0.113.2/25"]);
        DataNetwork.Run("ip", "route", "add", UePool, "via", "203.0.113.1");
        Gateway.Run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        if (withCentralUpf)
        {
            CentralUpf = Network.AddNamespace("cupf");
            Network.AddVeth(Gateway, "n9", CentralUpf, "cupf0", ["198.51.100.65/26"], ["198.51.100.66/26"]);
        }
        foreach (var (ns, dev) in Links())
            ns.Run("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.disable_ipv6=1");

        // Peers: an XDP_PASS program so frames the gateway redirects or transmits are received.
        foreach (var (ns, dev) in new[] { (Gnb, "gnb0"), (DataNetwork, "dn0") }.Concat(CentralUpf is null ? [] : [(CentralUpf, "cupf0")]))
        {
            using var spec = BpfObjectSpec.OpenEmbedded("common/ifcount.bpf.o");
            var counter = Network.Own(spec.Load());
            _peerCounters.Add(counter);
            Network.AttachXdp(ns, dev, counter.Program("xdp_ifcount"));
        }

        if (!withDatapath)
            return;
        Datapath = Network.Own(GtpDatapath.Load(options));
        int n3, n6, n9 = 0;
        using (Gateway.Enter())
        {
            n3 = BpfLink.InterfaceIndex("n3", "lab");
            n6 = BpfLink.InterfaceIndex("n6", "lab");
            if (CentralUpf is not null)
                n9 = BpfLink.InterfaceIndex("n9", "lab");
            NextHops = Network.Own(new KernelNextHops(NextHopTable.Create((int)options.NextHops), Datapath.Tables.Nexthops, DataNetworkRouter));
        }
        Datapath.SetInterface(n3, InterfaceRoles.Access);
        Datapath.SetInterface(n6, InterfaceRoles.Core);
        Network.AttachXdp(Gateway, "n3", Datapath.Program, mode);
        Network.AttachXdp(Gateway, "n6", Datapath.Program, mode);
        if (CentralUpf is not null)
        {
            Datapath.SetInterface(n9, InterfaceRoles.N9);
            Datapath.AddLocalAddress(N9);
            Network.AttachXdp(Gateway, "n9", Datapath.Program, mode);
        }
        Datapath.AddLocalAddress(N3);
        Datapath.SetIcmpSources(N6, null); // as the daemon does: the core interface's address
        Sessions = new SessionTable(Datapath.Tables, new GtpAddresses(N3, CoreIpv4: CentralUpf is null ? null : N9), NextHops);

        // Learn the neighbours once so the first packets need neither the FIB nor the stack.
        Gateway.Run(["ping", "-c", "1", "-W", "2", "198.51.100.2"], check: false);
        Gateway.Run(["ping", "-c", "1", "-W", "2", "203.0.113.2"], check: false);
        if (CentralUpf is not null)
            Gateway.Run(["ping", "-c", "1", "-W", "2", "198.51.100.66"], check: false);
    }

    private IEnumerable<(NetworkNamespace, string)> Links()
    {
        yield return (Gnb, "gnb0");
        yield return (Gateway, "n3");
        yield return (Gateway, "n6");
        yield return (DataNetwork, "dn0");
        if (CentralUpf is not null)
        {
            yield return (Gateway, "n9");
            yield return (CentralUpf, "cupf0");
        }
    }

    /// <summary>Interface index of a gateway interface ("n3", "n6", "n9").</summary>
    public int GatewayInterface(string name) => Gateway.InterfaceIndex(name);

    /// <summary>Waits until the next hops towards the given destinations are resolved (bounded).</summary>
    public bool WaitForNextHops(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var all = true;
            for (uint slot = 0; slot < Datapath.Options.NextHops; slot++)
                if (Datapath.Tables.Nexthops.TryGet(slot, out var nh) && nh.Ifindex != 0 && nh.Valid == 0)
                    all = false;
            if (all)
                return true;
            Thread.Sleep(50);
        }
        return false;
    }

    public void Dispose() => Network.Dispose();
}

using System.Text.Json;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Tests.Bpf;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Lab;

/// <summary>Real traffic across veth pairs in namespaces the test creates, with programs attached.</summary>
public class LabNetworkTests
{
    [SkippableFact]
    public void PingAcrossVeth_IsCountedByXdpOnBothEnds_AndTeardownRemovesEverything()
    {
        Privileged.Require();
        string[] names;
        string pinRoot;
        using (var lab = new LabNetwork())
        {
            var (a, b) = TwoHosts(lab);
            var counterA = lab.Own(BpfObjectTests.LoadCounter());
            var counterB = lab.Own(BpfObjectTests.LoadCounter());
            var linkA = lab.AttachXdp(a, "e5g-a0", counterA.Program("xdp_ifcount"));
            lab.AttachXdp(b, "e5g-b0", counterB.Program("xdp_ifcount"));
            pinRoot = lab.PinRoot();
            linkA.Pin(Path.Combine(pinRoot, "link_a"));
            Assert.True(XdpAttached(a, "e5g-a0"));

            var ping = a.Run(["ping", "-c", "4", "-i", "0.2", "-W", "2", "198.51.100.2"], TimeSpan.FromSeconds(20));
            Assert.Contains("4 received", ping.StandardOutput);

            Assert.Equal((4UL, 4 * 98UL), Total(counterA, a.InterfaceIndex("e5g-a0")));
            Assert.Equal((4UL, 4 * 98UL), Total(counterB, b.InterfaceIndex("e5g-b0")));
            names = lab.Namespaces.Select(n => n.Name).ToArray();
        }
        var left = ProcessRunner.Run("ip", "netns", "list").StandardOutput;
        Assert.All(names, n => Assert.DoesNotContain(n, left));
        Assert.False(Directory.Exists(pinRoot));
    }

    [SkippableFact]
    public void TeardownRunsWhenTheTestFails()
    {
        Privileged.Require();
        string? name = null;
        void FailingTestBody()
        {
            using var lab = new LabNetwork();
            name = lab.AddNamespace("fail").Name;
            throw new InvalidOperationException("the test body failed");
        }
        Assert.Throws<InvalidOperationException>(FailingTestBody);
        Assert.NotNull(name);
        Assert.DoesNotContain(name!, ProcessRunner.Run("ip", "netns", "list").StandardOutput);
    }

    [SkippableFact]
    public void StaleNamespaceOfADeadProcess_IsRemovedByTheNextLab()
    {
        Privileged.Require();
        // pid 0x3fffffff cannot be running (above pid_max's ceiling of 2^22).
        var stale = $"{LabNetwork.Prefix}1073741823-1-old";
        ProcessRunner.Run("ip", "netns", "add", stale);
        try
        {
            var removed = LabNetwork.RemoveStale();
            Assert.Contains(stale, removed);
            Assert.DoesNotContain(stale, ProcessRunner.Run("ip", "netns", "list").StandardOutput);
        }
        finally
        {
            ProcessRunner.Run("ip", ["netns", "del", stale], check: false);
        }
    }

    [SkippableFact]
    public void AttachingToAMissingInterface_Throws_AndLeavesNothingAttached()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var (a, _) = TwoHosts(lab);
        var counter = lab.Own(BpfObjectTests.LoadCounter());
        var e = Assert.Throws<BpfException>(() => lab.AttachXdp(a, "e5g-none0", counter.Program("xdp_ifcount")));
        Assert.Contains("no interface named 'e5g-none0'", e.Message);
        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.False(XdpAttached(a, "e5g-a0"));
    }

    [SkippableFact]
    public void AttachingATcProgramAsXdp_Throws_NamingTheExpectedType()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var (a, _) = TwoHosts(lab);
        var counter = lab.Own(BpfObjectTests.LoadCounter());
        var e = Assert.Throws<BpfException>(() => lab.AttachXdp(a, "e5g-a0", counter.Program("tc_ifcount")));
        Assert.Contains("expected an XDP program", e.Message);
        Assert.False(XdpAttached(a, "e5g-a0"));
    }

    [SkippableFact]
    public void SecondXdpAttachOnTheSameInterface_Throws_Ebusy_AndKeepsTheFirst()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var (a, _) = TwoHosts(lab);
        var counter = lab.Own(BpfObjectTests.LoadCounter());
        lab.AttachXdp(a, "e5g-a0", counter.Program("xdp_ifcount"));
        var e = Assert.Throws<BpfException>(() => lab.AttachXdp(a, "e5g-a0", counter.Program("xdp_ifcount")));
        Assert.Equal("EBUSY", e.ErrnoName);
        Assert.True(XdpAttached(a, "e5g-a0"));
    }

    [SkippableFact]
    public void AtomicReplace_SwapsThePassProgramForADropProgram_WithoutDetaching()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var (a, b) = TwoHosts(lab);
        var pass = lab.Own(BpfObjectTests.LoadCounter());
        using var dropSpec = BpfObjectSpec.OpenEmbedded("common/ifcount.bpf.o");
        dropSpec.SetConstant("verdict", (uint)XdpAction.Drop);
        var drop = lab.Own(dropSpec.Load());
        var link = lab.AttachXdp(b, "e5g-b0", pass.Program("xdp_ifcount"));
        Assert.True(a.Run(["ping", "-c", "1", "-W", "2", "198.51.100.2"], check: false).Succeeded);

        link.Replace(drop.Program("xdp_ifcount"));

        Assert.True(XdpAttached(b, "e5g-b0"));
        Assert.False(a.Run(["ping", "-c", "2", "-i", "0.2", "-W", "1", "198.51.100.2"], TimeSpan.FromSeconds(10), check: false).Succeeded);
        Assert.Equal(2UL, Total(drop, b.InterfaceIndex("e5g-b0")).Packets);
    }

    [SkippableFact]
    public void TcEgressProgram_CountsWhatTheInterfaceSends()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var (a, _) = TwoHosts(lab);
        var counter = lab.Own(BpfObjectTests.LoadCounter());
        BpfLink link;
        using (a.Enter())
            link = lab.Own(BpfLink.AttachTc(counter.Program("tc_ifcount"), "e5g-a0", TcDirection.Egress));
        a.Run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.2"], TimeSpan.FromSeconds(20));

        using var map = counter.PerCpuMap<uint, IfCounters>("tc_counters");
        var sent = map.Lookup((uint)a.InterfaceIndex("e5g-a0"));
        Assert.Equal(3L, sent.Sum(c => (long)c.Packets));
        Assert.Equal(3L * 98, sent.Sum(c => (long)c.Bytes));
    }

    [SkippableFact]
    public void PinnedLink_OutlivesItsDescriptor_UntilUnpinned()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var (a, _) = TwoHosts(lab);
        var counter = lab.Own(BpfObjectTests.LoadCounter());
        var pin = Path.Combine(lab.PinRoot(), "xdp_a");
        using (var link = AttachDirect(a, counter))
            link.Pin(pin);
        Assert.True(XdpAttached(a, "e5g-a0")); // descriptor closed, pin holds the link

        using (var map = counter.PerCpuMap<uint, IfCounters>("if_counters"))
        {
            var e = Assert.Throws<BpfException>(() => map.Pin(pin));
            Assert.Contains("already exists", e.Message);
            Assert.Equal("EEXIST", e.ErrnoName);
        }
        Assert.True(XdpAttached(a, "e5g-a0")); // the failed pin left the existing one alone


        using (var adopted = BpfLink.OpenPinned(pin))
            adopted.Unpin();
        Assert.False(File.Exists(pin));
        Assert.False(XdpAttached(a, "e5g-a0"));
    }

    [SkippableFact]
    public void PinnedMap_IsSharedWithASecondOpener()
    {
        Privileged.Require();
        using var lab = new LabNetwork();
        var counter = lab.Own(BpfObjectTests.LoadCounter());
        var pin = Path.Combine(lab.PinRoot(), "if_counters");
        using (var map = counter.PerCpuMap<uint, IfCounters>("if_counters"))
        {
            map.Pin(pin);
            map.UpdateAll(9, new IfCounters { Packets = 5, Bytes = 500 });
        }
        using var reopened = BpfPerCpuMap<uint, IfCounters>.OpenPinned(pin);
        Assert.All(reopened.Lookup(9), v => Assert.Equal(500UL, v.Bytes));
        var e = Assert.Throws<BpfException>(() => BpfMap<uint, IfCounters>.OpenPinned(pin));
        Assert.Contains("per-CPU map", e.Message);
    }

    [SkippableFact]
    public void PinOutsideBpffs_Throws_AndCreatesNothing()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        var path = $"/tmp/edge5g-not-bpffs-{Guid.NewGuid():N}/map";
        var e = Assert.Throws<BpfException>(() => map.Pin(path));
        Assert.Contains("not below a mounted bpffs", e.Message);
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    private static BpfLink AttachDirect(NetworkNamespace ns, BpfObject counter)
    {
        using (ns.Enter())
            return BpfLink.AttachXdp(counter.Program("xdp_ifcount"), "e5g-a0");
    }

    internal static (NetworkNamespace A, NetworkNamespace B) TwoHosts(LabNetwork lab)
    {
        var a = lab.AddNamespace("a");
        var b = lab.AddNamespace("b");
        lab.AddVeth(a, "e5g-a0", b, "e5g-b0", ["198.51.100.1/24"], ["198.51.100.2/24"]);
        foreach (var (ns, dev) in new[] { (a, "e5g-a0"), (b, "e5g-b0") })
            ns.Run("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.disable_ipv6=1");
        a.Run("ip", "neigh", "replace", "198.51.100.2", "lladdr", b.MacAddress("e5g-b0"), "dev", "e5g-a0", "nud", "permanent");
        b.Run("ip", "neigh", "replace", "198.51.100.1", "lladdr", a.MacAddress("e5g-a0"), "dev", "e5g-b0", "nud", "permanent");
        return (a, b);
    }

    internal static bool XdpAttached(NetworkNamespace ns, string dev)
    {
        using var doc = JsonDocument.Parse(ns.Run("ip", "-j", "-d", "link", "show", "dev", dev).StandardOutput);
        return doc.RootElement[0].TryGetProperty("xdp", out _);
    }

    private static (ulong Packets, ulong Bytes) Total(BpfObject counter, int ifindex)
    {
        using var map = counter.PerCpuMap<uint, IfCounters>("if_counters");
        if (!map.TryLookup((uint)ifindex, out var perCpu))
            return (0, 0);
        return ((ulong)perCpu.Sum(c => (long)c.Packets), (ulong)perCpu.Sum(c => (long)c.Bytes));
    }
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Lab;

namespace LoxiLb.Edge5G.Demo;

/// <summary>
/// The foundation demo: two namespaces joined by a veth pair, the per-interface XDP counter
/// attached on both ends, a bounded ping across, and the counters read back from the
/// per-CPU map and checked against what ping reported.
/// </summary>
public static class CounterDemo
{
    public const int Pings = 5;

    public static int Run(TextWriter output)
    {
        using var lab = new LabNetwork();
        output.WriteLine($"[demo] lab {lab.Id}: namespaces gnb and dn, veth 192.0.2.1/24 <-> 192.0.2.2/24");
        var gnb = lab.AddNamespace("gnb");
        var dn = lab.AddNamespace("dn");
        lab.AddVeth(gnb, "e5g-gnb0", dn, "e5g-dn0", ["192.0.2.1/24"], ["192.0.2.2/24"]);
        // Static neighbours and no IPv6 chatter: the counters then hold exactly the pings.
        foreach (var (ns, dev) in new[] { (gnb, "e5g-gnb0"), (dn, "e5g-dn0") })
            ns.Run("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.disable_ipv6=1");
        var gnbMac = gnb.MacAddress("e5g-gnb0");
        var dnMac = dn.MacAddress("e5g-dn0");
        gnb.Run("ip", "neigh", "replace", "192.0.2.2", "lladdr", dnMac, "dev", "e5g-gnb0", "nud", "permanent");
        dn.Run("ip", "neigh", "replace", "192.0.2.1", "lladdr", gnbMac, "dev", "e5g-dn0", "nud", "permanent");

        // One object per namespace: interface indexes are per namespace, and each "host"
        // of the lab would run its own copy of the program.
        var gnbCounter = LoadCounter(lab);
        var dnCounter = LoadCounter(lab);
        lab.AttachXdp(gnb, "e5g-gnb0", gnbCounter.Program("xdp_ifcount"));
        lab.AttachXdp(dn, "e5g-dn0", dnCounter.Program("xdp_ifcount"));
        output.WriteLine("[demo] attached ifcount.bpf.o/xdp_ifcount (native XDP) to both ends");

        var ping = gnb.Run(["ping", "-c", Pings.ToString(), "-i", "0.2", "-W", "2", "192.0.2.2"], TimeSpan.FromSeconds(20), check: false);
        output.WriteLine($"[demo] ping 192.0.2.2 from gnb: {LastLines(ping.StandardOutput, 2)}");

        var rows = new[] { (gnb, "e5g-gnb0", gnbCounter), (dn, "e5g-dn0", dnCounter) }
            .Select(x => (x.Item1, x.Item2, Total: Sum(x.Item3, (uint)x.Item1.InterfaceIndex(x.Item2))))
            .ToArray();
        output.WriteLine();
        output.WriteLine($"{"NAMESPACE",-14} {"INTERFACE",-10} {"RX PACKETS",10} {"RX BYTES",10}");
        foreach (var (ns, dev, total) in rows)
            output.WriteLine($"{ns.Name,-14} {dev,-10} {total.Packets,10} {total.Bytes,10}");
        output.WriteLine();

        var ok = ping.Succeeded && rows.All(r => r.Total.Packets == Pings && r.Total.Bytes == Pings * 98UL);
        output.WriteLine(ok
            ? $"[demo] OK: each end's XDP program counted exactly {Pings} ICMP packets of 98 bytes"
            : $"[demo] FAILED: expected {Pings} packets of 98 bytes on each end");
        return ok ? 0 : 1;
    }

    private static BpfObject LoadCounter(LabNetwork lab)
    {
        using var spec = BpfObjectSpec.OpenEmbedded("common/ifcount.bpf.o");
        return lab.Own(spec.Load());
    }

    private static IfCounters Sum(BpfObject counter, uint ifindex)
    {
        using var map = counter.PerCpuMap<uint, IfCounters>("if_counters");
        if (!map.TryLookup(ifindex, out var perCpu))
            return default;
        return new IfCounters { Packets = perCpu.Aggregate(0UL, (s, c) => s + c.Packets), Bytes = perCpu.Aggregate(0UL, (s, c) => s + c.Bytes) };
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(count));
}

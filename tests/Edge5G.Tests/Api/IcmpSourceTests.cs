using System.Diagnostics;
using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>
/// ICMP errors to the data network (Fragmentation Needed for a packet too big to encapsulate)
/// come from the core interface's address, which the running daemon follows when the interface
/// is renumbered (rtnetlink address notifications), not only the one it found at start.
/// </summary>
public class IcmpSourceTests
{
    [SkippableFact]
    public void RenumberingTheCoreInterface_MovesTheDatapathsIcmpSource()
    {
        Privileged.Require();
        using var d = LabDaemon.Start();
        using var config = BpfMap<uint, GtpConfigEntry>.OpenPinned(Path.Combine(d.PinRoot, "maps", "config"));
        IPAddress Source() => new(BitConverter.GetBytes(config.Lookup(0).Icmp4Src));
        Assert.Equal(IPAddress.Parse(LabDaemon.N6), Source());

        // Deleted first: deleting a primary address takes the secondaries of its subnet with it.
        d.Gateway.Run("ip", "addr", "del", LabDaemon.N6 + "/24", "dev", "n6");
        d.Gateway.Run("ip", "addr", "add", "203.0.113.9/24", "dev", "n6");

        var renumbered = IPAddress.Parse("203.0.113.9");
        var clock = Stopwatch.StartNew();
        while (!Source().Equals(renumbered) && clock.Elapsed < TimeSpan.FromSeconds(5))
            Thread.Sleep(20);
        Assert.Equal(renumbered, Source());
        // The daemon logs it just after the write; its output reaches d.Log a moment later.
        const string Logged = "ICMP errors to the data network now come from n6's addresses: 203.0.113.9";
        while (!d.Log.Contains(Logged, StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(10))
            Thread.Sleep(20);
        Assert.Contains(Logged, d.Log);
    }
}

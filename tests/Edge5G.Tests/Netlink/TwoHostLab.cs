using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Netlink;

namespace LoxiLb.Edge5G.Tests.Netlink;

/// <summary>
/// Host A and host B joined by one veth pair carrying three documentation subnets:
/// 198.51.100.0/24, 203.0.113.0/25 and 2001:db8:1::/64 (.1 / ::1 on A, .2 / ::2 on B).
/// DAD is off in both namespaces, so IPv6 addresses (link-local included) are usable at
/// once: Linux does not send neighbour solicitations while the link-local address is tentative.
/// </summary>
internal sealed class TwoHostLab : IDisposable
{
    public const string DevA = "e5g-a0";
    public const string DevB = "e5g-b0";
    public static readonly IPAddress A4 = IPAddress.Parse("198.51.100.1");
    public static readonly IPAddress B4 = IPAddress.Parse("198.51.100.2");
    public static readonly IPAddress GatewayB4 = IPAddress.Parse("203.0.113.2");
    public static readonly IPAddress A6 = IPAddress.Parse("2001:db8:1::1");
    public static readonly IPAddress B6 = IPAddress.Parse("2001:db8:1::2");

    public TwoHostLab()
    {
        Lab = new LabNetwork();
        try
        {
            A = Lab.AddNamespace("a");
            B = Lab.AddNamespace("b");
            foreach (var ns in new[] { A, B })
                ns.Run("sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0");
            Lab.AddVeth(A, DevA, B, DevB,
                ["198.51.100.1/24", "203.0.113.1/25", "2001:db8:1::1/64"],
                ["198.51.100.2/24", "203.0.113.2/25", "2001:db8:1::2/64"]);
            // Let both ends settle, so late address and route notifications cannot leak
            // into a test's monitor, and neighbour solicitation works from the start.
            LinkLocalA = LinkLocal(A, DevA);
            LinkLocalB = LinkLocal(B, DevB);
            MacA = PhysicalAddress.Parse(A.MacAddress(DevA));
            MacB = PhysicalAddress.Parse(B.MacAddress(DevB));
            IfindexA = A.InterfaceIndex(DevA);
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    public LabNetwork Lab { get; }
    public NetworkNamespace A { get; }
    public NetworkNamespace B { get; }
    public PhysicalAddress MacA { get; }
    public PhysicalAddress MacB { get; }
    public int IfindexA { get; }

    /// <summary>A resolver created inside A: it keeps querying A after the thread has left.</summary>
    public RouteResolver ResolverInA()
    {
        using (A.Enter())
            return new RouteResolver();
    }

    public IPAddress LinkLocalA { get; }
    public IPAddress LinkLocalB { get; }

    /// <summary>
    /// The interface's IPv6 link-local address once usable. The kernel adds it when the link
    /// reports carrier (linkwatch, asynchronous) and clears "tentative" a moment later.
    /// </summary>
    private static IPAddress LinkLocal(NetworkNamespace ns, string dev)
    {
        IPAddress? address = null;
        Eventually(() =>
        {
            var json = ns.Run("ip", "-j", "-6", "addr", "show", "dev", dev, "scope", "link").StandardOutput;
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            // ip's JSON keeps an empty object for each address the scope filter hides.
            foreach (var info in doc.RootElement[0].GetProperty("addr_info").EnumerateArray())
                if (info.TryGetProperty("local", out var local) && !info.TryGetProperty("tentative", out _))
                    address = IPAddress.Parse(local.GetString()!);
            return address is not null;
        }, TimeSpan.FromSeconds(3));
        return address ?? throw new LabException($"{dev} in {ns.Name} has no usable IPv6 link-local address");
    }

    /// <summary>A permanent neighbour entry on A (`ip neigh replace ... nud permanent`).</summary>
    public void StaticNeighbourOnA(IPAddress address, PhysicalAddress mac) =>
        A.Run("ip", "neigh", "replace", address.ToString(), "lladdr", MacText(mac), "dev", DevA, "nud", "permanent");

    public static string MacText(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2")));

    /// <summary>Polls <paramref name="condition"/> until true or the time is up; returns its last value.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (condition())
                return true;
            if (clock.Elapsed > within)
                return false;
            Thread.Sleep(20);
        }
    }

    public void Dispose() => Lab.Dispose();
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LoxiLb.Edge5G.Datapath.Model;

/// <summary>
/// Framed routes (networks behind a UE) in the two text forms they arrive in: the prefix form
/// of rules files and the REST API ("198.51.100.0/24"), and the RADIUS attribute text PFCP
/// carries (Framed-Route, RFC 2865 5.22: "prefix[/len] gateway metrics"; Framed-IPv6-Route,
/// RFC 3162 2.5: "prefix/len gateway metrics"). Only the prefix is used: the UE is the next
/// hop of its own networks.
/// </summary>
public static class FramedRoutes
{
    /// <summary>"address/length", with no bits set past the length, of a length from 1 to 32 (IPv4) or 128 (IPv6).</summary>
    public static IPNetwork ParsePrefix(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0)
            throw new FormatException($"framed route '{text}' is not a prefix (address/length)");
        return Prefix(text, text[..slash], text[(slash + 1)..], requiredFamily: null);
    }

    /// <summary>The route in a Framed-Route (<paramref name="ipv6"/> false) or Framed-IPv6-Route value.</summary>
    public static IPNetwork ParseRadius(string value, bool ipv6)
    {
        var text = value.Trim('\0', ' ');
        var first = text.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        if (first.Length == 0)
            throw new FormatException($"{(ipv6 ? "Framed-IPv6-Route" : "Framed-Route")} is empty");
        var slash = first.IndexOf('/');
        var family = ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        // A prefix without a length is one host (RFC 2865 leaves the length optional).
        return slash < 0
            ? Prefix(value, first, ipv6 ? "128" : "32", family)
            : Prefix(value, first[..slash], first[(slash + 1)..], family);
    }

    private static IPNetwork Prefix(string text, string address, string length, AddressFamily? requiredFamily)
    {
        if (!IPAddress.TryParse(address, out var ip) || ip.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || address.Contains('%'))
            throw new FormatException($"framed route '{text}': '{address}' is not an IP address");
        if (requiredFamily is { } family && ip.AddressFamily != family)
            throw new FormatException($"framed route '{text}': {(family == AddressFamily.InterNetwork ? "Framed-Route holds IPv4" : "Framed-IPv6-Route holds IPv6")} routes");
        var max = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (!int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var bits) || bits > max)
            throw new FormatException($"framed route '{text}': prefix length '{length}' is not a number from 1 to {max}");
        if (bits == 0)
            throw new FormatException($"framed route '{text}': a route of length 0 would take every destination");
        var network = new IPNetwork(Masked(ip, bits), bits);
        if (!network.BaseAddress.Equals(ip))
            throw new FormatException($"framed route '{text}': bits are set past the prefix length (the network is {network})");
        return network;
    }

    private static IPAddress Masked(IPAddress ip, int bits)
    {
        var bytes = ip.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - 8 * i, 0, 8);
            bytes[i] &= (byte)(0xff00 >> keep);
        }
        return new IPAddress(bytes);
    }
}

using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LoxiLb.Edge5G.Datapath.Sdf;

/// <summary>"in" describes uplink packets (UE to network), "out" downlink ones (TS 29.212 5.4.2).</summary>
public enum FlowDirection { In, Out }

public readonly record struct PortRange(ushort Min, ushort Max)
{
    public static readonly PortRange Any = new(0, ushort.MaxValue);
    public override string ToString() => Min == Max ? Min.ToString(CultureInfo.InvariantCulture) : $"{Min}-{Max}";
}

public enum EndpointKind
{
    /// <summary>any address</summary>
    Any,
    /// <summary>the UE's address ("assigned")</summary>
    Assigned,
    /// <summary>an address or prefix</summary>
    Prefix,
}

/// <summary>One side of a flow description: address (or any / assigned) and ports.</summary>
public sealed record FlowEndpoint(EndpointKind Kind, IPAddress? Address, int PrefixLength, ImmutableArray<PortRange> Ports)
{
    public static FlowEndpoint AnyEndpoint { get; } = new(EndpointKind.Any, null, 0, [PortRange.Any]);
}

/// <summary>A parsed IPFilterRule as SMFs send it in PFCP SDF filters.</summary>
public sealed record FlowDescription(FlowDirection Direction, byte Protocol, FlowEndpoint From, FlowEndpoint To)
{
    /// <summary>
    /// Parses "permit out 17 from 198.51.100.0/24 5000-5100 to assigned". Supported: action
    /// permit; direction in/out; protocol "ip", a number or tcp/udp/icmp/sctp/icmpv6; addresses
    /// any, assigned, IPv4/IPv6 with optional prefix length; port lists of numbers and ranges.
    /// Anything else is refused with the reason.
    /// </summary>
    public static FlowDescription Parse(string text)
    {
        var tokens = new Queue<string>(text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        string Next(string expected) =>
            tokens.Count > 0 ? tokens.Dequeue() : throw new FormatException($"flow description '{text}' ends where {expected} was expected");

        var action = Next("'permit'");
        if (action != "permit")
            throw new FormatException($"flow description '{text}': action '{action}' is not supported (only 'permit')");
        var direction = Next("'in' or 'out'") switch
        {
            "in" => FlowDirection.In,
            "out" => FlowDirection.Out,
            var d => throw new FormatException($"flow description '{text}': direction '{d}' must be 'in' or 'out'"),
        };
        var protocol = ParseProtocol(Next("a protocol"), text);
        if (Next("'from'") is var f && f != "from")
            throw new FormatException($"flow description '{text}': expected 'from', found '{f}'");
        var from = ParseEndpoint(tokens, text, "to");
        if (Next("'to'") is var t && t != "to")
            throw new FormatException($"flow description '{text}': expected 'to', found '{t}'");
        var to = ParseEndpoint(tokens, text, null);
        if (tokens.Count > 0)
            throw new FormatException($"flow description '{text}': option '{tokens.Peek()}' is not supported");
        if ((from.Ports.Length > 1 || from.Ports[0] != PortRange.Any || to.Ports.Length > 1 || to.Ports[0] != PortRange.Any)
            && protocol is not (6 or 17 or 132 or 0))
            throw new FormatException($"flow description '{text}': ports need protocol tcp, udp or sctp");
        var v4 = new[] { from.Address, to.Address }.Any(a => a?.AddressFamily == AddressFamily.InterNetwork);
        var v6 = new[] { from.Address, to.Address }.Any(a => a?.AddressFamily == AddressFamily.InterNetworkV6);
        if (v4 && v6)
            throw new FormatException($"flow description '{text}': mixes IPv4 and IPv6 addresses");
        return new FlowDescription(direction, protocol, from, to);
    }

    public static bool TryParse(string text, out FlowDescription? flow, out string? error)
    {
        try
        {
            flow = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            flow = null;
            error = e.Message;
            return false;
        }
    }

    private static byte ParseProtocol(string token, string text) => token switch
    {
        "ip" => 0,
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "icmpv6" or "ipv6-icmp" => 58,
        "sctp" => 132,
        _ when byte.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var p) => p,
        _ => throw new FormatException($"flow description '{text}': protocol '{token}' is not 'ip', a name or a number 0-255"),
    };

    private static FlowEndpoint ParseEndpoint(Queue<string> tokens, string text, string? terminator)
    {
        if (tokens.Count == 0)
            throw new FormatException($"flow description '{text}' ends where an address was expected");
        var token = tokens.Dequeue();
        if (token.StartsWith('!'))
            throw new FormatException($"flow description '{text}': negated address '{token}' is not supported");
        EndpointKind kind;
        IPAddress? address = null;
        int prefix = 0;
        if (token == "any")
            kind = EndpointKind.Any;
        else if (token == "assigned")
            kind = EndpointKind.Assigned;
        else
        {
            kind = EndpointKind.Prefix;
            (address, prefix) = ParsePrefix(token, text);
        }
        var ports = ImmutableArray.Create(PortRange.Any);
        if (tokens.Count > 0 && tokens.Peek() != terminator && LooksLikePorts(tokens.Peek()))
            ports = ParsePorts(tokens.Dequeue(), text);
        return new FlowEndpoint(kind, address, prefix, ports);
    }

    private static bool LooksLikePorts(string token) => token.Length > 0 && char.IsAsciiDigit(token[0]) && !token.Contains('.') && !token.Contains(':');

    private static (IPAddress, int) ParsePrefix(string token, string text)
    {
        var slash = token.IndexOf('/');
        var addressText = slash < 0 ? token : token[..slash];
        if (!IPAddress.TryParse(addressText, out var address))
            throw new FormatException($"flow description '{text}': '{token}' is not an address, 'any' or 'assigned'");
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (slash >= 0 && (!int.TryParse(token[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max))
            throw new FormatException($"flow description '{text}': prefix length in '{token}' must be 0-{max}");
        return (address, prefix);
    }

    private static ImmutableArray<PortRange> ParsePorts(string token, string text)
    {
        var ranges = ImmutableArray.CreateBuilder<PortRange>();
        foreach (var part in token.Split(','))
        {
            var dash = part.IndexOf('-');
            var minText = dash < 0 ? part : part[..dash];
            var maxText = dash < 0 ? part : part[(dash + 1)..];
            var ok = ushort.TryParse(minText, NumberStyles.None, CultureInfo.InvariantCulture, out var min)
                   & ushort.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out var max);
            if (!ok || min > max)
                throw new FormatException($"flow description '{text}': '{part}' is not a port or an ascending port range");
            ranges.Add(new PortRange(min, max));
        }
        return ranges.ToImmutable();
    }
}

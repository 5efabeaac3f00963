using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using Microsoft.Extensions.Options;

namespace LoxiLb.Edge5G.Host;

/// <summary>
/// Configuration of `edge5g run`, bound from the configuration file (--config, YAML or JSON),
/// environment variables (EDGE5G_ prefix, "__" for nesting) and command-line options, in
/// rising precedence. deploy/edge5g.yaml documents every key.
/// </summary>
public sealed class GatewayOptions
{
    public const string Section = "Edge5G";

    public InterfaceOptions Interfaces { get; set; } = new();
    public GtpOptions Gtp { get; set; } = new();
    public PfcpOptions Pfcp { get; set; } = new();
    public ApiOptions Api { get; set; } = new();
    public DatapathOptions Datapath { get; set; } = new();
}

public sealed class InterfaceOptions
{
    /// <summary>N3: GTP-U from gNBs.</summary>
    public string? Access { get; set; }
    /// <summary>N6: the data network.</summary>
    public string? Core { get; set; }
    /// <summary>N9: GTP-U to and from other UPFs (optional).</summary>
    public string? N9 { get; set; }
    /// <summary>native (driver) or generic (skb) XDP.</summary>
    public string XdpMode { get; set; } = "native";
}

public sealed class GtpOptions
{
    /// <summary>Our GTP-U addresses on N3 (IPv4 and/or IPv6); F-TEIDs are allocated on them.</summary>
    public List<string> AccessAddresses { get; set; } = [];
    /// <summary>Our GTP-U addresses on N9 (default: the N3 ones).</summary>
    public List<string> CoreAddresses { get; set; } = [];
    /// <summary>An address in the data network whose route N6-bound FARs use (resolved and kept current); empty = FIB per packet.</summary>
    public string? DataNetworkNextHop { get; set; }
    /// <summary>Restart counter in Echo Responses (TS 29.281 asks for 0).</summary>
    public byte Recovery { get; set; }
    /// <summary>Error Indications sent per second at most for G-PDUs with an unknown TEID; 0 = none.</summary>
    public ushort ErrorIndicationRate { get; set; } = GtpDatapathOptions.DefaultErrorIndicationRate;
    /// <summary>
    /// ICMP errors (Fragmentation Needed, Packet Too Big) sent per second at most to the data
    /// network for downlink packets too big once encapsulated, from the core interface's first
    /// IPv4 and first global IPv6 address; 0 = none (such packets are only dropped).
    /// </summary>
    public ushort IcmpErrorRate { get; set; } = GtpDatapathOptions.DefaultIcmpErrorRate;
    /// <summary>
    /// Downlink IPv4 packets without DF, too big once encapsulated, fragmented per second at
    /// most (the datapath hands them to the gateway, which sends the fragments down the
    /// tunnel; the UE reassembles); 0 = none (such packets are dropped).
    /// </summary>
    public ushort FragmentRate { get; set; } = GtpDatapathOptions.DefaultFragmentRate;
    /// <summary>
    /// Downlink packets of buffering FARs (the UE is being paged) handed per second at most to
    /// the gateway, which holds them until the SMF makes the FAR forward (Pfcp.Buffer*); 0 =
    /// none (such packets are dropped, as without buffering). Without PFCP nothing is held.
    /// </summary>
    public ushort BufferRate { get; set; } = GtpDatapathOptions.DefaultBufferRate;
    /// <summary>Seconds between Echo Requests to each GTP-U peer of the sessions (path management); 0 = off.</summary>
    public int EchoInterval { get; set; } = 60;
    /// <summary>Seconds an Echo Request waits for its response before it is sent again.</summary>
    public int EchoTimeout { get; set; } = 3;
    /// <summary>Echo Requests sent (the first and its retransmissions) before a path is declared failed.</summary>
    public int EchoRetries { get; set; } = 3;
}

public sealed class PfcpOptions
{
    /// <summary>N4 address the node listens on (UDP 8805 unless Port says otherwise); empty = PFCP off.</summary>
    public string? Address { get; set; }
    public int Port { get; set; } = 8805;
    /// <summary>Our Node ID (an IPv4/IPv6 address or an FQDN); default: Address.</summary>
    public string? NodeId { get; set; }
    /// <summary>Source prefixes (CIDR) allowed to associate.</summary>
    public List<string> Peers { get; set; } = [];
    /// <summary>SMFs we set up associations towards ourselves (UP-initiated), "address[:port]".</summary>
    public List<string> Smfs { get; set; } = [];
    public int HeartbeatIntervalSeconds { get; set; } = 10;
    public int HeartbeatRetries { get; set; } = 3;
    /// <summary>T1: first retransmission timeout of requests we send.</summary>
    public int T1Milliseconds { get; set; } = 3000;
    /// <summary>N1: retransmissions before giving up.</summary>
    public int N1 { get; set; } = 3;
    /// <summary>What happens to a peer's sessions when its association is lost: keep or purge.</summary>
    public string OnAssociationLoss { get; set; } = "keep";
    /// <summary>UE address pools (CIDR) for CHV4/CHV6.</summary>
    public List<string> UePools { get; set; } = [];
    /// <summary>Downlink packets held per PDR while its FAR buffers (the UE is being paged).</summary>
    public int BufferPackets { get; set; } = 32;
    /// <summary>Octets of held downlink packets over all sessions.</summary>
    public long BufferBytes { get; set; } = 4 << 20;
    /// <summary>Seconds a held packet waits for its FAR to forward.</summary>
    public int BufferSeconds { get; set; } = 30;
}

public sealed class ApiOptions
{
    /// <summary>REST API and /metrics: address:port.</summary>
    public string Listen { get; set; } = "127.0.0.1:11111";
    /// <summary>Bearer token; required when Listen is not a loopback address.</summary>
    public string? Token { get; set; }
}

public sealed class DatapathOptions
{
    public uint Sessions { get; set; } = 65536;
    /// <summary>bpffs directory for pinned maps and links.</summary>
    public string PinRoot { get; set; } = BpfPins.DefaultRoot;
    /// <summary>Keep the datapath (pinned maps and attached links) forwarding when the daemon stops.</summary>
    public bool KeepOnStop { get; set; } = true;
    /// <summary>Where the session state is saved for a restarted daemon to adopt.</summary>
    public string StateDirectory { get; set; } = "/var/lib/edge5g";
}

/// <summary>Checks the whole configuration at start and names every problem.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Interfaces.Access))
            problems.Add("Interfaces.Access: the N3 interface is required (--access IF)");
        if (string.IsNullOrWhiteSpace(o.Interfaces.Core))
            problems.Add("Interfaces.Core: the N6 interface is required (--core IF)");
        if (o.Interfaces.XdpMode is not ("native" or "generic"))
            problems.Add($"Interfaces.XdpMode: '{o.Interfaces.XdpMode}' must be native or generic");
        if (o.Gtp.AccessAddresses.Count == 0)
            problems.Add("Gtp.AccessAddresses: at least one N3 GTP-U address is required");
        foreach (var (list, key) in new[] { (o.Gtp.AccessAddresses, "Gtp.AccessAddresses"), (o.Gtp.CoreAddresses, "Gtp.CoreAddresses") })
            for (int i = 0; i < list.Count; i++)
                if (!Datapath.AddressText.TryParse(list[i], out _))
                    problems.Add($"{key}[{i}]: '{list[i]}' is not an IP address");
        if (o.Gtp.EchoInterval < 0)
            problems.Add($"Gtp.EchoInterval: {o.Gtp.EchoInterval} is negative (0 turns path management off)");
        if (o.Gtp.EchoTimeout < 1)
            problems.Add($"Gtp.EchoTimeout: {o.Gtp.EchoTimeout} must be at least 1 second");
        if (o.Gtp.EchoRetries < 1)
            problems.Add($"Gtp.EchoRetries: {o.Gtp.EchoRetries} must be at least 1");
        if (o.Gtp.DataNetworkNextHop is { Length: > 0 } dn && !Datapath.AddressText.TryParse(dn, out _))
            problems.Add($"Gtp.DataNetworkNextHop: '{dn}' is not an IP address");
        if (o.Pfcp.Address is { Length: > 0 } a && !Datapath.AddressText.TryParse(a, out _))
            problems.Add($"Pfcp.Address: '{a}' is not an IP address");
        if (o.Pfcp.Port is < 1 or > 65535)
            problems.Add($"Pfcp.Port: {o.Pfcp.Port} is not a UDP port");
        for (int i = 0; i < o.Pfcp.Peers.Count; i++)
            if (!Cidr.TryParse(o.Pfcp.Peers[i], out _))
                problems.Add($"Pfcp.Peers[{i}]: '{o.Pfcp.Peers[i]}' is not an address or CIDR prefix");
        for (int i = 0; i < o.Pfcp.Smfs.Count; i++)
            if (!IPEndPoint.TryParse(o.Pfcp.Smfs[i], out _))
                problems.Add($"Pfcp.Smfs[{i}]: '{o.Pfcp.Smfs[i]}' is not address[:port]");
        for (int i = 0; i < o.Pfcp.UePools.Count; i++)
            if (!Cidr.TryParse(o.Pfcp.UePools[i], out _))
                problems.Add($"Pfcp.UePools[{i}]: '{o.Pfcp.UePools[i]}' is not a CIDR prefix");
        if (o.Pfcp.HeartbeatIntervalSeconds < 1)
            problems.Add($"Pfcp.HeartbeatIntervalSeconds: {o.Pfcp.HeartbeatIntervalSeconds} must be at least 1");
        if (o.Pfcp.HeartbeatRetries < 1)
            problems.Add($"Pfcp.HeartbeatRetries: {o.Pfcp.HeartbeatRetries} must be at least 1");
        if (o.Pfcp.T1Milliseconds < 10)
            problems.Add($"Pfcp.T1Milliseconds: {o.Pfcp.T1Milliseconds} must be at least 10");
        if (o.Pfcp.N1 < 0)
            problems.Add($"Pfcp.N1: {o.Pfcp.N1} must be at least 0");
        if (o.Pfcp.OnAssociationLoss is not ("keep" or "purge"))
            problems.Add($"Pfcp.OnAssociationLoss: '{o.Pfcp.OnAssociationLoss}' must be keep or purge");
        if (o.Pfcp.BufferPackets < 0)
            problems.Add($"Pfcp.BufferPackets: {o.Pfcp.BufferPackets} must be at least 0");
        if (o.Pfcp.BufferBytes < 0)
            problems.Add($"Pfcp.BufferBytes: {o.Pfcp.BufferBytes} must be at least 0");
        if (o.Pfcp.BufferSeconds < 1)
            problems.Add($"Pfcp.BufferSeconds: {o.Pfcp.BufferSeconds} must be at least 1");
        if (!TryParseEndpoint(o.Api.Listen, out var api))
            problems.Add($"Api.Listen: '{o.Api.Listen}' is not address:port");
        else if (!IPAddress.IsLoopback(api!.Address) && string.IsNullOrEmpty(o.Api.Token))
            problems.Add($"Api.Token: listening on {api} (not loopback) requires a bearer token");
        if (o.Datapath.Sessions is < 1 or > 4_000_000)
            problems.Add($"Datapath.Sessions: {o.Datapath.Sessions} must be 1..4000000");
        if (!o.Datapath.PinRoot.StartsWith('/'))
            problems.Add($"Datapath.PinRoot: '{o.Datapath.PinRoot}' must be an absolute path on bpffs");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static bool TryParseEndpoint(string text, out IPEndPoint? endpoint) => IPEndPoint.TryParse(text, out endpoint) && endpoint.Port != 0;
}

/// <summary>An IPv4 or IPv6 prefix.</summary>
public readonly record struct Cidr(IPAddress Network, int Length)
{
    public static bool TryParse(string text, out Cidr cidr)
    {
        cidr = default;
        var slash = text.IndexOf('/');
        if (!Datapath.AddressText.TryParse(slash < 0 ? text : text[..slash], out var address))
            return false;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], out length) || length < 0 || length > max))
            return false;
        cidr = new Cidr(address, length);
        return true;
    }

    public static Cidr Parse(string text) => TryParse(text, out var c) ? c : throw new FormatException($"'{text}' is not a CIDR prefix");

    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != Network.AddressFamily)
            return false;
        var n = Network.GetAddressBytes();
        var a = address.GetAddressBytes();
        for (int i = 0; i < n.Length; i++)
        {
            var bits = Math.Clamp(Length - i * 8, 0, 8);
            var mask = (byte)(0xff << (8 - bits));
            if ((n[i] & mask) != (a[i] & mask))
                return false;
        }
        return true;
    }

    public override string ToString() => $"{Network}/{Length}";
}

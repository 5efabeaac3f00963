using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using System.Text.Json.Serialization;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;

namespace LoxiLb.Edge5G.Datapath.Json;

// The JSON form of sessions and their rules: rules files (edge5g replay --rules) and the REST
// API use it. Names follow TS 29.244; enums are lower-case strings; TEIDs accept a number or
// a "0x..." string. Converting to the model checks every field and names the bad one.

public sealed record FTeidJson(JsonElement Teid, string? Ipv4 = null, string? Ipv6 = null);

public sealed record PdrJson(
    ushort Id,
    uint Precedence,
    string SourceInterface,
    uint FarId,
    FTeidJson? Fteid = null,
    string? UeIpv4 = null,
    string? UeIpv6 = null,
    string[]? SdfFilters = null,
    byte? Qfi = null,
    bool RemoveOuterHeader = false,
    uint[]? QerIds = null,
    uint[]? UrrIds = null,
    string? NetworkInstance = null,
    // Written only when set: a used-up quota (PFCP sets it; a rules file may too) drops the PDR's packets.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool QuotaExhausted = false,
    // Networks behind the UE ("198.51.100.0/24"): downlink to them, uplink from them.
    string[]? FramedRoutes = null);

public sealed record OuterHeaderJson(JsonElement Teid, string Peer);

public sealed record FarJson(
    uint Id,
    string[] Action,
    string? DestinationInterface = null,
    OuterHeaderJson? OuterHeader = null,
    byte? Tos = null,
    string? NetworkInstance = null);

public sealed record QerJson(uint Id, string UplinkGate = "open", string DownlinkGate = "open", ulong? UplinkMbrKbps = null,
    ulong? DownlinkMbrKbps = null, byte? Qfi = null);

public sealed record UrrJson(uint Id, ulong? VolumeThreshold = null, ulong? VolumeQuota = null, uint? TimeThreshold = null,
    uint? MeasurementPeriod = null);

public sealed record SessionJson(
    JsonElement Seid,
    PdrJson[] Pdrs,
    FarJson[] Fars,
    QerJson[]? Qers = null,
    UrrJson[]? Urrs = null,
    string? Name = null);

public sealed record InterfaceJson(string Name, string[] Roles);

public sealed record RouteJson(string Prefix, string SourceMac, string DestinationMac, string? Interface = null, ushort Mtu = 1500);

/// <summary>Our addresses: GTP-U on N3 (access) and N9 (core), and on N6 (dataNetwork: the
/// source of ICMP errors to the data network, the first of each family).</summary>
public sealed record AddressesJson(string[]? Access = null, string[]? Core = null, string[]? DataNetwork = null);

/// <summary>A rules file: our GTP-U addresses, interface roles, static routes, sessions.</summary>
public sealed record RulesDocument(
    AddressesJson? Addresses = null,
    InterfaceJson[]? Interfaces = null,
    RouteJson[]? Routes = null,
    SessionJson[]? Sessions = null,
    byte Recovery = 0)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    public static RulesDocument Load(string path)
    {
        if (!File.Exists(path))
            throw new RulesFormatException(path, $"rules file '{path}' does not exist");
        try
        {
            return JsonSerializer.Deserialize<RulesDocument>(File.ReadAllText(path), JsonOptions)
                ?? throw new RulesFormatException(path, "the rules file is empty");
        }
        catch (JsonException e)
        {
            throw new RulesFormatException(path, $"{path}: {e.Message}");
        }
    }

    public GtpAddresses GtpAddresses()
    {
        var access = (Addresses?.Access ?? []).Select((a, i) => RulesJson.Address(a, $"addresses.access[{i}]")).ToArray();
        var core = (Addresses?.Core ?? []).Select((a, i) => RulesJson.Address(a, $"addresses.core[{i}]")).ToArray();
        return new GtpAddresses(
            access.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            access.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6),
            core.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            core.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6));
    }

    /// <summary>The first IPv4 and IPv6 address of addresses.dataNetwork (null where none).</summary>
    public (IPAddress? Ipv4, IPAddress? Ipv6) DataNetworkAddresses()
    {
        var n6 = (Addresses?.DataNetwork ?? []).Select((a, i) => RulesJson.Address(a, $"addresses.dataNetwork[{i}]")).ToArray();
        return (n6.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            n6.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6));
    }

    public IReadOnlyList<StaticRoute> StaticRoutes(Func<string?, int> ifindexOf) =>
        (Routes ?? []).Select((r, i) => new StaticRoute(r.Prefix, ifindexOf(r.Interface),
            RulesJson.Mac(r.SourceMac, $"routes[{i}].sourceMac"), RulesJson.Mac(r.DestinationMac, $"routes[{i}].destinationMac"), r.Mtu)).ToArray();

    public IReadOnlyList<Session> ToSessions() => (Sessions ?? []).Select((s, i) => RulesJson.ToModel(s, $"sessions[{i}]")).ToArray();
}

public sealed class RulesFormatException(string where, string message) : Exception(message)
{
    public string Where { get; } = where;
}

/// <summary>Conversions between the JSON form and the rule model.</summary>
public static class RulesJson
{
    public static Session ToModel(SessionJson s, string path)
    {
        var pdrs = (s.Pdrs ?? []).Select((p, i) => ToModel(p, $"{path}.pdrs[{i}]")).ToImmutableArray();
        var fars = (s.Fars ?? []).Select((f, i) => ToModel(f, $"{path}.fars[{i}]")).ToImmutableArray();
        var qers = (s.Qers ?? []).Select((q, i) => new Qer(q.Id, Gate(q.UplinkGate, $"{path}.qers[{i}].uplinkGate"),
            Gate(q.DownlinkGate, $"{path}.qers[{i}].downlinkGate"), q.UplinkMbrKbps, q.DownlinkMbrKbps, q.Qfi)).ToImmutableArray();
        var urrs = (s.Urrs ?? []).Select(u => new Urr(u.Id, VolumeThreshold: u.VolumeThreshold, VolumeQuota: u.VolumeQuota,
            TimeThreshold: u.TimeThreshold, MeasurementPeriod: u.MeasurementPeriod)).ToImmutableArray();
        return new Session(Number64(s.Seid, $"{path}.seid"), pdrs, fars, qers, urrs, Name: s.Name);
    }

    private static Pdr ToModel(PdrJson p, string path) =>
        new(p.Id, p.Precedence,
            new Pdi(Interface(p.SourceInterface, $"{path}.sourceInterface"),
                p.Fteid is { } f ? new FTeid(Number32(f.Teid, $"{path}.fteid.teid"),
                    f.Ipv4 is null ? null : Address(f.Ipv4, $"{path}.fteid.ipv4"),
                    f.Ipv6 is null ? null : Address(f.Ipv6, $"{path}.fteid.ipv6")) : null,
                p.UeIpv4 is null ? null : Address(p.UeIpv4, $"{path}.ueIpv4"),
                p.UeIpv6 is null ? null : Address(p.UeIpv6, $"{path}.ueIpv6"),
                (p.SdfFilters ?? []).Select(f => new SdfFilter(f)).ToImmutableArray(),
                p.Qfi, p.NetworkInstance,
                (p.FramedRoutes ?? []).Select((r, i) => Route(r, $"{path}.framedRoutes[{i}]")).ToImmutableArray()),
            p.FarId, p.RemoveOuterHeader,
            (p.QerIds ?? []).ToImmutableArray(), (p.UrrIds ?? []).ToImmutableArray(), p.QuotaExhausted);

    private static Far ToModel(FarJson f, string path)
    {
        ApplyAction action = 0;
        foreach (var a in f.Action ?? [])
            action |= a.ToLowerInvariant() switch
            {
                "drop" => ApplyAction.Drop,
                "forward" or "forw" => ApplyAction.Forward,
                "buffer" or "buff" => ApplyAction.Buffer,
                "notify" or "nocp" => ApplyAction.NotifyCp,
                _ => throw new RulesFormatException(path, $"{path}.action: '{a}' is not one of drop, forward, buffer, notify"),
            };
        ForwardingParameters? fp = null;
        if (f.DestinationInterface is not null)
            fp = new ForwardingParameters(Interface(f.DestinationInterface, $"{path}.destinationInterface"),
                f.OuterHeader is { } o ? new OuterHeaderCreation(Number32(o.Teid, $"{path}.outerHeader.teid"), Address(o.Peer, $"{path}.outerHeader.peer")) : null,
                f.NetworkInstance, f.Tos);
        return new Far(f.Id, action, fp);
    }

    public static SessionJson FromModel(Session s) => new(
        JsonSerializer.SerializeToElement(s.Seid),
        s.Pdrs.Select(p => new PdrJson(p.Id, p.Precedence, Name(p.Pdi.SourceInterface), p.FarId,
            p.Pdi.LocalFTeid is { } f ? new FTeidJson(JsonSerializer.SerializeToElement($"0x{f.Teid:x8}"), f.Ipv4?.ToString(), f.Ipv6?.ToString()) : null,
            p.Pdi.UeIpv4?.ToString(), p.Pdi.UeIpv6?.ToString(),
            p.Pdi.Filters.Length == 0 ? null : p.Pdi.Filters.Select(x => x.FlowDescription ?? "").ToArray(),
            p.Pdi.Qfi, p.RemoveOuterHeader, p.Qers.Length == 0 ? null : p.Qers.ToArray(), p.Urrs.Length == 0 ? null : p.Urrs.ToArray(),
            p.Pdi.NetworkInstance, p.QuotaExhausted,
            p.Pdi.Routes.Length == 0 ? null : p.Pdi.Routes.Select(r => r.ToString()).ToArray())).ToArray(),
        s.Fars.Select(f => new FarJson(f.Id, Actions(f.Action),
            f.Forwarding is { } fp ? Name(fp.DestinationInterface) : null,
            f.Forwarding?.OuterHeader is { } o ? new OuterHeaderJson(JsonSerializer.SerializeToElement($"0x{o.Teid:x8}"), o.Peer.ToString()) : null,
            f.Forwarding?.TransportLevelMarking, f.Forwarding?.NetworkInstance)).ToArray(),
        s.QerList.Length == 0 ? null : s.QerList.Select(q => new QerJson(q.Id, Name(q.UplinkGate), Name(q.DownlinkGate), q.UplinkMbrKbps, q.DownlinkMbrKbps, q.Qfi)).ToArray(),
        s.UrrList.Length == 0 ? null : s.UrrList.Select(u => new UrrJson(u.Id, u.VolumeThreshold, u.VolumeQuota, u.TimeThreshold, u.MeasurementPeriod)).ToArray(),
        s.Name);

    private static string[] Actions(ApplyAction a)
    {
        var list = new List<string>();
        if (a.HasFlag(ApplyAction.Drop)) list.Add("drop");
        if (a.HasFlag(ApplyAction.Forward)) list.Add("forward");
        if (a.HasFlag(ApplyAction.Buffer)) list.Add("buffer");
        if (a.HasFlag(ApplyAction.NotifyCp)) list.Add("notify");
        return list.ToArray();
    }

    private static string Name(InterfaceType t) => t switch
    {
        InterfaceType.Access => "access",
        InterfaceType.Core => "core",
        InterfaceType.SgiLan => "sgi-lan",
        _ => "cp-function",
    };

    private static string Name(GateStatus g) => g == GateStatus.Open ? "open" : "closed";

    public static InterfaceType Interface(string value, string path) => value.ToLowerInvariant() switch
    {
        "access" => InterfaceType.Access,
        "core" => InterfaceType.Core,
        "sgi-lan" or "n6-lan" => InterfaceType.SgiLan,
        "cp-function" => InterfaceType.CpFunction,
        _ => throw new RulesFormatException(path, $"{path}: '{value}' is not one of access, core, sgi-lan, cp-function"),
    };

    private static GateStatus Gate(string value, string path) => value.ToLowerInvariant() switch
    {
        "open" => GateStatus.Open,
        "closed" => GateStatus.Closed,
        _ => throw new RulesFormatException(path, $"{path}: '{value}' is not 'open' or 'closed'"),
    };

    public static IPAddress Address(string value, string path) =>
        AddressText.TryParse(value, out var a) ? a : throw new RulesFormatException(path, $"{path}: '{value}' is not an IPv4 or IPv6 address");

    public static IPNetwork Route(string value, string path)
    {
        try
        {
            return FramedRoutes.ParsePrefix(value);
        }
        catch (FormatException e)
        {
            throw new RulesFormatException(path, $"{path}: {e.Message}");
        }
    }

    public static PhysicalAddress Mac(string value, string path)
    {
        try
        {
            return PhysicalAddress.Parse(value.Replace(':', '-'));
        }
        catch (FormatException)
        {
            throw new RulesFormatException(path, $"{path}: '{value}' is not a MAC address");
        }
    }

    public static uint Number32(JsonElement value, string path) =>
        Number(value, path) is var n && n <= uint.MaxValue ? (uint)n : throw new RulesFormatException(path, $"{path}: {n} does not fit in 32 bits");

    public static ulong Number64(JsonElement value, string path) => Number(value, path);

    private static ulong Number(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var n))
            return n;
        if (value.ValueKind == JsonValueKind.String)
        {
            var s = value.GetString()!;
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.TryParse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out n)
                : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n))
                return n;
        }
        throw new RulesFormatException(path, $"{path}: {value.GetRawText()} is not a non-negative number or a \"0x...\" string");
    }
}

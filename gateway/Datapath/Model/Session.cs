using System.Collections.Immutable;
using System.Net;

namespace LoxiLb.Edge5G.Datapath.Model;

// The one rule model every front end compiles into (PFCP, REST, LoxiLB-style sessions, rules
// files). Terms and numbering follow 3GPP TS 29.244; the Datapath compiler turns it into map
// entries. Immutable: a change is a new Session value.

/// <summary>Source/destination interface values of TS 29.244 8.2.2 / 8.2.24.</summary>
public enum InterfaceType : byte
{
    Access = 0,
    Core = 1,
    SgiLan = 2,
    CpFunction = 3,
}

/// <summary>A local or remote GTP-U tunnel endpoint: TEID and IPv4 and/or IPv6 address.</summary>
public sealed record FTeid(uint Teid, IPAddress? Ipv4 = null, IPAddress? Ipv6 = null)
{
    public IEnumerable<IPAddress> Addresses => new[] { Ipv4, Ipv6 }.OfType<IPAddress>();

    public override string ToString() => $"0x{Teid:x8}@{string.Join(",", Addresses)}";
}

/// <summary>
/// An SDF filter: a Flow-Description (IPFilterRule, TS 29.212 5.4.2) and optionally a
/// ToS/Traffic Class value and mask (TS 29.244 8.2.5).
/// </summary>
public sealed record SdfFilter(string? FlowDescription, byte? Tos = null, byte? TosMask = null, uint? FilterId = null);

/// <summary>
/// Packet Detection Information. <paramref name="FramedRoutes"/>: networks behind the UE
/// (Framed-Route, Framed-IPv6-Route; TS 29.244 5.2.1A): a downlink PDR also detects packets
/// to them, an uplink PDR naming the UE address also accepts packets from them.
/// </summary>
public sealed record Pdi(
    InterfaceType SourceInterface,
    FTeid? LocalFTeid = null,
    IPAddress? UeIpv4 = null,
    IPAddress? UeIpv6 = null,
    ImmutableArray<SdfFilter> SdfFilters = default,
    byte? Qfi = null,
    string? NetworkInstance = null,
    ImmutableArray<IPNetwork> FramedRoutes = default)
{
    public ImmutableArray<SdfFilter> Filters => SdfFilters.IsDefault ? [] : SdfFilters;
    public ImmutableArray<IPNetwork> Routes => FramedRoutes.IsDefault ? [] : FramedRoutes;
}

/// <summary>
/// Packet Detection Rule. <paramref name="QuotaExhausted"/>: a volume quota of one of its URRs
/// is used up, so its packets are dropped (counted as drop-quota) whatever its FAR says.
/// </summary>
public sealed record Pdr(
    ushort Id,
    uint Precedence,
    Pdi Pdi,
    uint FarId,
    bool RemoveOuterHeader = false,
    ImmutableArray<uint> QerIds = default,
    ImmutableArray<uint> UrrIds = default,
    bool QuotaExhausted = false)
{
    public ImmutableArray<uint> Qers => QerIds.IsDefault ? [] : QerIds;
    public ImmutableArray<uint> Urrs => UrrIds.IsDefault ? [] : UrrIds;
}

/// <summary>Apply Action bits of TS 29.244 8.2.26 (first octet).</summary>
[Flags]
public enum ApplyAction : ushort
{
    Drop = 1,
    Forward = 2,
    Buffer = 4,
    NotifyCp = 8,
    Duplicate = 16,
}

/// <summary>GTP-U outer header to push: TEID and peer address (its family picks IPv4 or IPv6).</summary>
public sealed record OuterHeaderCreation(uint Teid, IPAddress Peer);

public sealed record ForwardingParameters(
    InterfaceType DestinationInterface,
    OuterHeaderCreation? OuterHeader = null,
    string? NetworkInstance = null,
    byte? TransportLevelMarking = null);

/// <summary>Forwarding Action Rule.</summary>
public sealed record Far(uint Id, ApplyAction Action, ForwardingParameters? Forwarding = null);

public enum GateStatus : byte
{
    Open = 0,
    Closed = 1,
}

/// <summary>QoS Enforcement Rule: gates and MBR per direction (kbit/s, as in PFCP), QFI to mark.</summary>
public sealed record Qer(
    uint Id,
    GateStatus UplinkGate = GateStatus.Open,
    GateStatus DownlinkGate = GateStatus.Open,
    ulong? UplinkMbrKbps = null,
    ulong? DownlinkMbrKbps = null,
    byte? Qfi = null);

/// <summary>Usage Reporting Rule (volume measurement; thresholds and quotas in bytes, times in seconds).</summary>
public sealed record Urr(
    uint Id,
    bool MeasureVolume = true,
    bool MeasureDuration = false,
    ulong? VolumeThreshold = null,
    ulong? VolumeQuota = null,
    uint? TimeThreshold = null,
    uint? MeasurementPeriod = null);

/// <summary>A PFCP session: its local SEID, the peer's F-SEID, and its rules.</summary>
public sealed record Session(
    ulong Seid,
    ImmutableArray<Pdr> Pdrs,
    ImmutableArray<Far> Fars,
    ImmutableArray<Qer> Qers = default,
    ImmutableArray<Urr> Urrs = default,
    ulong PeerSeid = 0,
    IPAddress? PeerAddress = null,
    string? Name = null)
{
    public ImmutableArray<Qer> QerList => Qers.IsDefault ? [] : Qers;
    public ImmutableArray<Urr> UrrList => Urrs.IsDefault ? [] : Urrs;
}

using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;
using M = LoxiLb.Edge5G.Datapath.Model;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>A request the node refuses: the cause and, where there is one, the offending IE or failed rule.</summary>
public sealed class PfcpRefusal(PfcpCause cause, string message, ushort? offendingIe = null, FailedRuleId? failedRule = null) : Exception(message)
{
    public PfcpCause Cause { get; } = cause;
    public ushort? OffendingIe { get; } = offendingIe;
    public FailedRuleId? FailedRule { get; } = failedRule;

    /// <summary>
    /// A map write the kernel refused while the compiler applied a request (it undid what it
    /// had written): the request is refused with System failure, nothing changed.
    /// </summary>
    public static PfcpRefusal From(Bpf.BpfException e) =>
        new(PfcpCause.SystemFailure, $"the datapath refused a map write: {e.Message}");

    /// <summary>The cause a compiler refusal maps to (TS 29.244 7.2.2.4.2 and 8.2.1).</summary>
    public static PfcpRefusal From(RuleException e)
    {
        var failed = ParseRule(e.Rule);
        return e.Error switch
        {
            RuleError.NoResources => new PfcpRefusal(PfcpCause.NoResourcesAvailable, e.Message),
            RuleError.UnknownSession => new PfcpRefusal(PfcpCause.SessionContextNotFound, e.Message),
            _ when failed is not null => new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, e.Message, failedRule: failed),
            _ => new PfcpRefusal(PfcpCause.RequestRejected, e.Message),
        };
    }

    private static FailedRuleId? ParseRule(string? rule)
    {
        if (rule is null)
            return null;
        var parts = rule.Split(' ');
        if (parts.Length != 2 || !uint.TryParse(parts[1], out var id))
            return null;
        return parts[0] switch
        {
            "PDR" => new FailedRuleId(RuleKind.Pdr, id),
            "FAR" => new FailedRuleId(RuleKind.Far, id),
            "QER" => new FailedRuleId(RuleKind.Qer, id),
            "URR" => new FailedRuleId(RuleKind.Urr, id),
            _ => null,
        };
    }
}

/// <summary>
/// The PFCP rules of one session as the SMF last left them (Create + Update - Remove, with
/// CHOOSE already resolved), and their translation into the datapath's rule model.
/// </summary>
public sealed record PfcpRuleSet(
    RuleMap<ushort, CreatePdr> Pdrs,
    RuleMap<uint, CreateFar> Fars,
    RuleMap<uint, CreateQer> Qers,
    RuleMap<uint, CreateUrr> Urrs,
    RuleMap<byte, TrafficEndpoint>? Endpoints = null)
{
    /// <summary>Traffic endpoints (PDI optimisation) by ID: PDRs name one in their PDI instead of repeating its F-TEID, UE addresses...</summary>
    public RuleMap<byte, TrafficEndpoint> TrafficEndpoints => Endpoints ?? RuleMap<byte, TrafficEndpoint>.Empty;

    public static PfcpRuleSet Empty { get; } = new(
        RuleMap<ushort, CreatePdr>.Empty, RuleMap<uint, CreateFar>.Empty,
        RuleMap<uint, CreateQer>.Empty, RuleMap<uint, CreateUrr>.Empty);

    /// <summary>
    /// The rule model of these rules, for the compiler. The PDRs of a URR in
    /// <paramref name="exhaustedUrrs"/> (its volume quota is used up) whose direction the quota
    /// stops take the URR's FAR for the quota action, or are dropped when it names none
    /// (TS 29.244 5.2.2.2.1).
    /// </summary>
    /// <param name="recentLists">the node's last FAR, QER and URR lists, to share when this set's are the same</param>
    /// <param name="rememberLists">whether new lists become the ones to share (establishments, not modifications)</param>
    internal M.Session ToModel(ulong seid, ulong peerSeid, IPAddress? peerAddress, IReadOnlyDictionary<uint, QuotaStop>? exhaustedUrrs = null,
        RecentModelLists? recentLists = null, bool rememberLists = true)
    {
        foreach (var (id, urr) in Urrs)
            if (urr.FarIdForQuotaAction is { } far && !Fars.ContainsKey(far))
                throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                    $"URR {id}: the FAR for its quota action, FAR {far}, does not exist", offendingIe: (ushort)IeType.FarId,
                    failedRule: new FailedRuleId(RuleKind.Urr, id));
        // Plain loops in the order of the ids (the maps' own order): lambdas over this rule set
        // were a closure and a delegate per rule kind per request.
        var pdrs = ImmutableArray.CreateBuilder<M.Pdr>(Pdrs.Count);
        foreach (var (_, p) in Pdrs)
        {
            var pdr = ToModel(WithEndpoint(p));
            pdrs.Add(exhaustedUrrs is { Count: > 0 } exhausted ? WithQuotaAction(pdr, exhausted) : pdr);
        }
        var fars = ImmutableArray.CreateBuilder<M.Far>(Fars.Count);
        foreach (var (_, f) in Fars)
            fars.Add(SharedFars.Get(f, QuotaActionOnly(f.FarId), static (f, quotaActionOnly) => ToModel(f, quotaActionOnly)));
        var qers = ImmutableArray.CreateBuilder<M.Qer>(Qers.Count);
        foreach (var (_, q) in Qers)
            qers.Add(SharedQers.Get(q, false, static (q, _) => ToModel(q)));
        var urrs = ImmutableArray.CreateBuilder<M.Urr>(Urrs.Count);
        foreach (var (_, u) in Urrs)
            urrs.Add(SharedUrrs.Get(u, false, static (u, _) => ToModel(u)));
        return recentLists is null
            ? new(seid, pdrs.MoveToImmutable(), fars.MoveToImmutable(), qers.MoveToImmutable(), urrs.MoveToImmutable(), peerSeid, peerAddress)
            : new(seid, pdrs.MoveToImmutable(), recentLists.Fars.Share(fars.MoveToImmutable(), rememberLists),
                recentLists.Qers.Share(qers.MoveToImmutable(), rememberLists), recentLists.Urrs.Share(urrs.MoveToImmutable(), rememberLists),
                peerSeid, peerAddress);
    }

    // Sessions of one template hold the same FAR, QER and URR records; they share the model objects too.
    private static readonly RecentTranslations<CreateFar, M.Far> SharedFars = new(64);
    private static readonly RecentTranslations<CreateQer, M.Qer> SharedQers = new(64);
    private static readonly RecentTranslations<CreateUrr, M.Urr> SharedUrrs = new(64);

    /// <summary>A FAR that URRs name for their quota action and no PDR names: used only once a quota is used up.</summary>
    private bool QuotaActionOnly(uint farId)
    {
        var forQuota = false;
        foreach (var (_, urr) in Urrs)
            forQuota |= urr.FarIdForQuotaAction == farId;
        if (!forQuota)
            return false;
        foreach (var (_, pdr) in Pdrs)
            if (pdr.FarId == farId)
                return false;
        return true;
    }

    /// <summary>
    /// The PDR with the traffic endpoint its PDI names filled in: the endpoint's local F-TEID,
    /// network instance, UE addresses and QFIs where the PDI has none of its own.
    /// </summary>
    private CreatePdr WithEndpoint(CreatePdr p)
    {
        var ids = p.Pdi.TrafficEndpointIds;
        if (ids.IsEmpty)
            return p;
        if (ids.Count > 1)
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"PDR {p.PdrId}: a PDI naming {ids.Count} traffic endpoints is not supported (one)", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
        if (!TrafficEndpoints.TryGetValue(ids[0], out var te))
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"PDR {p.PdrId}: traffic endpoint {ids[0]} does not exist", offendingIe: (ushort)IeType.TrafficEndpointId,
                failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
        FramedRoutesOf(te.Other, p.PdrId, te.TrafficEndpointId); // refuses a malformed one, naming the endpoint
        var pdi = p.Pdi;
        return p with
        {
            Pdi = pdi with
            {
                // The endpoint's framed routes where the PDI has none of its own.
                Other = HasFramedRoutes(pdi.Other) ? pdi.Other : WithFramedRoutesOf(pdi.Other, te.Other),
                LocalFTeid = pdi.LocalFTeid ?? te.LocalFTeid,
                NetworkInstance = pdi.NetworkInstance ?? te.NetworkInstance,
                UeIpAddresses = pdi.UeIpAddresses.IsEmpty ? te.UeIpAddresses : pdi.UeIpAddresses,
                Qfis = pdi.Qfis.IsEmpty ? te.Qfis : pdi.Qfis,
            },
        };
    }

    /// <summary>A PDR one of whose URRs has used up its quota for the PDR's direction: the URR's quota-action FAR, or dropped.</summary>
    private M.Pdr WithQuotaAction(M.Pdr pdr, IReadOnlyDictionary<uint, QuotaStop> exhausted)
    {
        // Uplink is what comes from the access side, as the usage reports count it.
        var direction = pdr.Pdi.SourceInterface == M.InterfaceType.Access ? QuotaStop.Uplink : QuotaStop.Downlink;
        foreach (var urr in pdr.Urrs)
            if (exhausted.TryGetValue(urr, out var stop) && (stop & direction) != 0)
                return Urrs.TryGetValue(urr, out var rule) && rule.FarIdForQuotaAction is { } far
                    ? pdr with { FarId = far }
                    : pdr with { QuotaExhausted = true };
        return pdr;
    }

    private static M.Pdr ToModel(CreatePdr p)
    {
        var pdi = p.Pdi;
        IPAddress? ue4 = null, ue6 = null;
        foreach (var u in pdi.UeIpAddresses.AsSpan())
        {
            ue4 ??= u.Ipv4;
            ue6 ??= u.Ipv6;
        }
        var filters = pdi.SdfFilters.IsEmpty ? ImmutableArray<M.SdfFilter>.Empty // most PDRs: no iterator to allocate
            : pdi.SdfFilters.Select(f => new M.SdfFilter(f.FlowDescription,
                f.TosTrafficClass is { } t ? (byte)(t >> 8) : null, f.TosTrafficClass is { } m ? (byte)m : null, f.FilterId)).ToImmutableArray();
        if (!pdi.SdfFilters.IsEmpty && pdi.SdfFilters.Any(f => f.SecurityParameterIndex is not null || f.FlowLabel is not null))
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"PDR {p.PdrId}: SDF filters on SPI or flow label are not supported", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
        // Without application detection or Ethernet sessions, a PDR keyed on either would match
        // every packet of its tunnel or UE address: the session's traffic would be charged and
        // forwarded under the application's rule. Refused instead, so the SMF knows.
        if (pdi.ApplicationId is not null)
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"PDR {p.PdrId}: Application ID in the PDI is not supported (no application detection)", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
        var routes = FramedRoutesOf(pdi.Other, p.PdrId, endpoint: null);
        if (Has(pdi.Other, (ushort)IeType.EthernetPacketFilter))
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"PDR {p.PdrId}: Ethernet Packet Filter in the PDI is not supported (IP PDU sessions only)", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
        var removal = p.OuterHeaderRemoval?.Description;
        if (removal is not null and not (OuterHeaderRemovalDescription.GtpuUdpIpv4 or OuterHeaderRemovalDescription.GtpuUdpIpv6 or OuterHeaderRemovalDescription.GtpuUdpIp))
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"PDR {p.PdrId}: outer header removal {removal} is not supported (GTP-U only)", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
        return new M.Pdr(p.PdrId, p.Precedence ?? 0,
            new M.Pdi((M.InterfaceType)Math.Min((byte)pdi.SourceInterface, (byte)3),
                pdi.LocalFTeid is { } f ? new M.FTeid(f.Teid, f.Ipv4, f.Ipv6) : null,
                ue4, ue6, filters, pdi.Qfis.Count > 0 ? pdi.Qfis[0] : null, pdi.NetworkInstance?.Text, routes),
            p.FarId ?? 0, removal is not null, Model(p.QerIds), Model(p.UrrIds));
    }

    private const int SharedIds = 256;
    private static readonly ImmutableArray<uint>[] OneId = [.. Enumerable.Range(0, SharedIds).Select(i => ImmutableArray.Create((uint)i))];

    /// <summary>Rule ids for the model; a single small id shares one array (kept by every session).</summary>
    private static ImmutableArray<uint> Model(ValueList<uint> ids) =>
        ids.Count == 0 ? ImmutableArray<uint>.Empty
        : ids.Count == 1 && ids[0] < SharedIds ? OneId[ids[0]]
        : ids.ToImmutableArray();

    /// <summary>
    /// Forwarding Parameters children that change where or how packets go and that the
    /// datapath cannot do: Redirect Information (38), Forwarding Policy (41), Header
    /// Enrichment (98). Forwarding without them would silently bypass the SMF's policy (a
    /// captive portal, a steering policy), so a FAR carrying one is refused.
    /// </summary>
    private static readonly (ushort Type, string Name)[] UnsupportedForwarding =
        [(38, "Redirect Information"), (41, "Forwarding Policy"), (98, "Header Enrichment")];

    internal static void CheckForwarding(uint farId, ValueList<PfcpIe> other)
    {
        foreach (var (type, name) in UnsupportedForwarding)
            if (Has(other, type))
                throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                    $"FAR {farId}: {name} is not supported (the datapath forwards, it cannot redirect, steer or enrich)",
                    failedRule: new FailedRuleId(RuleKind.Far, farId));
    }

    /// <summary>
    /// The networks behind the UE (framed routing, TS 29.244 5.2.1A; FRRT in our UP Function
    /// Features): each Framed-Route and Framed-IPv6-Route of the PDI, as the RADIUS text it
    /// carries. Framed-Routing (whether the UE sends or listens to routing protocols) is
    /// accepted and not used: the routes are static here. A route that does not parse refuses
    /// the PDR, naming it and the IE, rather than forward part of what the SMF routed here.
    /// </summary>
    private static ImmutableArray<IPNetwork> FramedRoutesOf(ValueList<PfcpIe> other, ushort pdrId, byte? endpoint)
    {
        if (!HasFramedRoutes(other))
            return ImmutableArray<IPNetwork>.Empty; // most PDRs: nothing to allocate
        var routes = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var ie in other.AsSpan())
        {
            if (ie.IsVendorSpecific)
                continue;
            var where = endpoint is { } id ? $"traffic endpoint {id}" : "the PDI";
            try
            {
                switch ((IeType)ie.Type)
                {
                    case IeType.FramedRoute:
                        Add(routes, M.FramedRoutes.ParseRadius(ie.Value.ToLatin1(), ipv6: false));
                        break;
                    case IeType.FramedIpv6Route:
                        Add(routes, M.FramedRoutes.ParseRadius(ie.Value.ToLatin1(), ipv6: true));
                        break;
                    case IeType.FramedRouting when ie.Value.Length != 4:
                        throw new FormatException($"Framed-Routing is {ie.Value.Length} octets long, not 4");
                }
            }
            catch (FormatException e)
            {
                throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, $"PDR {pdrId}: {e.Message} (in {where})",
                    offendingIe: ie.Type, failedRule: new FailedRuleId(RuleKind.Pdr, pdrId));
            }
        }
        return routes.ToImmutable();

        static void Add(ImmutableArray<IPNetwork>.Builder routes, IPNetwork route)
        {
            if (!routes.Contains(route)) // the same network twice is one route
                routes.Add(route);
        }
    }

    private static bool HasFramedRoutes(ValueList<PfcpIe> ies) =>
        Has(ies, (ushort)IeType.FramedRoute) || Has(ies, (ushort)IeType.FramedIpv6Route) || Has(ies, (ushort)IeType.FramedRouting);

    /// <summary><paramref name="ies"/> with the framed-routing IEs of <paramref name="from"/> added.</summary>
    private static ValueList<PfcpIe> WithFramedRoutesOf(ValueList<PfcpIe> ies, ValueList<PfcpIe> from)
    {
        if (!HasFramedRoutes(from))
            return ies;
        var merged = ies;
        foreach (var ie in from.AsSpan())
            if (!ie.IsVendorSpecific && (IeType)ie.Type is IeType.FramedRoute or IeType.FramedIpv6Route or IeType.FramedRouting)
                merged = merged.Add(ie);
        return merged;
    }

    /// <summary>Whether a non-vendor IE of the type is among <paramref name="ies"/> (a loop: this runs per rule per request).</summary>
    private static bool Has(ValueList<PfcpIe> ies, ushort type)
    {
        foreach (var ie in ies.AsSpan())
            if (ie.Type == type && !ie.IsVendorSpecific)
                return true;
        return false;
    }

    /// <summary>
    /// The FAR in the model. A quota-action FAR with Redirect Information (an SMF's Final Unit
    /// Indication "redirect" to a top-up portal) cannot redirect here: it is installed as DROP,
    /// so a user whose quota is used up gets nothing rather than unredirected traffic, and the
    /// session itself is not refused for a FAR it may never use.
    /// </summary>
    private static M.Far ToModel(CreateFar f, bool quotaActionOnly)
    {
        var flags = f.ApplyAction.Flags;
        if (quotaActionOnly && f.ForwardingParameters is { } redirecting && Has(redirecting.Other, (ushort)IeType.RedirectInformation)
            && !Has(redirecting.Other, 41) && !Has(redirecting.Other, 98))
            return new M.Far(f.FarId, M.ApplyAction.Drop);
        if (f.ForwardingParameters is { } forwarding)
            CheckForwarding(f.FarId, forwarding.Other);
        // FORW towards the access side before the SMF knows the gNB's F-TEID (Open5GS sends
        // this at establishment, the Outer Header Creation follows in a modification): there
        // is no tunnel to send into yet, so the datapath drops until the update arrives.
        if ((flags & ApplyActionFlags.Forw) != 0 && f.ForwardingParameters is { DestinationInterface: DestinationInterface.Access, OuterHeaderCreation: null })
            return new M.Far(f.FarId, M.ApplyAction.Drop);
        M.ApplyAction action = 0;
        if ((flags & ApplyActionFlags.Drop) != 0) action |= M.ApplyAction.Drop;
        if ((flags & ApplyActionFlags.Forw) != 0) action |= M.ApplyAction.Forward;
        if ((flags & ApplyActionFlags.Buff) != 0) action |= M.ApplyAction.Buffer;
        if ((flags & ApplyActionFlags.Nocp) != 0) action |= M.ApplyAction.NotifyCp;
        if ((flags & ApplyActionFlags.Dupl) != 0) action |= M.ApplyAction.Duplicate;
        M.ForwardingParameters? fp = null;
        if (f.ForwardingParameters is { } p)
        {
            M.OuterHeaderCreation? ohc = null;
            if (p.OuterHeaderCreation is { } o)
            {
                var peer = (o.Description & OuterHeaderCreationDescription.GtpuUdpIpv4) != 0 ? o.Ipv4
                    : (o.Description & OuterHeaderCreationDescription.GtpuUdpIpv6) != 0 ? o.Ipv6 : null;
                if (peer is null || o.Teid is null)
                    throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                        $"FAR {f.FarId}: outer header creation {o.Description} is not supported (GTP-U/UDP/IPv4 or IPv6 with a TEID)",
                        failedRule: new FailedRuleId(RuleKind.Far, f.FarId));
                ohc = new M.OuterHeaderCreation(o.Teid.Value, peer);
            }
            fp = new M.ForwardingParameters((M.InterfaceType)Math.Min((byte)p.DestinationInterface, (byte)3), ohc,
                p.NetworkInstance?.Text, p.TransportLevelMarking is { } tlm ? (byte)(tlm >> 8) : null);
        }
        return new M.Far(f.FarId, action, fp);
    }

    private static M.Qer ToModel(CreateQer q) => new(q.QerId,
        q.GateStatus.Uplink == GateState.Open ? M.GateStatus.Open : M.GateStatus.Closed,
        q.GateStatus.Downlink == GateState.Open ? M.GateStatus.Open : M.GateStatus.Closed,
        q.Mbr is { UplinkKbps: > 0 } ul ? ul.UplinkKbps : null,
        q.Mbr is { DownlinkKbps: > 0 } dl ? dl.DownlinkKbps : null,
        q.Qfi);

    private static M.Urr ToModel(CreateUrr u) => new(u.UrrId,
        (u.MeasurementMethod & MeasurementMethod.Volum) != 0,
        (u.MeasurementMethod & MeasurementMethod.Durat) != 0,
        u.VolumeThreshold?.Total, u.VolumeQuota?.Total, u.TimeThreshold, u.MeasurementPeriod);

    // ----- Update IEs merged into the current rules -----

    public static CreatePdr Apply(CreatePdr current, UpdatePdr u) => current with
    {
        Pdi = u.Pdi ?? current.Pdi,
        Precedence = u.Precedence ?? current.Precedence,
        OuterHeaderRemoval = u.OuterHeaderRemoval ?? current.OuterHeaderRemoval,
        FarId = u.FarId ?? current.FarId,
        QerIds = u.QerIds.Count > 0 ? u.QerIds : current.QerIds,
        UrrIds = u.UrrIds.Count > 0 ? u.UrrIds : current.UrrIds,
    };

    public static CreateFar Apply(CreateFar current, UpdateFar u)
    {
        var result = current with { ApplyAction = u.ApplyAction ?? current.ApplyAction, BarId = u.BarId ?? current.BarId };
        if (u.UpdateForwardingParameters is { } p)
        {
            CheckForwarding(u.FarId, p.Other);
            var old = current.ForwardingParameters;
            var destination = p.DestinationInterface ?? old?.DestinationInterface
                ?? throw new PfcpRefusal(PfcpCause.ConditionalIeMissing,
                    $"FAR {u.FarId}: Update Forwarding Parameters without a destination interface for a FAR that had none",
                    offendingIe: 42, failedRule: new FailedRuleId(RuleKind.Far, u.FarId));
            result = result with
            {
                ForwardingParameters = new ForwardingParameters(destination)
                {
                    NetworkInstance = p.NetworkInstance ?? old?.NetworkInstance,
                    OuterHeaderCreation = p.OuterHeaderCreation ?? old?.OuterHeaderCreation,
                    TransportLevelMarking = p.TransportLevelMarking ?? old?.TransportLevelMarking,
                    Other = old?.Other ?? [],
                },
            };
        }
        return result;
    }

    public static CreateQer Apply(CreateQer current, UpdateQer u) => current with
    {
        GateStatus = u.GateStatus ?? current.GateStatus,
        Mbr = u.Mbr ?? current.Mbr,
        Gbr = u.Gbr ?? current.Gbr,
        Qfi = u.Qfi ?? current.Qfi,
    };

    public static CreateUrr Apply(CreateUrr current, UpdateUrr u) => current with
    {
        MeasurementMethod = u.MeasurementMethod ?? current.MeasurementMethod,
        ReportingTriggers = u.ReportingTriggers ?? current.ReportingTriggers,
        MeasurementPeriod = u.MeasurementPeriod ?? current.MeasurementPeriod,
        VolumeThreshold = u.VolumeThreshold ?? current.VolumeThreshold,
        VolumeQuota = u.VolumeQuota ?? current.VolumeQuota,
        TimeThreshold = u.TimeThreshold ?? current.TimeThreshold,
        TimeQuota = u.TimeQuota ?? current.TimeQuota,
        QuotaHoldingTime = u.QuotaHoldingTime ?? current.QuotaHoldingTime,
        QuotaValidityTime = u.QuotaValidityTime ?? current.QuotaValidityTime,
        InactivityDetectionTime = u.InactivityDetectionTime ?? current.InactivityDetectionTime,
        FarIdForQuotaAction = u.FarIdForQuotaAction ?? current.FarIdForQuotaAction,
    };
}

/// <summary>
/// Resolves CHOOSE in F-TEIDs and UE IP addresses within one request: PDRs with the same
/// CHOOSE ID share one TEID; UE addresses are allocated once per family per request.
/// Everything allocated is given back if the request fails.
/// </summary>
public sealed class ChooseResolver(TeidAllocator teids, UeAddressPool pool, GtpAddresses addresses)
{
    // Made on first use: a request with no CHOOSE (every modification, most of the time) needs none.
    private Dictionary<byte, FTeid>? _byChooseId;
    private List<uint>? _teids;
    private List<IPAddress>? _ues;
    private IPAddress? _ue4, _ue6;

    public IReadOnlyList<uint> AllocatedTeids => (IReadOnlyList<uint>?)_teids ?? [];
    public IReadOnlyList<IPAddress> AllocatedUeAddresses => (IReadOnlyList<IPAddress>?)_ues ?? [];

    /// <summary>The PDR with CHOOSE resolved, and whether it must be reported in a Created PDR.</summary>
    public (CreatePdr Pdr, bool Created) Resolve(CreatePdr pdr)
    {
        var pdi = pdr.Pdi;
        var label = new RuleLabel("PDR", pdr.PdrId);
        var fteid = pdi.LocalFTeid is { Choose: true } choose
            ? ChooseFTeid(choose, pdi.SourceInterface, label, new FailedRuleId(RuleKind.Pdr, pdr.PdrId))
            : null;
        var ues = ChooseUes(pdi.UeIpAddresses, label);
        if (fteid is null && ues is null)
            return (pdr, false);
        // One copy of the PDI and the PDR, whatever was chosen.
        return (pdr with { Pdi = pdi with { LocalFTeid = fteid ?? pdi.LocalFTeid, UeIpAddresses = ues ?? pdi.UeIpAddresses } }, true);
    }

    /// <summary>
    /// A traffic endpoint with CHOOSE resolved (its F-TEID on the address of the side its PDRs
    /// come from, <paramref name="source"/>), and whether it must be reported in a Created
    /// Traffic Endpoint. <paramref name="failed"/> names the rule a refusal blames.
    /// </summary>
    public (TrafficEndpoint Endpoint, bool Created) Resolve(TrafficEndpoint te, SourceInterface source, FailedRuleId failed)
    {
        var created = false;
        var label = new RuleLabel("traffic endpoint", te.TrafficEndpointId);
        if (te.LocalFTeid is { Choose: true } choose)
        {
            te = te with { LocalFTeid = ChooseFTeid(choose, source, label, failed) };
            created = true;
        }
        if (ChooseUes(te.UeIpAddresses, label) is { } chosen)
        {
            te = te with { UeIpAddresses = chosen };
            created = true;
        }
        return (te, created);
    }

    /// <summary>The addresses with each CHOOSE resolved; null when none asks for one.</summary>
    private ValueList<UeIpAddress>? ChooseUes(ValueList<UeIpAddress> addresses, RuleLabel what)
    {
        UeIpAddress[]? chosen = null;
        for (int i = 0; i < addresses.Count; i++)
        {
            var u = addresses[i];
            if (!u.ChooseIpv4 && !u.ChooseIpv6)
                continue;
            chosen ??= addresses.AsSpan().ToArray();
            chosen[i] = ChooseUe(u, what);
        }
        return chosen is null ? null : new ValueList<UeIpAddress>(chosen);
    }

    private FTeid ChooseFTeid(FTeid choose, SourceInterface source, RuleLabel what, FailedRuleId failed)
    {
        if (choose.ChooseId is { } id && _byChooseId is not null && _byChooseId.TryGetValue(id, out var shared))
            return shared;
        var destination = source == SourceInterface.Access ? M.InterfaceType.Access : M.InterfaceType.Core;
        var v4 = choose.ChooseIpv4 || !choose.ChooseIpv6 ? addresses.LocalFor(destination, AddressFamily.InterNetwork) : null;
        var v6 = choose.ChooseIpv6 ? addresses.LocalFor(destination, AddressFamily.InterNetworkV6) : null;
        if (v4 is null && v6 is null)
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure,
                $"{what}: CHOOSE asks for an {(choose.ChooseIpv6 ? "IPv6" : "IPv4")} F-TEID and no such GTP-U address is configured",
                failedRule: failed);
        var teid = teids.Allocate();
        (_teids ??= []).Add(teid);
        var fteid = FTeid.Of(teid, v4, v6);
        if (choose.ChooseId is { } cid)
            (_byChooseId ??= [])[cid] = fteid;
        return fteid;
    }

    private UeIpAddress ChooseUe(UeIpAddress u, RuleLabel what)
    {
        IPAddress? v4 = u.Ipv4, v6 = u.Ipv6;
        if (u.ChooseIpv4)
            v4 = _ue4 ??= Take(AddressFamily.InterNetwork, what);
        if (u.ChooseIpv6)
            v6 = _ue6 ??= Take(AddressFamily.InterNetworkV6, what);
        return new UeIpAddress { Ipv4 = v4, Ipv6 = v6, IsDestination = u.IsDestination, Ipv6PrefixLength = u.ChooseIpv6 ? (byte)64 : u.Ipv6PrefixLength };
    }

    private IPAddress Take(AddressFamily family, RuleLabel what)
    {
        var a = pool.Allocate(family) ?? throw new PfcpRefusal(PfcpCause.AllDynamicAddressesAreOccupied,
            $"{what}: no free {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} UE address in the configured pools");
        (_ues ??= []).Add(a);
        return a;
    }

    /// <summary>The rule a CHOOSE belongs to, formatted only when a refusal names it.</summary>
    private readonly record struct RuleLabel(string Kind, uint Id)
    {
        public override string ToString() => $"{Kind} {Id}";
    }

    /// <summary>Gives back what this request allocated (it failed).</summary>
    public void Rollback()
    {
        foreach (var t in AllocatedTeids)
            teids.Release(t);
        foreach (var a in AllocatedUeAddresses)
            pool.Release(a);
    }
}

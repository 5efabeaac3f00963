using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using M = LoxiLb.Edge5G.Datapath.Model;

namespace LoxiLb.Edge5G.Tests.Pfcp.Replay;

/// <summary>
/// Compares what the node installed in the datapath's rule model with what a decoded request
/// asked for, field by field, written from TS 29.244 rather than from the node's own merge
/// code. Returns the differences (empty: the rules are what the SMF meant).
/// </summary>
public static class RuleCheck
{
    public static List<string> Establishment(SessionEstablishmentRequest request, SessionEstablishmentResponse response, M.Session installed, GtpAddresses addresses)
    {
        var problems = new List<string>();
        SameIds(problems, "PDR", request.CreatePdrs.Select(p => (uint)p.PdrId), installed.Pdrs.Select(p => (uint)p.Id));
        SameIds(problems, "FAR", request.CreateFars.Select(f => f.FarId), installed.Fars.Select(f => f.Id));
        SameIds(problems, "QER", request.CreateQers.Select(q => q.QerId), installed.QerList.Select(q => q.Id));
        SameIds(problems, "URR", request.CreateUrrs.Select(u => u.UrrId), installed.UrrList.Select(u => u.Id));
        foreach (var p in request.CreatePdrs)
            if (installed.Pdrs.FirstOrDefault(x => x.Id == p.PdrId) is { } m)
                ComparePdr(problems, p, m, addresses, response.CreatedPdrs);
        ChooseIdsShared(problems, request.CreatePdrs, installed);
        foreach (var f in request.CreateFars)
            if (installed.Fars.FirstOrDefault(x => x.Id == f.FarId) is { } m)
                CompareFar(problems, f.FarId, f.ApplyAction.Flags, f.ForwardingParameters?.DestinationInterface, f.ForwardingParameters?.OuterHeaderCreation, m);
        foreach (var q in request.CreateQers)
            if (installed.QerList.FirstOrDefault(x => x.Id == q.QerId) is { } m)
                CompareQer(problems, q.QerId, q.GateStatus, q.Mbr, q.Qfi, m);
        return problems;
    }

    public static List<string> Modification(SessionModificationRequest request, SessionModificationResponse response, M.Session before, M.Session after, GtpAddresses addresses)
    {
        var problems = new List<string>();
        IEnumerable<uint> Expected(IEnumerable<uint> had, IEnumerable<uint> removed, IEnumerable<uint> created) =>
            had.Except(removed).Concat(created);
        SameIds(problems, "PDR", Expected(before.Pdrs.Select(p => (uint)p.Id), request.RemovePdrs.Select(id => (uint)id), request.CreatePdrs.Select(p => (uint)p.PdrId)),
            after.Pdrs.Select(p => (uint)p.Id));
        SameIds(problems, "FAR", Expected(before.Fars.Select(f => f.Id), request.RemoveFars, request.CreateFars.Select(f => f.FarId)), after.Fars.Select(f => f.Id));
        SameIds(problems, "QER", Expected(before.QerList.Select(q => q.Id), request.RemoveQers, request.CreateQers.Select(q => q.QerId)), after.QerList.Select(q => q.Id));
        SameIds(problems, "URR", Expected(before.UrrList.Select(u => u.Id), request.RemoveUrrs, request.CreateUrrs.Select(u => u.UrrId)), after.UrrList.Select(u => u.Id));

        foreach (var p in request.CreatePdrs)
            if (after.Pdrs.FirstOrDefault(x => x.Id == p.PdrId) is { } m)
                ComparePdr(problems, p, m, addresses, response.CreatedPdrs);
        foreach (var f in request.CreateFars)
            if (after.Fars.FirstOrDefault(x => x.Id == f.FarId) is { } m)
                CompareFar(problems, f.FarId, f.ApplyAction.Flags, f.ForwardingParameters?.DestinationInterface, f.ForwardingParameters?.OuterHeaderCreation, m);
        foreach (var q in request.CreateQers)
            if (after.QerList.FirstOrDefault(x => x.Id == q.QerId) is { } m)
                CompareQer(problems, q.QerId, q.GateStatus, q.Mbr, q.Qfi, m);

        foreach (var u in request.UpdatePdrs)
        {
            var m = after.Pdrs.FirstOrDefault(x => x.Id == u.PdrId);
            if (m is null)
                continue;
            if (u.Precedence is { } precedence && m.Precedence != precedence)
                problems.Add($"PDR {u.PdrId}: precedence {m.Precedence}, the update says {precedence}");
            if (u.FarId is { } far && m.FarId != far)
                problems.Add($"PDR {u.PdrId}: FAR {m.FarId}, the update says {far}");
            if (u.Pdi?.LocalFTeid is { Choose: false } f && !SameFTeid(f, m.Pdi.LocalFTeid))
                problems.Add($"PDR {u.PdrId}: F-TEID {m.Pdi.LocalFTeid}, the update says {f}");
            if (u.QerIds.Count > 0 && !m.Qers.SequenceEqual(u.QerIds))
                problems.Add($"PDR {u.PdrId}: QERs [{string.Join(",", m.Qers)}], the update says [{string.Join(",", u.QerIds)}]");
        }
        foreach (var u in request.UpdateFars)
        {
            var m = after.Fars.FirstOrDefault(x => x.Id == u.FarId);
            if (m is null)
                continue;
            var old = before.Fars.FirstOrDefault(x => x.Id == u.FarId);
            var ohc = u.UpdateForwardingParameters?.OuterHeaderCreation;
            if (ohc is not null && !SameOhc(ohc, m.Forwarding?.OuterHeader))
                problems.Add($"FAR {u.FarId}: outer header {m.Forwarding?.OuterHeader}, the update says {ohc}");
            if (u.UpdateForwardingParameters?.DestinationInterface is { } d && m.Forwarding is not null && m.Forwarding.DestinationInterface != Interface((byte)d))
                problems.Add($"FAR {u.FarId}: destination {m.Forwarding.DestinationInterface}, the update says {d}");
            if (u.ApplyAction is { } action)
            {
                var destination = u.UpdateForwardingParameters?.DestinationInterface ?? (DestinationInterface?)(byte?)old?.Forwarding?.DestinationInterface;
                var hasOhc = ohc is not null || old?.Forwarding?.OuterHeader is not null;
                var expected = Action(action.Flags, destination, hasOhc);
                if (m.Action != expected)
                    problems.Add($"FAR {u.FarId}: action {m.Action}, the update ({action.Flags}) means {expected}");
            }
        }
        foreach (var u in request.UpdateQers)
        {
            var m = after.QerList.FirstOrDefault(x => x.Id == u.QerId);
            if (m is null)
                continue;
            if (u.GateStatus is { } g && (Gate(g.Uplink), Gate(g.Downlink)) != (m.UplinkGate, m.DownlinkGate))
                problems.Add($"QER {u.QerId}: gates {m.UplinkGate}/{m.DownlinkGate}, the update says {g.Uplink}/{g.Downlink}");
            if (u.Mbr is { } mbr && (Kbps(mbr.UplinkKbps), Kbps(mbr.DownlinkKbps)) != (m.UplinkMbrKbps, m.DownlinkMbrKbps))
                problems.Add($"QER {u.QerId}: MBR {m.UplinkMbrKbps}/{m.DownlinkMbrKbps}, the update says {mbr.UplinkKbps}/{mbr.DownlinkKbps}");
            if (u.Qfi is { } qfi && m.Qfi != qfi)
                problems.Add($"QER {u.QerId}: QFI {m.Qfi}, the update says {qfi}");
        }

        // Rules the request does not touch stay as they were; local F-TEIDs keep their TEID.
        var touchedPdrs = request.UpdatePdrs.Select(u => u.PdrId).Concat(request.CreatePdrs.Select(p => p.PdrId)).ToHashSet();
        foreach (var m in after.Pdrs.Where(p => !touchedPdrs.Contains(p.Id)))
            if (before.Pdrs.FirstOrDefault(x => x.Id == m.Id) is { } was && !SamePdr(was, m))
                problems.Add($"PDR {m.Id} changed although the request does not name it");
        var touchedFars = request.UpdateFars.Select(u => u.FarId).Concat(request.CreateFars.Select(f => f.FarId)).ToHashSet();
        foreach (var m in after.Fars.Where(f => !touchedFars.Contains(f.Id)))
            if (before.Fars.FirstOrDefault(x => x.Id == m.Id) is { } was && was != m)
                problems.Add($"FAR {m.Id} changed although the request does not name it");
        return problems;
    }

    // ---------------------------------------------------------------- pieces

    private static void SameIds(List<string> problems, string kind, IEnumerable<uint> expected, IEnumerable<uint> actual)
    {
        var e = expected.Order().ToArray();
        var a = actual.Order().ToArray();
        if (!e.SequenceEqual(a))
            problems.Add($"{kind}s installed [{string.Join(",", a)}], the request means [{string.Join(",", e)}]");
    }

    private static void ComparePdr(List<string> problems, CreatePdr p, M.Pdr m, GtpAddresses addresses, IEnumerable<CreatedPdr> created)
    {
        var name = $"PDR {p.PdrId}";
        if (m.Precedence != (p.Precedence ?? 0))
            problems.Add($"{name}: precedence {m.Precedence}, requested {p.Precedence}");
        if (m.Pdi.SourceInterface != Interface((byte)p.Pdi.SourceInterface))
            problems.Add($"{name}: source interface {m.Pdi.SourceInterface}, requested {p.Pdi.SourceInterface}");
        if (p.FarId is { } far && m.FarId != far)
            problems.Add($"{name}: FAR {m.FarId}, requested {far}");
        if (!m.Qers.SequenceEqual(p.QerIds))
            problems.Add($"{name}: QERs [{string.Join(",", m.Qers)}], requested [{string.Join(",", p.QerIds)}]");
        if (!m.Urrs.SequenceEqual(p.UrrIds))
            problems.Add($"{name}: URRs [{string.Join(",", m.Urrs)}], requested [{string.Join(",", p.UrrIds)}]");
        if (m.RemoveOuterHeader != (p.OuterHeaderRemoval is not null))
            problems.Add($"{name}: outer header removal {m.RemoveOuterHeader}, requested {p.OuterHeaderRemoval}");
        var qfi = p.Pdi.Qfis.Count > 0 ? p.Pdi.Qfis[0] : (byte?)null;
        if (m.Pdi.Qfi != qfi)
            problems.Add($"{name}: QFI {m.Pdi.Qfi}, requested {qfi}");
        var flows = p.Pdi.SdfFilters.Select(f => f.FlowDescription).ToArray();
        if (!m.Pdi.Filters.Select(f => f.FlowDescription).SequenceEqual(flows))
            problems.Add($"{name}: SDF filters [{string.Join("; ", m.Pdi.Filters.Select(f => f.FlowDescription))}], requested [{string.Join("; ", flows)}]");
        foreach (var ue in p.Pdi.UeIpAddresses.Where(u => !u.ChooseIpv4 && !u.ChooseIpv6))
        {
            if (ue.Ipv4 is not null && !ue.Ipv4.Equals(m.Pdi.UeIpv4))
                problems.Add($"{name}: UE IPv4 {m.Pdi.UeIpv4}, requested {ue.Ipv4}");
            if (ue.Ipv6 is not null && !ue.Ipv6.Equals(m.Pdi.UeIpv6))
                problems.Add($"{name}: UE IPv6 {m.Pdi.UeIpv6}, requested {ue.Ipv6}");
        }
        switch (p.Pdi.LocalFTeid)
        {
            case null:
                if (m.Pdi.LocalFTeid is not null)
                    problems.Add($"{name}: F-TEID {m.Pdi.LocalFTeid} installed, none requested");
                break;
            case { Choose: false } f:
                if (!SameFTeid(f, m.Pdi.LocalFTeid))
                    problems.Add($"{name}: F-TEID {m.Pdi.LocalFTeid}, requested {f}");
                break;
            case { Choose: true } choose:
                var local = m.Pdi.LocalFTeid;
                if (local is null || local.Teid == 0)
                {
                    problems.Add($"{name}: CHOOSE F-TEID not allocated ({local})");
                    break;
                }
                var side = p.Pdi.SourceInterface == SourceInterface.Access ? M.InterfaceType.Access : M.InterfaceType.Core;
                var want4 = choose.ChooseIpv4 || !choose.ChooseIpv6 ? addresses.LocalFor(side, AddressFamily.InterNetwork) : null;
                if (want4 is not null && !want4.Equals(local.Ipv4))
                    problems.Add($"{name}: CHOOSE F-TEID on {local.Ipv4}, our {side} GTP-U address is {want4}");
                var reported = created.FirstOrDefault(c => c.PdrId == p.PdrId)?.LocalFTeid;
                if (reported is null || reported.Teid != local.Teid || !Equals(reported.Ipv4, local.Ipv4) || !Equals(reported.Ipv6, local.Ipv6))
                    problems.Add($"{name}: Created PDR reports F-TEID {reported}, installed {local}");
                break;
        }
    }

    /// <summary>PDRs with the same CHOOSE ID share one F-TEID; CHOOSE without an ID gets its own (TS 29.244 5.2.1).</summary>
    private static void ChooseIdsShared(List<string> problems, IEnumerable<CreatePdr> pdrs, M.Session installed)
    {
        var chosen = pdrs.Where(p => p.Pdi.LocalFTeid is { Choose: true })
            .Select(p => (p.PdrId, p.Pdi.LocalFTeid!.ChooseId, Teid: installed.Pdrs.FirstOrDefault(x => x.Id == p.PdrId)?.Pdi.LocalFTeid?.Teid))
            .ToArray();
        foreach (var group in chosen.Where(c => c.ChooseId is not null).GroupBy(c => c.ChooseId))
            if (group.Select(c => c.Teid).Distinct().Count() != 1)
                problems.Add($"CHOOSE ID {group.Key}: PDRs {string.Join(",", group.Select(c => c.PdrId))} got different TEIDs");
        var withoutId = chosen.Where(c => c.ChooseId is null).Select(c => c.Teid).ToArray();
        var withId = chosen.Where(c => c.ChooseId is not null).Select(c => c.Teid).ToHashSet();
        if (withoutId.Distinct().Count() != withoutId.Length || withoutId.Any(withId.Contains))
            problems.Add("CHOOSE without a CHOOSE ID shares a TEID with another PDR");
    }

    private static void CompareFar(List<string> problems, uint id, ApplyActionFlags flags, DestinationInterface? destination, OuterHeaderCreation? ohc, M.Far m)
    {
        var expected = Action(flags, destination, ohc is not null);
        if (m.Action != expected)
            problems.Add($"FAR {id}: action {m.Action}, {flags} to {destination} means {expected}");
        if (expected.HasFlag(M.ApplyAction.Forward))
        {
            if (m.Forwarding is null)
                problems.Add($"FAR {id}: forwarding parameters missing");
            else if (destination is { } d && m.Forwarding.DestinationInterface != Interface((byte)d))
                problems.Add($"FAR {id}: destination {m.Forwarding.DestinationInterface}, requested {d}");
            if (ohc is not null && !SameOhc(ohc, m.Forwarding?.OuterHeader))
                problems.Add($"FAR {id}: outer header {m.Forwarding?.OuterHeader}, requested {ohc}");
        }
    }

    /// <summary>
    /// The datapath action an Apply Action means. FORW towards the access side without an
    /// Outer Header Creation has no tunnel to go into: the node holds it as DROP.
    /// </summary>
    private static M.ApplyAction Action(ApplyActionFlags flags, DestinationInterface? destination, bool hasOhc)
    {
        if ((flags & ApplyActionFlags.Forw) != 0 && destination == DestinationInterface.Access && !hasOhc)
            return M.ApplyAction.Drop;
        M.ApplyAction a = 0;
        if ((flags & ApplyActionFlags.Drop) != 0) a |= M.ApplyAction.Drop;
        if ((flags & ApplyActionFlags.Forw) != 0) a |= M.ApplyAction.Forward;
        if ((flags & ApplyActionFlags.Buff) != 0) a |= M.ApplyAction.Buffer;
        if ((flags & ApplyActionFlags.Nocp) != 0) a |= M.ApplyAction.NotifyCp;
        if ((flags & ApplyActionFlags.Dupl) != 0) a |= M.ApplyAction.Duplicate;
        return a;
    }

    private static void CompareQer(List<string> problems, uint id, GateStatus gates, BitRate? mbr, byte? qfi, M.Qer m)
    {
        if ((Gate(gates.Uplink), Gate(gates.Downlink)) != (m.UplinkGate, m.DownlinkGate))
            problems.Add($"QER {id}: gates {m.UplinkGate}/{m.DownlinkGate}, requested {gates.Uplink}/{gates.Downlink}");
        if (mbr is not null && (Kbps(mbr.UplinkKbps), Kbps(mbr.DownlinkKbps)) != (m.UplinkMbrKbps, m.DownlinkMbrKbps))
            problems.Add($"QER {id}: MBR {m.UplinkMbrKbps}/{m.DownlinkMbrKbps} kbit/s, requested {mbr.UplinkKbps}/{mbr.DownlinkKbps}");
        if (m.Qfi != qfi)
            problems.Add($"QER {id}: QFI {m.Qfi}, requested {qfi}");
    }

    private static ulong? Kbps(ulong kbps) => kbps > 0 ? kbps : null;

    private static M.GateStatus Gate(GateState s) => s == GateState.Open ? M.GateStatus.Open : M.GateStatus.Closed;

    private static M.InterfaceType Interface(byte value) => (M.InterfaceType)Math.Min(value, (byte)3);

    private static bool SameFTeid(FTeid f, M.FTeid? m) =>
        m is not null && m.Teid == f.Teid && Equals(m.Ipv4, f.Ipv4) && Equals(m.Ipv6, f.Ipv6);

    private static bool SameOhc(OuterHeaderCreation o, M.OuterHeaderCreation? m) =>
        m is not null && m.Teid == o.Teid && (m.Peer.Equals(o.Ipv4) || m.Peer.Equals(o.Ipv6));

    private static bool SamePdr(M.Pdr a, M.Pdr b) =>
        a.Id == b.Id && a.Precedence == b.Precedence && a.FarId == b.FarId && a.RemoveOuterHeader == b.RemoveOuterHeader
        && a.Qers.SequenceEqual(b.Qers) && a.Urrs.SequenceEqual(b.Urrs)
        && a.Pdi.SourceInterface == b.Pdi.SourceInterface && Equals(a.Pdi.LocalFTeid, b.Pdi.LocalFTeid)
        && Equals(a.Pdi.UeIpv4, b.Pdi.UeIpv4) && Equals(a.Pdi.UeIpv6, b.Pdi.UeIpv6) && a.Pdi.Qfi == b.Pdi.Qfi
        && a.Pdi.Filters.SequenceEqual(b.Pdi.Filters);

    /// <summary>The /64 a UE IPv6 address lives in (the datapath matches downlink IPv6 per PDU session prefix, TS 23.501 5.8.2.2).</summary>
    public static string Prefix64(IPAddress v6) => Convert.ToHexString(v6.GetAddressBytes().AsSpan(0, 8));
}

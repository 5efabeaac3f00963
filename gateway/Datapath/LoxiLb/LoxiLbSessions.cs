using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;

namespace LoxiLb.Edge5G.Datapath.LoxiLb;

/// <summary>A tunnel end as LoxiLB's session API gives it: "TEID:IP".</summary>
public sealed record LoxiTunnel(uint Teid, IPAddress Address)
{
    public static LoxiTunnel Parse(string text, string field)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0 || !uint.TryParse(text[..colon], out var teid) || !AddressText.TryParse(text[(colon + 1)..], out var address))
            throw new RuleException(RuleError.Invalid, $"{field}: '{text}' is not TEID:IP (e.g. 1:198.51.100.1)");
        return new LoxiTunnel(teid, address);
    }

    public override string ToString() => $"{Teid}:{Address}";
}

/// <summary>A LoxiLB "session": user ident, UE address, access-network and core-network tunnels.</summary>
public sealed record LoxiSession(string Ident, IPAddress UeAddress, LoxiTunnel AccessTunnel, LoxiTunnel CoreTunnel);

/// <summary>A LoxiLB "sessionulcl" argument: traffic between the UE and Address, with this QFI, breaks out here.</summary>
public sealed record LoxiUlcl(byte Qfi, IPAddress Address)
{
    public static LoxiUlcl Parse(string text, string field)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0 || !byte.TryParse(text[..colon], out var qfi) || qfi > 63 || !AddressText.TryParse(text[(colon + 1)..], out var address))
            throw new RuleException(RuleError.Invalid, $"{field}: '{text}' is not QFI:IP with QFI 0-63 (e.g. 9:203.0.113.200)");
        return new LoxiUlcl(qfi, address);
    }

    public override string ToString() => $"{Qfi}:{Address}";
}

/// <summary>
/// LoxiLB's session and sessionulcl front ends, compiled into the rule model (docs/loxilb-mapping.md):
/// <list type="bullet">
/// <item>session IDENT UE --accessNetworkTunnel=T1:GNB --coreNetworkTunnel=T2:LOCAL becomes PDR 1
/// (uplink: F-TEID T2@LOCAL, UE source, lowest precedence, outer header removal) with FAR 1
/// (forward to the data network), and PDR 2 (downlink to the UE) with FAR 2 (GTP-U to
/// T1@GNB, sent from LOCAL).</item>
/// <item>each sessionulcl QFI:IP adds PDR 100+n (uplink with that QFI towards IP, precedence n)
/// breaking out through FAR 1, and PDR 200+n (downlink from IP) through FAR 2 with QER n
/// marking that QFI: the classifier gets counters of its own in both directions.</item>
/// </list>
/// Sessions take SEIDs from 2^63 upwards so they never meet PFCP-allocated ones.
/// </summary>
public sealed class LoxiLbSessions(SessionTable table)
{
    public const ulong SeidBase = 1UL << 63;
    private readonly object _gate = new();
    private readonly Dictionary<string, (LoxiSession Session, ulong Seid, ImmutableArray<LoxiUlcl> Ulcls)> _byIdent = new(StringComparer.Ordinal);
    private ulong _nextSeid = SeidBase;

    public IReadOnlyList<(LoxiSession Session, ulong Seid, ImmutableArray<LoxiUlcl> Ulcls)> List()
    {
        lock (_gate)
            return _byIdent.Values.OrderBy(v => v.Session.Ident, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Creates or (when the ident exists with other tunnels) replaces a session, keeping its classifiers.</summary>
    public ulong CreateSession(LoxiSession session)
    {
        if (string.IsNullOrWhiteSpace(session.Ident))
            throw new RuleException(RuleError.Invalid, "ident: a session needs a user identifier");
        if (session.UeAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new RuleException(RuleError.Invalid, $"sessionIP: {session.UeAddress} is not an IPv4 address");
        lock (_gate)
        {
            if (_byIdent.TryGetValue(session.Ident, out var existing))
            {
                if (existing.Session == session)
                    throw new RuleException(RuleError.Conflict, $"session '{session.Ident}' already exists");
                table.Modify(Compile(session, existing.Seid, existing.Ulcls));
                _byIdent[session.Ident] = (session, existing.Seid, existing.Ulcls);
                return existing.Seid;
            }
            var seid = _nextSeid;
            table.Establish(Compile(session, seid, []));
            _nextSeid++;
            _byIdent[session.Ident] = (session, seid, []);
            return seid;
        }
    }

    public void DeleteSession(string ident)
    {
        lock (_gate)
        {
            if (!_byIdent.Remove(ident, out var existing))
                throw new RuleException(RuleError.UnknownSession, $"no session '{ident}'");
            table.Delete(existing.Seid);
        }
    }

    public void AddUlcl(string ident, LoxiUlcl ulcl)
    {
        lock (_gate)
        {
            var existing = Find(ident);
            if (existing.Ulcls.Any(u => u.Address.Equals(ulcl.Address)))
                throw new RuleException(RuleError.Conflict, $"session '{ident}' already has a classifier for {ulcl.Address}");
            var ulcls = existing.Ulcls.Add(ulcl);
            table.Modify(Compile(existing.Session, existing.Seid, ulcls));
            _byIdent[ident] = (existing.Session, existing.Seid, ulcls);
        }
    }

    /// <summary>Removes the classifier for <paramref name="address"/> (LoxiLB deletes by IP, without QFI).</summary>
    public void DeleteUlcl(string ident, IPAddress address)
    {
        lock (_gate)
        {
            var existing = Find(ident);
            var ulcls = existing.Ulcls.RemoveAll(u => u.Address.Equals(address));
            if (ulcls.Length == existing.Ulcls.Length)
                throw new RuleException(RuleError.UnknownSession, $"session '{ident}' has no classifier for {address}");
            table.Modify(Compile(existing.Session, existing.Seid, ulcls));
            _byIdent[ident] = (existing.Session, existing.Seid, ulcls);
        }
    }

    /// <summary>
    /// Takes over the LoxiLB sessions a previous process installed (adopted into the session
    /// table): the front-end view is rebuilt from their compiled rules.
    /// </summary>
    public int Adopt(IEnumerable<Session> installed)
    {
        lock (_gate)
        {
            var count = 0;
            foreach (var s in installed.Where(s => s.Seid >= SeidBase && s.Name is not null))
            {
                var ul = s.Pdrs.FirstOrDefault(p => p.Id == 1);
                var dlFar = s.Fars.FirstOrDefault(f => f.Id == 2)?.Forwarding?.OuterHeader;
                if (ul?.Pdi.LocalFTeid is not { } local || ul.Pdi.UeIpv4 is not { } ue || dlFar is null)
                    continue;
                var session = new LoxiSession(s.Name!, ue, new LoxiTunnel(dlFar.Teid, dlFar.Peer),
                    new LoxiTunnel(local.Teid, (local.Ipv4 ?? local.Ipv6)!));
                var ulcls = s.Pdrs.Where(p => p.Id is >= 100 and < 200).OrderBy(p => p.Id)
                    .Select(p => new LoxiUlcl(p.Pdi.Qfi ?? 0, Sdf.FlowDescription.Parse(p.Pdi.Filters[0].FlowDescription!).From.Address!))
                    .ToImmutableArray();
                _byIdent[session.Ident] = (session, s.Seid, ulcls);
                _nextSeid = Math.Max(_nextSeid, s.Seid + 1);
                count++;
            }
            return count;
        }
    }

    private (LoxiSession Session, ulong Seid, ImmutableArray<LoxiUlcl> Ulcls) Find(string ident) =>
        _byIdent.TryGetValue(ident, out var e) ? e : throw new RuleException(RuleError.UnknownSession, $"no session '{ident}'");

    /// <summary>The rule model of a LoxiLB session and its classifiers.</summary>
    public static Session Compile(LoxiSession s, ulong seid, ImmutableArray<LoxiUlcl> ulcls)
    {
        var local = new FTeid(s.CoreTunnel.Teid,
            s.CoreTunnel.Address.AddressFamily == AddressFamily.InterNetwork ? s.CoreTunnel.Address : null,
            s.CoreTunnel.Address.AddressFamily == AddressFamily.InterNetworkV6 ? s.CoreTunnel.Address : null);
        var pdrs = ImmutableArray.CreateBuilder<Pdr>();
        var qers = ImmutableArray.CreateBuilder<Qer>();
        pdrs.Add(new Pdr(1, 65535, new Pdi(InterfaceType.Access, local, UeIpv4: s.UeAddress), FarId: 1, RemoveOuterHeader: true));
        pdrs.Add(new Pdr(2, 65535, new Pdi(InterfaceType.Core, UeIpv4: s.UeAddress), FarId: 2));
        for (int n = 0; n < ulcls.Length; n++)
        {
            var u = ulcls[n];
            var filter = new SdfFilter($"permit out ip from {u.Address}/{(u.Address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)} to assigned");
            pdrs.Add(new Pdr((ushort)(100 + n), (uint)n, new Pdi(InterfaceType.Access, local, UeIpv4: s.UeAddress, SdfFilters: [filter], Qfi: u.Qfi),
                FarId: 1, RemoveOuterHeader: true));
            pdrs.Add(new Pdr((ushort)(200 + n), (uint)n, new Pdi(InterfaceType.Core, UeIpv4: s.UeAddress, SdfFilters: [filter]), FarId: 2,
                QerIds: [(uint)(n + 1)]));
            qers.Add(new Qer((uint)(n + 1), Qfi: u.Qfi));
        }
        return new Session(seid, pdrs.ToImmutable(),
            [
                new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
                new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(s.AccessTunnel.Teid, s.AccessTunnel.Address))),
            ],
            qers.ToImmutable(), Name: s.Ident);
    }
}

using System.Collections.Immutable;
using System.Net;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>An association as saved across a daemon restart.</summary>
public sealed record AssociationRecord(string NodeId, string Endpoint, DateTime PeerRecovery, bool UpInitiated);

/// <summary>
/// A PFCP session as saved: its rules travel as an encoded Session Establishment Request
/// (base64) carrying the CP F-SEID and the current Create PDR/FAR/QER/URR IEs, so the codec
/// that reads SMF requests reads them back exactly.
/// </summary>
/// <param name="Usage">Each URR's usage state (UR-SEQN, times, baseline counters).</param>
public sealed record PfcpSessionRecord(ulong Seid, string Association, string Rules, uint[] Teids, string[] UeAddresses,
    UsageRecord[]? Usage = null);

/// <summary>The node's state for a restarted daemon: same Recovery Time Stamp, same associations and sessions.</summary>
/// <param name="Clean">Saved by a node that had stopped: nothing was reported after it, so the usage state is exact.</param>
public sealed record PfcpNodeRecord(DateTime RecoveryTimeStamp, ulong NextSeid, AssociationRecord[] Associations, PfcpSessionRecord[] Sessions,
    bool Clean = false);

public sealed partial class PfcpNode
{
    /// <summary>
    /// Everything a restarted node needs to carry on as if it had not restarted. A node that has
    /// stopped (<see cref="Dispose"/>: no more reports) exports a clean record, whose usage state
    /// the next node takes over exactly.
    /// </summary>
    public PfcpNodeRecord Export()
    {
        lock (_gate)
            return new PfcpNodeRecord(RecoveryTimeStamp, _nextSeid,
                _associations.Values.Select(a => new AssociationRecord(a.Key, a.Endpoint.ToString(), a.PeerRecovery, a.UpInitiated)).ToArray(),
                _sessions.Values.Select(s => new PfcpSessionRecord(s.Seid, s.Association,
                    Convert.ToBase64String(PfcpCodec.Encode(new SessionEstablishmentRequest(NodeId.FromFqdn("saved.rules"), s.Cp,
                        [.. s.Rules.Pdrs.Values], [.. s.Rules.Fars.Values])
                    {
                        CreateQers = [.. s.Rules.Qers.Values],
                        CreateUrrs = [.. s.Rules.Urrs.Values],
                        CreateTrafficEndpoints = [.. s.Rules.TrafficEndpoints.Values],
                        UserPlaneInactivityTimer = s.InactivityTimer > 0 ? s.InactivityTimer : null,
                        FqCsids = s.FqCsids,
                        CreateBar = s.Bar,
                    }, 0, 0)),
                    [.. s.Teids], s.UeAddresses.Select(a => a.ToString()).ToArray(),
                    [.. s.Usage.Values.Select(u => u.ToRecord())])).ToArray(),
                Clean: _stopped);
    }

    /// <summary>
    /// Takes over the state a previous process saved, before <see cref="Start"/>: the same
    /// Recovery Time Stamp (the SMFs see no restart), the associations, and the sessions the
    /// session table adopted from the pinned datapath. PFCP sessions the table holds but the
    /// saved state does not know (created after the last save) are removed: no SMF can reach
    /// them. Returns the number of sessions restored.
    /// </summary>
    public int Restore(PfcpNodeRecord state)
    {
        lock (_gate)
        {
            RecoveryTimeStamp = state.RecoveryTimeStamp;
            _nextSeid = Math.Max(_nextSeid, state.NextSeid);
            foreach (var a in state.Associations)
            {
                var nodeId = IPAddress.TryParse(a.NodeId, out var ip) ? NodeId.FromAddress(ip) : NodeId.FromFqdn(a.NodeId);
                _associations[a.NodeId] = new Association(nodeId, IPEndPoint.Parse(a.Endpoint), a.PeerRecovery, a.UpInitiated)
                {
                    LastHeard = _time.GetTimestamp(),
                    LastHeartbeatSent = _time.GetTimestamp(),
                };
            }
            var restored = 0;
            foreach (var record in state.Sessions)
            {
                if (!_table.TryGet(record.Seid, out var compiled) || !_associations.TryGetValue(record.Association, out var association))
                    continue;
                if (PfcpCodec.Decode(Convert.FromBase64String(record.Rules)) is not PfcpDecoded { Body: SessionEstablishmentRequest rules })
                    continue;
                var session = new NodeSession(record.Seid, rules.CpFSeid, record.Association)
                {
                    Rules = new PfcpRuleSet(
                        RuleMap<ushort, CreatePdr>.From(rules.CreatePdrs, p => p.PdrId),
                        RuleMap<uint, CreateFar>.From(rules.CreateFars, f => f.FarId),
                        RuleMap<uint, CreateQer>.From(rules.CreateQers, q => q.QerId),
                        RuleMap<uint, CreateUrr>.From(rules.CreateUrrs, u => u.UrrId),
                        RuleMap<byte, TrafficEndpoint>.From(rules.CreateTrafficEndpoints, t => t.TrafficEndpointId)),
                    FqCsids = rules.FqCsids,
                    Bar = rules.CreateBar,
                };
                session.SetInactivityTimer(rules.UserPlaneInactivityTimer, _time.GetUtcNow().UtcDateTime);
                foreach (var teid in record.Teids)
                {
                    _teids.Reserve(teid);
                    session.Teids.Add(teid);
                }
                foreach (var chosen in LocalFTeids(session.Rules))
                    _teids.Reserve(chosen.Teid); // TEIDs the SMF chose stay taken too
                foreach (var text in record.UeAddresses)
                {
                    var ue = IPAddress.Parse(text);
                    _uePool.Reserve(ue);
                    session.UeAddresses.Add(ue);
                }
                SyncUsage(session, compiled, previous: compiled);
                // A clean record (the previous node had stopped) carries each URR on exactly: the
                // baseline of its last report, so what the datapath counted since, also while no
                // daemon ran, is reported, and UR-SEQN goes on. Otherwise (a crash: reports may
                // have been sent after the last save) usage restarts from the counters as they
                // are: lost rather than reported twice.
                foreach (var saved in record.Usage ?? [])
                    if (session.Usage.TryGetValue(saved.UrrId, out var usage))
                        usage.Restore(saved, exact: state.Clean);
                AlignQuotaEnforcement(session, compiled);
                _sessions[record.Seid] = session;
                association.Sessions.Add(record.Seid);
                restored++;
            }
            foreach (var orphan in _table.Sessions.Where(c => c.Seid < Datapath.LoxiLb.LoxiLbSessions.SeidBase && !_sessions.ContainsKey(c.Seid)).ToArray())
                _table.Delete(orphan.Seid);
            return restored;
        }
    }

    /// <summary>
    /// After a crash the datapath (pinned, still forwarding) may have blocked PDRs for a quota
    /// used up after the last periodic save, or the reverse. The restored trackers decide:
    /// the PDRs are rewritten to what they say, and a quota used up again is found by the
    /// next usage check.
    /// </summary>
    private void AlignQuotaEnforcement(NodeSession session, CompiledSession adopted)
    {
        var wanted = session.Rules.ToModel(session.Seid, session.Cp.Seid, session.Cp.Ipv4 ?? session.Cp.Ipv6, ExhaustedUrrs(session.Rules, session));
        static IEnumerable<(ushort, uint, bool)> Enforcement(Datapath.Model.Session s) => s.Pdrs.Select(p => (p.Id, p.FarId, p.QuotaExhausted));
        if (Enforcement(wanted).SequenceEqual(Enforcement(adopted.Session)))
            return;
        try
        {
            SyncUsage(session, _table.Modify(wanted), adopted);
        }
        catch (Exception e) when (e is RuleException or PfcpRefusal)
        {
            LogQuotaNotEnforced(_log, session.Cp.Seid, e.Message);
        }
    }
}

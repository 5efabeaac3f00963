using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Wire;
using Microsoft.Extensions.Logging;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// Partial failure handling over N4 (TS 23.527 4.6, TS 29.244 FQ-CSID): the CP function names
/// the connection sets a session belongs to (its FQ-CSIDs), and when one of its sets fails it
/// asks, with one Session Set Deletion Request, for every session of that set to go.
/// </summary>
public sealed partial class PfcpNode
{
    /// <summary>
    /// The one connection set of this UP function: every session lives and fails with this one
    /// process and its pinned maps, so there is nothing finer to tell the SMF.
    /// </summary>
    public const ushort LocalCsid = 1;

    /// <summary>Our FQ-CSID (the N4 address, <see cref="LocalCsid"/>), given to SMFs that send theirs.</summary>
    public FqCsid LocalFqCsid => field ??= new FqCsid(CsidNode.Of(_settings.Listen.Address), ValueList.Of(LocalCsid));

    /// <summary>
    /// An establishment's FQ-CSIDs: each names one set of one node (Number of CSIDs 1; more is
    /// only for a Session Set Deletion Request), and one node appears once.
    /// </summary>
    private static void CheckSessionFqCsids(ValueList<FqCsid> fqCsids)
    {
        for (int i = 0; i < fqCsids.Count; i++)
        {
            if (fqCsids[i].Csids.Count != 1)
                throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect,
                    $"FQ-CSID[{i}] of {fqCsids[i].Node} has {fqCsids[i].Csids.Count} CSIDs: a session belongs to exactly one set of each node",
                    offendingIe: (ushort)IeType.FqCsid);
            for (int j = 0; j < i; j++)
                if (fqCsids[j].Node == fqCsids[i].Node)
                    throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect, $"FQ-CSID[{i}] names node {fqCsids[i].Node} again",
                        offendingIe: (ushort)IeType.FqCsid);
        }
    }

    /// <summary>
    /// A modification's FQ-CSIDs applied to the session's: each replaces the one with the same
    /// Node Type when it carries one (Rel-17), else the one of the same node, else is added.
    /// Number of CSIDs 0 (with a Node Type, node address zero) removes the one of that type.
    /// </summary>
    private static ValueList<FqCsid> MergeFqCsids(ValueList<FqCsid> current, ValueList<FqCsid> changes)
    {
        if (changes.IsEmpty)
            return current;
        var merged = current.ToList();
        for (int i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            if (change.Csids.Count == 0)
            {
                if (change.NodeType is not { } type)
                    throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect,
                        $"FQ-CSID[{i}] has no CSID and no Node Type: nothing says which FQ-CSID to remove", offendingIe: (ushort)IeType.FqCsid);
                merged.RemoveAll(f => f.NodeType == type);
                continue;
            }
            if (change.Csids.Count != 1)
                throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect,
                    $"FQ-CSID[{i}] of {change.Node} has {change.Csids.Count} CSIDs: a session belongs to exactly one set of each node",
                    offendingIe: (ushort)IeType.FqCsid);
            var at = change.NodeType is { } t ? merged.FindIndex(f => f.NodeType == t) : merged.FindIndex(f => f.Node == change.Node);
            if (at >= 0)
                merged[at] = change;
            else
                merged.Add(change);
        }
        var result = ValueList.From(merged);
        CheckSessionFqCsids(result);
        return result;
    }

    /// <summary>
    /// Session Set Deletion (TS 29.244 7.4.6, TS 23.527 4.6): deletes every session of the
    /// requesting CP function's association that belongs to one of the named sets: a CP-side
    /// FQ-CSID the session was given, or our own FQ-CSID for sessions that were given ours.
    /// Sessions of other associations are never touched. No usage is reported for them: the
    /// request has no place for it and the CP function deletes its side of the set too; the
    /// count is logged.
    /// </summary>
    private SessionSetDeletionResponse DeleteSessionSets(SessionSetDeletionRequest req)
    {
        if (!_associations.TryGetValue(req.NodeId.ToString(), out var association))
            return new SessionSetDeletionResponse(_settings.NodeId, PfcpCause.NoEstablishedPfcpAssociation);
        if (req.FqCsids.IsEmpty)
            return new SessionSetDeletionResponse(_settings.NodeId, PfcpCause.ConditionalIeMissing) { OffendingIe = (ushort)IeType.FqCsid };
        var ours = LocalFqCsid;
        var oursNamed = req.FqCsids.Any(f => f.Names(ours.Node, LocalCsid));
        var doomed = new List<ulong>();
        foreach (var seid in association.Sessions)
        {
            var session = _sessions[seid];
            if (session.FqCsids.IsEmpty)
                continue; // never given an FQ-CSID: in no set
            if (oursNamed || session.FqCsids.Any(mine => req.FqCsids.Any(named => named.Names(mine.Node, mine.Csids[0]))))
                doomed.Add(seid);
        }
        var kept = 0;
        foreach (var seid in doomed)
        {
            TryDropSession(seid);
            if (_sessions.ContainsKey(seid))
                kept++;
        }
        LogSessionSetsDeleted(_log, association.Key, string.Join("; ", req.FqCsids), doomed.Count - kept, kept);
        // A session the kernel would not let go of is the UP function's failure, not the request's.
        return new SessionSetDeletionResponse(_settings.NodeId, kept == 0 ? PfcpCause.RequestAccepted : PfcpCause.SystemFailure);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session Set Deletion from {Association} for {Sets}: {Deleted} sessions deleted, {Kept} refused by the datapath")]
    private static partial void LogSessionSetsDeleted(ILogger logger, string association, string sets, int deleted, int kept);
}

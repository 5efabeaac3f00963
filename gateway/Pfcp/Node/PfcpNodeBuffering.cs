using System.Buffers.Binary;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using M = LoxiLb.Edge5G.Datapath.Model;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// Downlink buffering (TS 29.244 5.2.1, FAR apply action BUFF): while a PDR's FAR buffers (the
/// UE is idle and being paged), the datapath hands its packets over (ring buffer slow_packets)
/// and the node holds them per PDR; when a modification makes that FAR forward into a tunnel
/// (the gNB's F-TEID after the UE answered paging), they are sent down it in arrival order,
/// before the SMF's answer leaves. Bounded per PDR (<see cref="PfcpNodeSettings.BufferPackets"/>),
/// in all (<see cref="PfcpNodeSettings.BufferBytes"/>) and in time
/// (<see cref="PfcpNodeSettings.BufferTime"/>, or the DL Buffering Duration the SMF gives in its
/// answer to the Downlink Data Report); a FAR that drops, DROBU (in a modification or that
/// answer) or the session's deletion discards them. The BAR's Suggested Buffering Packets
/// Count, when the SMF gives one, replaces the per-PDR limit. What is sent counts in the
/// PDR's URRs, as if the datapath had forwarded it.
/// </summary>
public sealed partial class PfcpNode
{
    private readonly Dictionary<uint, Queue<(byte[] Packet, long At)>> _buffered = [];
    private long _bufferedBytes;

    /// <summary>Packets held now, over all PDRs.</summary>
    public int BufferedPackets
    {
        get
        {
            lock (_gate)
                return _buffered.Values.Sum(q => q.Count);
        }
    }

    /// <summary>A packet the datapath handed over for a PDR whose FAR buffers (on the thread that reads the ring).</summary>
    public unsafe void OnBufferedPacket(in SlowPacketRecord record)
    {
        var length = Math.Min((int)record.Len, SlowPacketRecord.MaxPacket);
        byte[] packet;
        fixed (SlowPacketRecord* r = &record)
            packet = new ReadOnlySpan<byte>(r->Packet, length).ToArray();
        lock (_gate)
        {
            if (_stopping)
                return;
            if (!_statsOwner.TryGetValue(record.Stats, out var owner) || !_sessions.ContainsKey(owner.Seid))
            {
                Counters.UserPlane(PfcpCounters.BufferDropped); // the session went while the packet was in the ring
                return;
            }
            if (!_buffered.TryGetValue(record.Stats, out var queue))
                _buffered[record.Stats] = queue = new Queue<(byte[], long)>();
            var limit = _sessions[owner.Seid].Bar?.SuggestedBufferingPacketsCount ?? _settings.BufferPackets;
            if (queue.Count >= limit || _bufferedBytes + packet.Length > _settings.BufferBytes)
            {
                Counters.UserPlane(PfcpCounters.BufferDropped);
                return;
            }
            queue.Enqueue((packet, _time.GetTimestamp()));
            _bufferedBytes += packet.Length;
            Counters.UserPlane(PfcpCounters.BufferHeld);
        }
    }

    /// <summary>
    /// After a modification: the held packets of each PDR of the session go down the tunnel its
    /// FAR now forwards into, stay while it still buffers, and are dropped otherwise (or all of
    /// them with DROBU).
    /// </summary>
    private void ReleaseBuffered(CompiledSession compiled, bool dropAll)
    {
        if (_buffered.Count == 0)
            return;
        foreach (var (pdrId, slot) in compiled.PdrStats)
        {
            if (!_buffered.TryGetValue(slot, out var queue))
                continue;
            var pdr = compiled.Session.Pdrs.FirstOrDefault(p => p.Id == pdrId);
            var far = pdr is null ? null : compiled.Session.Fars.FirstOrDefault(f => f.Id == pdr.FarId);
            if (!dropAll && far is not null && !far.Action.HasFlag(M.ApplyAction.Forward) && far.Action.HasFlag(M.ApplyAction.Buffer))
                continue; // still buffering
            _buffered.Remove(slot);
            // What the datapath would not forward now is not sent either: a used-up quota, a closed gate.
            var blocked = pdr is null || pdr.QuotaExhausted || compiled.Session.QerList.Any(q => pdr.Qers.Contains(q.Id)
                && (pdr.Pdi.SourceInterface == M.InterfaceType.Access ? q.UplinkGate : q.DownlinkGate) == M.GateStatus.Closed);
            var sent = !dropAll && !blocked && far?.Forwarding is { OuterHeader: { } tunnel } forwarding && far.Action.HasFlag(M.ApplyAction.Forward)
                && _gtpu is not null && _addresses.LocalFor(forwarding.DestinationInterface, tunnel.Peer.AddressFamily) is { } local
                ? Send(slot, queue, pdr!, compiled.Session, tunnel, local, forwarding)
                : 0;
            foreach (var (packet, _) in queue)
                _bufferedBytes -= packet.Length;
            if (queue.Count - sent > 0)
                Counters.UserPlane(PfcpCounters.BufferDropped, queue.Count - sent);
        }
        // Once nothing of the session is held, its DL Buffering Duration has served.
        foreach (var (_, slot) in compiled.PdrStats)
            if (_buffered.ContainsKey(slot))
                return;
        if (_sessions.TryGetValue(compiled.Seid, out var session))
            session.BufferUntil = 0;
    }

    /// <summary>Sends the held packets down the tunnel, routed (TTL / hop limit less one; expiring ones dropped). Returns how many went.</summary>
    private int Send(uint slot, Queue<(byte[] Packet, long At)> queue, M.Pdr pdr, M.Session session, M.OuterHeaderCreation tunnel, System.Net.IPAddress local,
        M.ForwardingParameters forwarding)
    {
        var qfi = session.QerList.FirstOrDefault(q => pdr.Qers.Contains(q.Id) && q.Qfi is not null)?.Qfi ?? pdr.Pdi.Qfi;
        var pduType = forwarding.DestinationInterface == M.InterfaceType.Access ? Gtpu.PduSessionContainer.Downlink : Gtpu.PduSessionContainer.Uplink;
        var sent = 0;
        ulong bytes = 0;
        foreach (var (packet, _) in queue)
        {
            if (!Routed(packet))
                continue;
            _gtpu!.Send(local, tunnel.Peer, Gtpu.GtpuMessage.GPdu(tunnel.Teid, packet, qfi, pduType), forwarding.TransportLevelMarking ?? 0);
            sent++;
            bytes += (ulong)packet.Length;
        }
        if (sent == 0)
            return 0;
        Counters.UserPlane(PfcpCounters.BufferSent, sent);
        // Their volume goes to the PDR's URRs as if the datapath had forwarded them.
        if (_statsOwner.TryGetValue(slot, out var owner) && _sessions.TryGetValue(owner.Seid, out var held)
            && held.Rules.Pdrs.TryGetValue(owner.Pdr, out var rule))
        {
            foreach (var urr in rule.UrrIds)
                if (held.Usage.TryGetValue(urr, out var usage))
                    usage.AddSent(rule.Pdi.SourceInterface == Ies.SourceInterface.Access, (ulong)sent, bytes);
            held.CheckedTotal = NodeSession.Unchecked; // the next usage check reads the session
        }
        return sent;
    }

    /// <summary>Decrements the TTL (IPv4, with its checksum) or hop limit (IPv6) in place; false when it expires.</summary>
    private static bool Routed(byte[] packet)
    {
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            if (packet[8] <= 1)
                return false;
            packet[8]--;
            int ihl = (packet[0] & 0x0f) * 4;
            if (ihl < 20 || ihl > packet.Length)
                return false;
            packet[10] = packet[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Gtpu.InetChecksum.Compute(packet.AsSpan(0, ihl)));
            return true;
        }
        if (packet.Length >= 40 && packet[0] >> 4 == 6)
        {
            if (packet[7] <= 1)
                return false;
            packet[7]--;
            return true;
        }
        return false;
    }

    /// <summary>The held packets of a session that goes (its stats slots).</summary>
    private void DiscardBuffered(CompiledSession compiled)
    {
        if (_buffered.Count == 0)
            return;
        foreach (var (_, slot) in compiled.PdrStats)
            if (_buffered.Remove(slot, out var queue))
            {
                foreach (var (packet, _) in queue)
                    _bufferedBytes -= packet.Length;
                Counters.UserPlane(PfcpCounters.BufferDropped, queue.Count);
            }
    }

    /// <summary>The session's BAR after a modification: removed, created, or its count and delay updated.</summary>
    private static Rules.CreateBar? BarAfter(Rules.CreateBar? bar, Messages.SessionModificationRequest req)
    {
        if (req.RemoveBar is not null)
            bar = null;
        if (req.CreateBar is { } created)
            bar = created;
        if (req.UpdateBar is { } u && bar is not null)
            bar = bar with
            {
                SuggestedBufferingPacketsCount = u.SuggestedBufferingPacketsCount ?? bar.SuggestedBufferingPacketsCount,
                DownlinkDataNotificationDelay = u.DownlinkDataNotificationDelay ?? bar.DownlinkDataNotificationDelay,
            };
        return bar;
    }

    /// <summary>
    /// The SMF's answer to a report (Downlink Data Report): DROBU drops what is held (it will
    /// not page); an Update BAR may change the count held and give a DL Buffering Duration,
    /// after which the held packets go (0: at once).
    /// </summary>
    private void BufferingAnswered(NodeSession session, Messages.SessionReportResponse answer)
    {
        if (!_table.TryGet(session.Seid, out var compiled))
            return;
        if (answer.Flags is { } flags && (flags & Ies.PfcpSrRspFlags.Drobu) != 0)
        {
            DiscardBuffered(compiled);
            return;
        }
        if (answer.UpdateBar is not { } u)
            return;
        if (u.SuggestedBufferingPacketsCount is { } count)
            session.Bar = (session.Bar ?? new Rules.CreateBar(u.BarId)) with { SuggestedBufferingPacketsCount = count };
        if (u.DlBufferingDuration is { } timer)
        {
            if (timer.Duration is not { } duration)
                session.BufferUntil = 0; // infinite: the node's BufferTime still bounds it
            else if (duration == TimeSpan.Zero)
                DiscardBuffered(compiled);
            else
                session.BufferUntil = _time.GetTimestamp() + Ticks(duration);
        }
    }

    /// <summary>
    /// Drops what was held longer than <see cref="PfcpNodeSettings.BufferTime"/>, or past its
    /// session's DL Buffering Duration (the timer thread, under the lock).
    /// </summary>
    private void ExpireBuffered()
    {
        if (_buffered.Count == 0)
            return;
        var now = _time.GetTimestamp();
        var oldest = now - Ticks(_settings.BufferTime);
        foreach (var (slot, queue) in _buffered.ToArray())
        {
            var expired = 0;
            if (_statsOwner.TryGetValue(slot, out var owner) && _sessions.TryGetValue(owner.Seid, out var session)
                && session.BufferUntil != 0 && now >= session.BufferUntil)
            {
                expired = queue.Count;
                foreach (var (packet, _) in queue)
                    _bufferedBytes -= packet.Length;
                queue.Clear();
            }
            while (queue.TryPeek(out var head) && head.At < oldest)
            {
                queue.Dequeue();
                _bufferedBytes -= head.Packet.Length;
                expired++;
            }
            if (expired > 0)
                Counters.UserPlane(PfcpCounters.BufferDropped, expired);
            if (queue.Count == 0)
                _buffered.Remove(slot);
        }
    }
}

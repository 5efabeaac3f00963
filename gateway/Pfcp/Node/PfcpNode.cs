using System.Buffers;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;
using Microsoft.Extensions.Logging;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>An association with a CP function (SMF) as the API shows it.</summary>
public sealed record AssociationInfo(string NodeId, string Endpoint, DateTime PeerRecoveryTimeStamp, DateTime LastHeard, int Sessions, bool UpInitiated);

/// <summary>A PFCP session as the API shows it.</summary>
/// <param name="FqCsids">The CP side's connection sets the session belongs to (Session Set Deletion deletes by them), as "node [csids]".</param>
public sealed record PfcpSessionInfo(ulong LocalSeid, ulong CpSeid, string Association, int Pdrs, int Fars, int Qers, int Urrs, string[] FqCsids);

/// <summary>
/// A URR's measurement as the node holds it: UR-SEQN of the next report, the volume counted
/// since the last one, and the quotas (volume counted against them up to the last report,
/// what a used-up volume quota stops: none, uplink, downlink or both).
/// </summary>
public sealed record UrrUsageInfo(uint UrrId, uint NextUrSeqn, DateTime LastReport, ulong UplinkSinceLastReport, ulong DownlinkSinceLastReport,
    ulong? VolumeQuotaTotal, ulong? VolumeQuotaUplink, ulong? VolumeQuotaDownlink, ulong QuotaCountedTotal, ulong QuotaCountedUplink,
    ulong QuotaCountedDownlink, string VolumeQuotaStops, uint? TimeQuota, DateTime? TimeQuotaGranted, bool TimeQuotaUsedUp);

/// <summary>A PFCP session's usage state: its URRs, and its User Plane Inactivity Timer (0: none).</summary>
public sealed record PfcpSessionUsage(ulong LocalSeid, ulong CpSeid, uint InactivityTimer, DateTime LastTraffic, bool InactivityReported,
    UrrUsageInfo[] Urrs);

/// <summary>GTP-U the control side sends itself, from one of our GTP-U addresses to a peer's port 2152:
/// End Markers on a switched path (TS 29.244 5.2.2.3 SNDEM), Router Advertisements down a session's tunnel.</summary>
public interface IGtpuSender
{
    void Send(IPAddress local, IPAddress peer, Gtpu.GtpuMessage message);

    /// <summary>With a transport level marking: the outer IPv4 TOS / IPv6 traffic class (a FAR's).</summary>
    void Send(IPAddress local, IPAddress peer, Gtpu.GtpuMessage message, byte tos) => Send(local, peer, message);
}

/// <summary>
/// The N4 node (TS 29.244): associations with SMFs (set up by either side, heartbeats both
/// ways, loss and restart detection), sessions compiled into the datapath, usage and
/// downlink-data reports, requests answered exactly once (retransmissions get the cached
/// response), requests we send retransmitted with T1/N1. A request is applied whole or not
/// at all: on any failure the session table and the maps are unchanged and the response
/// carries the cause and the offending IE or failed rule.
/// </summary>
public sealed partial class PfcpNode : IDisposable
{
    private readonly PfcpNodeSettings _settings;
    private readonly SessionTable _table;
    private readonly DatapathTables _tables;
    private readonly GtpAddresses _addresses;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IGtpuSender? _gtpu;
    private readonly object _gate = new();
    private readonly Dictionary<string, Association> _associations = [];
    private readonly Dictionary<ulong, NodeSession> _sessions = [];
    private readonly Dictionary<uint, (ulong Seid, ushort Pdr)> _statsOwner = [];
    private readonly AnswerCache _answered;
    private readonly Dictionary<uint, Pending> _pending = [];
    private readonly TeidAllocator _teids;
    private RuleMap<uint, CreateFar>? _recentFars;
    private RuleMap<uint, CreateQer>? _recentQers;
    private RuleMap<uint, CreateUrr>? _recentUrrs;
    private readonly RecentModelLists _recentModelLists = new();
    private readonly UeAddressPool _uePool;
    private Socket? _socket;
    private Thread? _receiver, _ticker;
    private volatile bool _stopping;
    private uint _nextSequence = 1;
    private ulong _nextSeid = 1;
    private long _lastUsageTick;

    public PfcpNode(PfcpNodeSettings settings, SessionTable table, DatapathTables tables, ILogger log,
        TimeProvider? time = null, IGtpuSender? gtpu = null)
    {
        _settings = settings;
        _table = table;
        _tables = tables;
        _addresses = table.Addresses;
        _log = log;
        _time = time ?? TimeProvider.System;
        _gtpu = gtpu;
        _answered = new AnswerCache(_time, settings.ResponseCacheTime);
        _uePool = new UeAddressPool(settings.UePools);
        // CHOOSE hands out TEIDs from the datapath's dense range: they are looked up by index.
        _teids = new TeidAllocator(tables.Dense.TeidCount > 0 ? tables.Dense.TeidBase : 0x1000);
        RecoveryTimeStamp = _time.GetUtcNow().UtcDateTime;
        RecoveryTimeStamp = RecoveryTimeStamp.AddTicks(-(RecoveryTimeStamp.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>When this node started: sent in every Association Setup and Heartbeat.</summary>
    public DateTime RecoveryTimeStamp { get; private set; }
    public PfcpCounters Counters { get; } = new();
    public IPEndPoint? LocalEndpoint => _socket?.LocalEndPoint as IPEndPoint;

    private sealed class Association(NodeId nodeId, IPEndPoint endpoint, DateTime peerRecovery, bool upInitiated)
    {
        public NodeId NodeId { get; } = nodeId;
        public IPEndPoint Endpoint { get; set; } = endpoint;
        public DateTime PeerRecovery { get; set; } = peerRecovery;
        /// <summary>The stored Recovery Time Stamp was the peer's clock when it arrived (a start time of "now", or a clock).</summary>
        public bool RecoveryWasClock { get; set; }
        public bool ClockWarned { get; set; }
        public long LastHeard { get; set; }
        public long LastHeartbeatSent { get; set; }
        public bool HeartbeatOutstanding { get; set; }
        public bool UpInitiated { get; } = upInitiated;
        public HashSet<ulong> Sessions { get; } = [];
        public string Key => NodeId.ToString();
    }

    /// <summary>
    /// UP function features we announce: F-TEID allocation (FTUP), End Marker (EMPU), UE IP
    /// allocation (UEIP), PDI optimisation (PDIU), FAR ID for Quota Action (QUOAC), framed routing (FRRT).
    /// </summary>
    private static readonly UpFunctionFeatures OurFeatures =
        UpFunctionFeatures.With(UpFeature.Ftup, UpFeature.Empu, UpFeature.Ueip, UpFeature.Pdiu, UpFeature.Quoac, UpFeature.Frrt);

    private sealed class NodeSession(ulong seid, FSeid cp, string association)
    {
        public ulong Seid { get; } = seid;
        public FSeid Cp { get; set; } = cp;
        public string Association { get; } = association;
        public PfcpRuleSet Rules { get; set; } = PfcpRuleSet.Empty;
        // Compact forms: every held session keeps these (one or two entries each).
        public SmallMap<uint, UrrUsage> Usage { get; } = new();
        public SmallList<uint> Teids { get; } = new();
        public SmallList<IPAddress> UeAddresses { get; } = new();
        /// <summary>The CP side's FQ-CSIDs for the session (empty: the SMF does not use partial failure handling).</summary>
        public ValueList<FqCsid> FqCsids { get; set; } = ValueList<FqCsid>.Empty;
        /// <summary>The session's BAR (its Suggested Buffering Packets Count bounds what is held per PDR).</summary>
        public CreateBar? Bar { get; set; }
        /// <summary>Held packets go at this timestamp (a DL Buffering Duration from the SMF; 0: none).</summary>
        public long BufferUntil { get; set; }

        /// <summary>
        /// The sum of packets and bytes of the session's PDR counters at the last usage check,
        /// and the first instant a time trigger can fire: while both say nothing changed, the
        /// per-second check skips the session (counters only grow, so an equal sum means equal
        /// counters, and nothing that was not due becomes due). <see cref="Unchecked"/> forces
        /// the next check (new rules or counters).
        /// </summary>
        public ulong CheckedTotal { get; set; } = Unchecked;
        public DateTime NextTimeDue { get; set; }
        public const ulong Unchecked = ulong.MaxValue;
        /// <summary>The datapath's usage epoch when the counters were last read (0: never; see <see cref="IUsageActivity"/>).</summary>
        public ulong CheckedEpoch { get; set; }
        /// <summary>
        /// The compiled session the last check read, while nothing has changed since (null
        /// after any change of rules, <see cref="SyncUsage"/>): where the check looks for the
        /// datapath's stamps, so an idle session costs no table lookup.
        /// </summary>
        public CompiledSession? Verified
        {
            get;
            set
            {
                field = value;
                // Most sessions have one or two PDRs: their stats slots kept here spare the walk
                // two more objects to load (the compiled session and its slot list).
                _statsCount = value is null || value.PdrStats.Count > 2 ? (byte)0 : (byte)value.PdrStats.Count;
                int i = 0;
                if (_statsCount > 0)
                    foreach (var (_, slot) in value!.PdrStats)
                        (i++ == 0 ? ref _stats0 : ref _stats1) = slot;
            }
        }
        private uint _stats0, _stats1;
        private byte _statsCount;

        /// <summary>Did the datapath stamp one of the verified PDRs in epoch <paramref name="since"/> or later?</summary>
        public bool CountedSince(IUsageActivity activity, ulong since) => _statsCount switch
        {
            0 => Verified is not { } c || activity.AnyCountedSince(c.PdrStats, since),
            1 => activity.LastCounted(_stats0) >= since,
            _ => activity.LastCounted(_stats0) >= since || activity.LastCounted(_stats1) >= since,
        };

        /// <summary>
        /// User Plane Inactivity Timer (TS 29.244 5.11; seconds, 0: none): with no traffic on
        /// the session for that long the node reports UPIR, once until traffic resumes.
        /// </summary>
        public uint InactivityTimer { get; set; }
        public DateTime LastTraffic { get; set; }
        public bool InactivityReported { get; set; }

        public void SetInactivityTimer(uint? seconds, DateTime now)
        {
            InactivityTimer = seconds ?? 0;
            LastTraffic = now;
            InactivityReported = false;
        }
    }

    private sealed class Pending(byte[] bytes, IPEndPoint to, PfcpMessageType type, int retries, Action<PfcpDecoded?> done)
    {
        public byte[] Bytes { get; } = bytes;
        public IPEndPoint To { get; } = to;
        public PfcpMessageType Type { get; } = type;
        public int Retries { get; } = retries;
        public int Attempts { get; set; } = 1;
        public long NextAt { get; set; }
        public Action<PfcpDecoded?> Done { get; } = done;
    }

    // ------------------------------------------------------------------ lifecycle

    public void Start()
    {
        _socket = new Socket(_settings.Listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(_settings.Listen);
        _socket.Blocking = true; // recvmmsg waits on it, up to the receive timeout
        _socket.ReceiveTimeout = 200;
        _datagrams = new DatagramBatch();
        _receiver = new Thread(Receive) { IsBackground = true, Name = "pfcp receive" };
        _ticker = new Thread(Tick) { IsBackground = true, Name = "pfcp timers" };
        _receiver.Start();
        _ticker.Start();
        LogListening(_log, LocalEndpoint!.ToString(), _settings.NodeId.ToString());
    }

    public void Dispose()
    {
        _stopping = true;
        var stopped = _receiver?.Join(TimeSpan.FromSeconds(2)) ?? true;
        stopped &= _ticker?.Join(TimeSpan.FromSeconds(2)) ?? true;
        _socket?.Dispose();
        // Nothing more is reported from here on: an export now is exact (see Export).
        lock (_gate)
            _stopped = stopped;
    }

    /// <summary>Set once Dispose has seen both threads end.</summary>
    private bool _stopped;

    public IReadOnlyList<AssociationInfo> Associations()
    {
        lock (_gate)
            return _associations.Values.Select(a => new AssociationInfo(a.Key, a.Endpoint.ToString(), a.PeerRecovery,
                _time.GetUtcNow().UtcDateTime - _time.GetElapsedTime(a.LastHeard), a.Sessions.Count, a.UpInitiated)).ToArray();
    }

    /// <summary>The usage state of the session with this UP SEID (null: no such session), counters read now.</summary>
    public PfcpSessionUsage? Usage(ulong seid)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(seid, out var s))
                return null;
            var urrs = s.Usage.Values.OrderBy(u => u.Rule.UrrId).Select(u =>
            {
                var (ul, dl, _, _) = u.Delta(UsageCounters(s, u));
                var quota = u.Rule.VolumeQuota;
                return new UrrUsageInfo(u.Rule.UrrId, u.Sequence, u.LastReport, ul, dl, quota?.Total, quota?.Uplink, quota?.Downlink,
                    u.TotalBytes, u.UplinkBytes, u.DownlinkBytes, u.VolumeExhausted.ToString().ToLowerInvariant(),
                    u.Rule.TimeQuota, u.Rule.TimeQuota is null ? null : u.QuotaGranted, u.TimeQuotaUsedUp);
            }).ToArray();
            return new PfcpSessionUsage(s.Seid, s.Cp.Seid, s.InactivityTimer, s.LastTraffic, s.InactivityReported, urrs);
        }
    }

    public IReadOnlyList<PfcpSessionInfo> Sessions()
    {
        lock (_gate)
            return _sessions.Values.OrderBy(s => s.Seid).Select(s => new PfcpSessionInfo(s.Seid, s.Cp.Seid, s.Association,
                s.Rules.Pdrs.Count, s.Rules.Fars.Count, s.Rules.Qers.Count, s.Rules.Urrs.Count,
                [.. s.FqCsids.Select(f => f.ToString())])).ToArray();
    }

    // ------------------------------------------------------------------ receiving

    private void Receive()
    {
        var any = new IPEndPoint(_settings.Listen.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        // The sender's address is read into one SocketAddress, and the IPEndPoint made for it
        // is kept while the same peer keeps sending (a node has a few peers): no endpoint
        // objects per datagram.
        var address = new SocketAddress(_settings.Listen.AddressFamily);
        SocketAddress? lastAddress = null;
        IPEndPoint? last = null;
        while (!_stopping)
        {
            int count;
            try
            {
                count = _datagrams.Receive(_socket!);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                or SocketError.ConnectionReset or SocketError.ConnectionRefused)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            // Every request already waiting is handled before their answers go out together.
            _batching = true;
            try
            {
                for (int i = 0; i < count; i++)
                {
                    _datagrams.Sender(i, address);
                    if (last is null || !address.Equals(lastAddress))
                    {
                        last = (IPEndPoint)any.Create(address);
                        lastAddress = last.Serialize();
                    }
                    try
                    {
                        Handle(_datagrams.Datagram(i), last);
                    }
                    catch (Exception e)
                    {
                        Counters.Dropped("internal-error");
                        LogHandlerFailed(_log, last.ToString(), e);
                    }
                }
            }
            finally
            {
                try
                {
                    CommitHeld(); // its answers join the batch's
                }
                finally
                {
                    _batching = false;
                }
                if (_datagrams.Queued > 0)
                    for (var lost = _datagrams.Flush(_socket!); lost > 0; lost--)
                        Counters.Dropped("send-failed"); // the peer retransmits
            }
        }
    }

    /// <summary>Datagrams in and out of the receive thread, a batch at a time (1 MiB pinned: made by Start).</summary>
    private DatagramBatch _datagrams = null!;

    /// <summary>True on the receive thread while it handles a batch: answers are queued in <see cref="_datagrams"/>.</summary>
    [ThreadStatic] private static bool _batching;

    /// <summary>An accepted establishment of the batch whose map writes are held (answered by <see cref="CommitHeld"/>).</summary>
    private readonly record struct HeldReply(SessionEstablishmentResponse Answer, PfcpHeader Header, IPEndPoint From, ulong CpSeid,
        CompiledSession Compiled);

    private readonly List<HeldReply> _heldReplies = [];

    /// <summary>
    /// Writes the batch's held establishments into the maps (one call per map), then answers
    /// them, in order. A session whose writes the kernel refused was withdrawn from the table:
    /// it is forgotten here too and answered with System failure, so the SMF never hears of a
    /// session the datapath does not hold.
    /// </summary>
    private void CommitHeld()
    {
        lock (_gate)
        {
            if (_heldReplies.Count == 0)
                return;
            IReadOnlyList<ulong> withdrawn;
            try
            {
                withdrawn = _table.CommitHeldWrites();
            }
            catch (Exception e)
            {
                // Not expected (refused writes are handled in the commit): whatever is left of
                // the batch's sessions is not trusted, and each is refused.
                LogHandlerFailed(_log, "commit of held establishments", e);
                withdrawn = [.. _heldReplies.Select(h => h.Compiled.Seid)];
            }
            try
            {
                foreach (var held in _heldReplies) // answering holds nothing back: the list does not change
                {
                    try
                    {
                        AnswerHeld(held, withdrawn);
                    }
                    catch (Exception e)
                    {
                        Counters.Dropped("internal-error");
                        LogHandlerFailed(_log, held.From.ToString(), e);
                    }
                }
            }
            finally
            {
                _heldReplies.Clear();
            }
        }
    }

    private void AnswerHeld(HeldReply held, IReadOnlyList<ulong> withdrawn)
    {
        var seid = held.Compiled.Seid;
        if (!withdrawn.Contains(seid))
        {
            Reply(held.Answer, held.Header, held.From, held.CpSeid);
            AdvertiseWhenReachable(before: null, held.Compiled);
            return;
        }
        foreach (var (_, stats) in held.Compiled.PdrStats)
            _statsOwner.Remove(stats);
        TryDropSession(seid); // the SMF is told it failed either way: it will not use the SEID
        LogSessionRefused(_log, "establishment", held.CpSeid, nameof(PfcpCause.SystemFailure),
            $"the datapath refused its map writes: {_table.WithdrawnBecause?.Message}");
        Reply(new SessionEstablishmentResponse(_settings.NodeId, PfcpCause.SystemFailure), held.Header, held.From, held.CpSeid);
    }

    /// <summary>Processes one datagram from <paramref name="from"/> (public for in-process tests and benchmarks).</summary>
    public void Handle(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        var outcome = PfcpCodec.Decode(datagram);
        lock (_gate)
        {
            switch (outcome)
            {
                case PfcpDropped d:
                    Counters.Dropped(d.Reason.ToString());
                    return;
                case PfcpVersionNotSupported v:
                    Counters.Dropped("version-not-supported");
                    if (v.SequenceNumber is { } vs)
                        Send(new VersionNotSupportedResponse(), vs, null, from);
                    return;
                case PfcpRejected r:
                    Counters.Received(r.Header.MessageType);
                    if (!r.Header.MessageType.IsRequest())
                    {
                        CompletePending(r.Header.SequenceNumber, null);
                        return;
                    }
                    if (Retransmission(from, r.Header.SequenceNumber))
                        return;
                    LogRejected(_log, r.Header.MessageType.ToString(), from.ToString(), r.Cause.ToString(), r.Detail);
                    if (PfcpErrorResponses.For(r, _settings.NodeId, RecoveryTimeStamp) is { } answer)
                        Reply(answer, r.Header, from, SeidForAnswer(r.Header, r.PeerFSeid));
                    return;
                case PfcpDecoded d:
                    Counters.Received(d.Header.MessageType, CauseOf(d.Body));
                    if (!d.Header.MessageType.IsRequest())
                    {
                        CompletePending(d.Header.SequenceNumber, d);
                        return;
                    }
                    if (Retransmission(from, d.Header.SequenceNumber))
                        return;
                    Dispatch(d, from);
                    return;
            }
        }
    }

    private bool Retransmission(IPEndPoint from, uint sequence)
    {
        if (!_answered.TryGet(from, sequence, out var cached))
        {
            // Received again before the batch answered it: the one answer goes to both.
            foreach (var held in _heldReplies)
            {
                if (held.Header.SequenceNumber == sequence && held.From.Equals(from))
                {
                    Counters.Dropped("retransmission-answered-from-cache");
                    return true;
                }
            }
            return false;
        }
        // Same peer, same sequence number: the answer again, never the request again. Counted
        // before it is sent, so whoever receives it sees the count.
        Counters.Dropped("retransmission-answered-from-cache");
        SendTo(cached, from);
        return true;
    }

    private ulong? SeidForAnswer(PfcpHeader header, FSeid? peer)
    {
        if (!header.MessageType.IsSessionMessage())
            return null;
        if (peer is not null)
            return peer.Seid;
        return header.Seid is { } s && _sessions.TryGetValue(s, out var session) ? session.Cp.Seid : 0;
    }

    private void Dispatch(PfcpDecoded d, IPEndPoint from)
    {
        var header = d.Header;
        switch (d.Body)
        {
            case HeartbeatRequest hb:
                if (FindByEndpoint(from) is { } known)
                {
                    known.LastHeard = _time.GetTimestamp();
                    HeartbeatRecovery(known, hb.RecoveryTimeStamp);
                }
                Reply(new HeartbeatResponse(RecoveryTimeStamp), header, from, null);
                return;
            case AssociationSetupRequest setup:
                Reply(AssociationSetup(setup.NodeId, setup.RecoveryTimeStamp, from, upInitiated: false), header, from, null);
                return;
            case AssociationUpdateRequest update:
                Reply(new AssociationUpdateResponse(_settings.NodeId,
                    _associations.ContainsKey(update.NodeId.ToString()) ? PfcpCause.RequestAccepted : PfcpCause.NoEstablishedPfcpAssociation), header, from, null);
                return;
            case AssociationReleaseRequest release:
                if (_associations.TryGetValue(release.NodeId.ToString(), out var leaving))
                {
                    RemoveAssociation(leaving, purge: true, "released by the peer");
                    Reply(new AssociationReleaseResponse(_settings.NodeId, PfcpCause.RequestAccepted), header, from, null);
                }
                else
                {
                    Reply(new AssociationReleaseResponse(_settings.NodeId, PfcpCause.NoEstablishedPfcpAssociation), header, from, null);
                }
                return;
            case NodeReportRequest:
                Reply(new NodeReportResponse(_settings.NodeId, PfcpCause.ServiceNotSupported), header, from, null);
                return;
            case SessionEstablishmentRequest est:
                Establish(est, header, from);
                return;
            case SessionModificationRequest mod:
                Modify(mod, header, from);
                return;
            case SessionDeletionRequest:
                Delete(header, from);
                return;
            case SessionReportRequest:
                Reply(new SessionReportResponse(PfcpCause.ServiceNotSupported), header, from, header.Seid);
                return;
            case SessionSetDeletionRequest setDeletion:
                Reply(DeleteSessionSets(setDeletion), header, from, null);
                return;
            default:
                // Requests the node does not implement (PFD Management, Session Set Modification)
                // are answered "Service not supported" where the response can say so, so the
                // peer does not retransmit into silence.
                Counters.Dropped("unsupported-request");
                if (PfcpErrorResponses.For(header.MessageType, PfcpCause.ServiceNotSupported, null, _settings.NodeId, RecoveryTimeStamp) is { } answer)
                    Reply(answer, header, from, null);
                return;
        }
    }

    // ------------------------------------------------------------------ associations

    private bool Allowed(IPEndPoint from) => _settings.Peers.Any(p => p.Contains(from.Address));

    private AssociationSetupResponse AssociationSetup(NodeId peer, DateTime peerRecovery, IPEndPoint from, bool upInitiated)
    {
        if (!Allowed(from))
        {
            Counters.Dropped("peer-not-allowed");
            LogRefusedPeer(_log, peer.ToString(), from.ToString());
            return new AssociationSetupResponse(_settings.NodeId, PfcpCause.RequestRejected, RecoveryTimeStamp);
        }
        Accept(peer, peerRecovery, from, upInitiated);
        return new AssociationSetupResponse(_settings.NodeId, PfcpCause.RequestAccepted, RecoveryTimeStamp)
        {
            UpFunctionFeatures = OurFeatures,
        };
    }

    private void Accept(NodeId peer, DateTime peerRecovery, IPEndPoint from, bool upInitiated)
    {
        if (_associations.TryGetValue(peer.ToString(), out var existing))
        {
            existing.Endpoint = from;
            existing.LastHeard = _time.GetTimestamp();
            if (existing.PeerRecovery != peerRecovery)
                PeerRestarted(existing, peerRecovery);
            return;
        }
        var association = new Association(peer, from, peerRecovery, upInitiated)
        {
            RecoveryWasClock = IsClock(peerRecovery),
            LastHeard = _time.GetTimestamp(),
            LastHeartbeatSent = _time.GetTimestamp(),
        };
        _associations[association.Key] = association;
        LogAssociated(_log, association.Key, from.ToString());
    }

    /// <summary>Within this of our clock, a Recovery Time Stamp may be the sender's clock rather than its start time.</summary>
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(2);

    private bool IsClock(DateTime stamp) => (stamp - _time.GetUtcNow().UtcDateTime).Duration() <= ClockTolerance;

    /// <summary>
    /// A Recovery Time Stamp in a Heartbeat that differs from the stored one means the peer
    /// restarted (TS 23.007 clause 19A), with two exceptions for SMFs that put their current
    /// time in requests instead of their start time (the OAI SMF does, in Association Setup
    /// and Heartbeat Requests, while its responses carry the real start time): a stamp equal
    /// to our clock is a clock, not a restart; and when the stored stamp was such a clock, an
    /// earlier one corrects it (a restart cannot have happened before a time already seen).
    /// A real restart is still found: by its Association Setup, or by the next Heartbeat,
    /// whose start time is then in the past.
    /// </summary>
    private void HeartbeatRecovery(Association a, DateTime stamp)
    {
        if (stamp == a.PeerRecovery)
            return;
        if (IsClock(stamp))
        {
            if (!a.ClockWarned)
                LogRecoveryIsClock(_log, a.Key, stamp);
            a.ClockWarned = true;
            return;
        }
        if (a.RecoveryWasClock && stamp < a.PeerRecovery)
        {
            a.PeerRecovery = stamp;
            a.RecoveryWasClock = false;
            return;
        }
        PeerRestarted(a, stamp);
    }

    /// <summary>The peer restarted (a new Recovery Time Stamp): the sessions it had are gone on its side.</summary>
    private void PeerRestarted(Association a, DateTime recovery)
    {
        LogPeerRestarted(_log, a.Key, a.Sessions.Count);
        foreach (var seid in a.Sessions.ToArray())
            TryDropSession(seid);
        a.PeerRecovery = recovery;
        a.RecoveryWasClock = IsClock(recovery);
    }

    private void RemoveAssociation(Association a, bool purge, string why)
    {
        _associations.Remove(a.Key);
        LogAssociationRemoved(_log, a.Key, why, purge ? a.Sessions.Count : 0);
        if (purge)
            foreach (var seid in a.Sessions.ToArray())
                TryDropSession(seid);
    }

    /// <summary><see cref="DropSession"/> for purges: a session the kernel will not let go of is logged and kept.</summary>
    private void TryDropSession(ulong seid)
    {
        try
        {
            DropSession(seid);
        }
        catch (Bpf.BpfException e)
        {
            LogHandlerFailed(_log, $"purge of session {seid}", e);
        }
    }

    private Association? FindByEndpoint(IPEndPoint from) =>
        _associations.Values.FirstOrDefault(a => a.Endpoint.Equals(from)) ?? _associations.Values.FirstOrDefault(a => a.Endpoint.Address.Equals(from.Address));

    // ------------------------------------------------------------------ sessions

    private void Establish(SessionEstablishmentRequest req, PfcpHeader header, IPEndPoint from)
    {
        var cpSeid = req.CpFSeid.Seid;
        if (!_associations.TryGetValue(req.NodeId.ToString(), out var association))
        {
            Reply(new SessionEstablishmentResponse(_settings.NodeId, PfcpCause.NoEstablishedPfcpAssociation), header, from, cpSeid);
            return;
        }
        var seid = _nextSeid;
        var chooser = new ChooseResolver(_teids, _uePool, _addresses);
        try
        {
            CheckSessionFqCsids(req.FqCsids);
            var endpoints = RuleMap<byte, TrafficEndpoint>.Empty.ToBuilder();
            var createdEndpoints = new List<TrafficEndpoint>();
            CreateEndpoints(req.CreateTrafficEndpoints, req.CreatePdrs, endpoints, chooser, createdEndpoints);
            var created = new List<CreatedPdr>();
            var pdrs = RuleMap<ushort, CreatePdr>.Empty.ToBuilder();
            foreach (var p in req.CreatePdrs)
            {
                var (resolved, report) = chooser.Resolve(p);
                if (!pdrs.TryAdd(p.PdrId, resolved))
                    throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, $"PDR {p.PdrId} is created twice", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
                if (report)
                    created.Add(CreatedFor(resolved));
            }
            // Sessions of one template share their FAR, QER and URR maps (their rules already are).
            _recentFars = Unique(req.CreateFars, f => f.FarId, RuleKind.Far).SharedWith(_recentFars);
            _recentQers = Unique(req.CreateQers, q => q.QerId, RuleKind.Qer).SharedWith(_recentQers);
            _recentUrrs = Unique(req.CreateUrrs, u => u.UrrId, RuleKind.Urr).SharedWith(_recentUrrs);
            var rules = new PfcpRuleSet(pdrs.ToImmutable(), _recentFars, _recentQers, _recentUrrs, endpoints.ToImmutable());
            ReserveChosenTeids(rules, chooser);
            // In a batch the answer goes out at its end, so the map writes can wait for it too:
            // the batch's establishments then write each map once (CommitHeld).
            var hold = _batching;
            var model = rules.ToModel(seid, cpSeid, req.CpFSeid.Ipv4 ?? req.CpFSeid.Ipv6, ExhaustedUrrs(rules, session: null), _recentModelLists);
            CompiledSession compiled;
            try
            {
                compiled = _table.Establish(model, holdWrites: hold);
            }
            catch (Bpf.BpfException e)
            {
                throw PfcpRefusal.From(e);
            }
            _nextSeid++;
            var session = new NodeSession(seid, req.CpFSeid, association.Key) { Rules = rules, FqCsids = req.FqCsids, Bar = req.CreateBar };
            session.SetInactivityTimer(req.UserPlaneInactivityTimer, _time.GetUtcNow().UtcDateTime);
            session.Teids.AddRange(chooser.AllocatedTeids);
            session.UeAddresses.AddRange(chooser.AllocatedUeAddresses);
            SyncUsage(session, compiled, previous: null);
            _sessions[seid] = session;
            association.Sessions.Add(seid);
            var answer = new SessionEstablishmentResponse(_settings.NodeId, PfcpCause.RequestAccepted)
            {
                UpFSeid = LocalFSeid(seid),
                CreatedPdrs = [.. created],
                CreatedTrafficEndpoints = [.. createdEndpoints],
                // An SMF that sends its FQ-CSID supports partial failure handling: it gets ours.
                UpFqCsid = req.FqCsids.Count > 0 ? LocalFqCsid : null,
            };
            if (hold)
            {
                _heldReplies.Add(new HeldReply(answer, header, from, cpSeid, compiled));
                return;
            }
            Reply(answer, header, from, cpSeid);
            AdvertiseWhenReachable(before: null, compiled);
        }
        catch (Exception e) when (e is PfcpRefusal or RuleException)
        {
            chooser.Rollback();
            var refusal = e as PfcpRefusal ?? PfcpRefusal.From((RuleException)e);
            LogSessionRefused(_log, "establishment", cpSeid, refusal.Cause.ToString(), refusal.Message);
            Reply(new SessionEstablishmentResponse(_settings.NodeId, refusal.Cause)
            {
                OffendingIe = refusal.OffendingIe,
                FailedRuleId = refusal.FailedRule,
            }, header, from, cpSeid);
        }
    }

    private void Modify(SessionModificationRequest req, PfcpHeader header, IPEndPoint from)
    {
        if (header.Seid is not { } seid || !_sessions.TryGetValue(seid, out var session))
        {
            Reply(new SessionModificationResponse(PfcpCause.SessionContextNotFound), header, from, 0);
            return;
        }
        var chooser = new ChooseResolver(_teids, _uePool, _addresses);
        try
        {
            var fqCsids = MergeFqCsids(session.FqCsids, req.FqCsids);
            var rules = session.Rules;
            var pdrs = rules.Pdrs.ToBuilder();
            var fars = rules.Fars.ToBuilder();
            var qers = rules.Qers.ToBuilder();
            var urrs = rules.Urrs.ToBuilder();
            var endpoints = rules.TrafficEndpoints.ToBuilder();
            foreach (var id in req.RemovePdrs) Remove(pdrs, id, RuleKind.Pdr);
            foreach (var id in req.RemoveFars) Remove(fars, id, RuleKind.Far);
            foreach (var id in req.RemoveQers) Remove(qers, id, RuleKind.Qer);
            foreach (var id in req.RemoveUrrs) Remove(urrs, id, RuleKind.Urr);
            foreach (var id in req.RemoveTrafficEndpoints)
                if (!endpoints.Remove(id))
                    throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect, $"traffic endpoint {id} to remove does not exist",
                        offendingIe: (ushort)IeType.RemoveTrafficEndpoint);
            var createdEndpoints = new List<TrafficEndpoint>();
            // The PDRs that may name an endpoint, listed only when the request touches endpoints.
            IReadOnlyCollection<CreatePdr> users = req.CreateTrafficEndpoints.IsEmpty && req.UpdateTrafficEndpoints.IsEmpty
                ? [] : req.CreatePdrs.Concat(pdrs.Values).ToArray();
            CreateEndpoints(req.CreateTrafficEndpoints, users, endpoints, chooser, createdEndpoints);
            foreach (var u in req.UpdateTrafficEndpoints)
            {
                if (!endpoints.TryGetValue(u.TrafficEndpointId, out var current))
                    throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect, $"traffic endpoint {u.TrafficEndpointId} to update does not exist",
                        offendingIe: (ushort)IeType.UpdateTrafficEndpoint);
                var (source, blamed) = EndpointUser(u.TrafficEndpointId, users);
                var (resolved, report) = chooser.Resolve(current.With(u), source, blamed);
                endpoints[u.TrafficEndpointId] = resolved;
                if (report)
                    createdEndpoints.Add(CreatedFor(resolved));
            }
            var created = new List<CreatedPdr>();
            foreach (var p in req.CreatePdrs)
            {
                var (resolved, report) = chooser.Resolve(p);
                if (!pdrs.TryAdd(p.PdrId, resolved))
                    throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, $"PDR {p.PdrId} already exists", failedRule: new FailedRuleId(RuleKind.Pdr, p.PdrId));
                if (report)
                    created.Add(CreatedFor(resolved));
            }
            AddAll(fars, req.CreateFars, f => f.FarId, RuleKind.Far);
            AddAll(qers, req.CreateQers, q => q.QerId, RuleKind.Qer);
            AddAll(urrs, req.CreateUrrs, u => u.UrrId, RuleKind.Urr);
            foreach (var u in req.UpdatePdrs)
                pdrs[u.PdrId] = PfcpRuleSet.Apply(Existing(pdrs, u.PdrId, RuleKind.Pdr), u);
            var endMarkers = new List<(OuterHeaderCreation Old, uint FarId)>();
            foreach (var u in req.UpdateFars)
            {
                var old = Existing(fars, u.FarId, RuleKind.Far);
                var updated = PfcpRuleSet.Apply(old, u);
                fars[u.FarId] = updated;
                var sndem = u.UpdateForwardingParameters?.SmReqFlags is { } flags && (flags & PfcpSmReqFlags.Sndem) != 0;
                if (sndem && old.ForwardingParameters?.OuterHeaderCreation is { } was && was != updated.ForwardingParameters?.OuterHeaderCreation)
                    endMarkers.Add((was, u.FarId));
            }
            foreach (var u in req.UpdateQers)
                qers[u.QerId] = PfcpRuleSet.Apply(Existing(qers, u.QerId, RuleKind.Qer), u);
            foreach (var u in req.UpdateUrrs)
                urrs[u.UrrId] = PfcpRuleSet.Apply(Existing(urrs, u.UrrId, RuleKind.Urr), u);

            var next = new PfcpRuleSet(pdrs.ToImmutable(), fars.ToImmutable(), qers.ToImmutable(), urrs.ToImmutable(), endpoints.ToImmutable());
            ReserveChosenTeids(next, chooser);
            // Usage of URRs that go away, read before their PDRs lose their counters; reported
            // (which moves the tracker on: UR-SEQN, baseline) only once the change is in place,
            // so a refused request leaves it for a later report.
            var now = _time.GetUtcNow().UtcDateTime;
            var reports = new List<UsageReport>();
            var removed = new List<(UrrUsage Usage, Dictionary<ushort, (Counter, bool)> Counters)>();
            foreach (var id in req.RemoveUrrs)
                if (session.Usage.TryGetValue(id, out var usage))
                    removed.Add((usage, UsageCounters(session, usage)));
            // A new quota (Update URR) or a new URR starts afresh; the others keep their quota state.
            var grants = new QuotaGrants(req);
            _table.TryGet(seid, out var previous);
            var model = next.ToModel(seid, session.Cp.Seid, session.Cp.Ipv4 ?? session.Cp.Ipv6, ExhaustedUrrs(next, session, grants), _recentModelLists, rememberLists: false);
            CompiledSession compiled;
            try
            {
                compiled = _table.Modify(model);
            }
            catch (Bpf.BpfException e)
            {
                throw PfcpRefusal.From(e); // the compiler undid its writes: the session is as it was
            }
            foreach (var (usage, counters) in removed)
                reports.Add(usage.Report(UsageReportTriggerFlags.Termr, counters, now));
            var usageAsItWas = req.UserPlaneInactivityTimer is null && UsageUnchanged(session.Rules, next, previous, compiled);
            session.Rules = next;
            session.FqCsids = fqCsids;
            session.Bar = BarAfter(session.Bar, req);
            session.Teids.AddRange(chooser.AllocatedTeids);
            session.UeAddresses.AddRange(chooser.AllocatedUeAddresses);
            var query = req.QueryUrrs.ToHashSet();
            if (req.Flags is { } f && (f & PfcpSmReqFlags.Qaurr) != 0)
                query.UnionWith(next.Urrs.Keys);
            SyncUsage(session, compiled, previous, recheck: !usageAsItWas);
            if (req.UserPlaneInactivityTimer is { } inactivity)
                session.SetInactivityTimer(inactivity, now);
            foreach (var u in req.UpdateUrrs)
                if (session.Usage.TryGetValue(u.UrrId, out var renewed))
                {
                    if (u.VolumeQuota is not null)
                        renewed.GrantVolumeQuota();
                    if (u.TimeQuota is not null)
                        renewed.GrantTimeQuota(now);
                    // A quota granted afresh, or a new validity time, is valid from now.
                    if (u.VolumeQuota is not null || u.TimeQuota is not null || u.QuotaValidityTime is not null)
                        renewed.StartValidity(now);
                }
            var queried = reports.Count;
            foreach (var id in query)
                if (session.Usage.TryGetValue(id, out var usage))
                    reports.Add(usage.Report(UsageReportTriggerFlags.Immer, UsageCounters(session, usage), now));
            if (reports.Count > queried)
                foreach (var linking in LinkedTo(session, reports.GetRange(queried, reports.Count - queried)))
                    reports.Add(linking.Report(UsageReportTriggerFlags.Liusa, UsageCounters(session, linking), now));
            foreach (var (old, _) in endMarkers)
                SendEndMarker(old);
            ReleaseBuffered(compiled, dropAll: req.Flags is { } smFlags && (smFlags & PfcpSmReqFlags.Drobu) != 0);
            Reply(new SessionModificationResponse(PfcpCause.RequestAccepted)
            {
                CreatedPdrs = [.. created],
                UsageReports = [.. reports],
                CreatedTrafficEndpoints = [.. createdEndpoints],
            }, header, from, session.Cp.Seid);
            AdvertiseWhenReachable(previous, compiled);
        }
        catch (Exception e) when (e is PfcpRefusal or RuleException)
        {
            chooser.Rollback();
            var refusal = e as PfcpRefusal ?? PfcpRefusal.From((RuleException)e);
            LogSessionRefused(_log, "modification", session.Cp.Seid, refusal.Cause.ToString(), refusal.Message);
            Reply(new SessionModificationResponse(refusal.Cause)
            {
                OffendingIe = refusal.OffendingIe,
                FailedRuleId = refusal.FailedRule,
            }, header, from, session.Cp.Seid);
        }
    }

    private void Delete(PfcpHeader header, IPEndPoint from)
    {
        if (header.Seid is not { } seid || !_sessions.TryGetValue(seid, out var session))
        {
            Reply(new SessionDeletionResponse(PfcpCause.SessionContextNotFound), header, from, 0);
            return;
        }
        var now = _time.GetUtcNow().UtcDateTime;
        // Read before the session leaves the table, reported (UR-SEQN and baseline moved on)
        // only once it has: a refused deletion leaves the usage for the one that succeeds.
        var final = session.Usage.Values.Select(u => (Usage: u, Counters: UsageCounters(session, u))).ToArray();
        try
        {
            DropSession(seid);
        }
        catch (Bpf.BpfException e)
        {
            var refusal = PfcpRefusal.From(e); // the session is still installed, whole
            LogSessionRefused(_log, "deletion", session.Cp.Seid, refusal.Cause.ToString(), refusal.Message);
            Reply(new SessionDeletionResponse(refusal.Cause), header, from, session.Cp.Seid);
            return;
        }
        var reports = final.Select(f => f.Usage.Report(UsageReportTriggerFlags.Termr, f.Counters, now)).ToArray();
        Reply(new SessionDeletionResponse(PfcpCause.RequestAccepted) { UsageReports = [.. reports] }, header, from, session.Cp.Seid);
    }

    /// <summary>
    /// Removes a session from the datapath and gives back its TEIDs and UE addresses. When the
    /// kernel refuses to unpublish it, the <see cref="Bpf.BpfException"/> is thrown and the
    /// session stays, in the maps and here.
    /// </summary>
    private void DropSession(ulong seid)
    {
        if (!_sessions.TryGetValue(seid, out var session))
            return;
        _table.TryGet(seid, out var compiled);
        try
        {
            _table.Delete(seid);
        }
        catch (RuleException)
        {
            // already gone from the table
        }
        _sessions.Remove(seid);
        if (compiled is not null)
        {
            DiscardBuffered(compiled);
            foreach (var (_, stats) in compiled.PdrStats) // the struct enumerator: nothing boxed
                _statsOwner.Remove(stats);
        }
        foreach (var t in session.Teids)
            _teids.Release(t);
        foreach (var a in session.UeAddresses)
            _uePool.Release(a);
        if (_associations.TryGetValue(session.Association, out var association))
            association.Sessions.Remove(seid);
    }

    private FSeid LocalFSeid(ulong seid) => _settings.Listen.Address.AddressFamily == AddressFamily.InterNetwork
        ? new FSeid(seid, _settings.Listen.Address)
        : new FSeid(seid, Ipv6: _settings.Listen.Address);

    private static CreatedPdr CreatedFor(CreatePdr p) => new(p.PdrId)
    {
        LocalFTeid = p.Pdi.LocalFTeid,
        UeIpAddresses = WithAddress(p.Pdi.UeIpAddresses),
    };

    /// <summary>The UE IP Address IEs that carry an address (what a Created PDR reports), the same list when all do.</summary>
    private static ValueList<UeIpAddress> WithAddress(ValueList<UeIpAddress> addresses)
    {
        foreach (var u in addresses)
            if (u.Ipv4 is null && u.Ipv6 is null)
                return ValueList.From(addresses.Where(a => a.Ipv4 is not null || a.Ipv6 is not null));
        return addresses;
    }

    /// <summary>TEIDs the SMF chose itself must not be handed out by CHOOSE later.</summary>
    private void ReserveChosenTeids(PfcpRuleSet rules, ChooseResolver chooser)
    {
        // Loops over the rule maps' struct enumerators: this runs per establishment.
        foreach (var p in rules.Pdrs)
            Reserve(p.Value.Pdi.LocalFTeid, chooser);
        foreach (var t in rules.TrafficEndpoints)
            Reserve(t.Value.LocalFTeid, chooser);
    }

    private void Reserve(FTeid? f, ChooseResolver chooser)
    {
        if (f is not null && !chooser.AllocatedTeids.Contains(f.Teid))
            _teids.Reserve(f.Teid);
    }

    /// <summary>The local F-TEIDs the rules name, in PDRs and in traffic endpoints.</summary>
    private static IEnumerable<FTeid> LocalFTeids(PfcpRuleSet rules) =>
        rules.Pdrs.Values.Select(p => p.Pdi.LocalFTeid).Concat(rules.TrafficEndpoints.Values.Select(t => t.LocalFTeid)).OfType<FTeid>();

    /// <summary>
    /// Creates traffic endpoints (CHOOSE resolved), refusing a repeated ID; those whose F-TEID or
    /// UE address the node chose go in <paramref name="created"/> for the response.
    /// </summary>
    private static void CreateEndpoints(IEnumerable<TrafficEndpoint> creates, IReadOnlyCollection<CreatePdr> users,
        RuleMap<byte, TrafficEndpoint>.Builder endpoints, ChooseResolver chooser, List<TrafficEndpoint> created)
    {
        foreach (var te in creates)
        {
            if (endpoints.ContainsKey(te.TrafficEndpointId))
                throw new PfcpRefusal(PfcpCause.MandatoryIeIncorrect, $"traffic endpoint {te.TrafficEndpointId} already exists",
                    offendingIe: (ushort)IeType.CreateTrafficEndpoint);
            var (source, blamed) = EndpointUser(te.TrafficEndpointId, users);
            var (resolved, report) = chooser.Resolve(te, source, blamed);
            endpoints[te.TrafficEndpointId] = resolved;
            if (report)
                created.Add(CreatedFor(resolved));
        }
    }

    /// <summary>
    /// The source interface of the first PDR naming the endpoint (whose side's GTP-U address a
    /// chosen F-TEID takes; access when none does yet) and the rule a refusal blames.
    /// </summary>
    private static (SourceInterface Source, FailedRuleId Blamed) EndpointUser(byte id, IReadOnlyCollection<CreatePdr> users)
    {
        var user = users.FirstOrDefault(p => p.Pdi.TrafficEndpointIds.Contains(id)) ?? users.FirstOrDefault();
        return (user?.Pdi.TrafficEndpointIds.Contains(id) == true ? user.Pdi.SourceInterface : SourceInterface.Access,
            new FailedRuleId(RuleKind.Pdr, user?.PdrId ?? 0));
    }

    private static TrafficEndpoint CreatedFor(TrafficEndpoint te) => new(te.TrafficEndpointId)
    {
        LocalFTeid = te.LocalFTeid,
        UeIpAddresses = WithAddress(te.UeIpAddresses),
    };

    private static RuleMap<uint, T> Unique<T>(IEnumerable<T> items, Func<T, uint> id, RuleKind kind)
    {
        var b = RuleMap<uint, T>.Empty.ToBuilder();
        AddAll(b, items, id, kind);
        return b.ToImmutable();
    }

    private static void AddAll<T>(RuleMap<uint, T>.Builder b, IEnumerable<T> items, Func<T, uint> id, RuleKind kind)
    {
        foreach (var item in items)
            if (!b.TryAdd(id(item), item))
                throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, $"{kind.ToString().ToUpperInvariant()} {id(item)} already exists",
                    failedRule: new FailedRuleId(kind, id(item)));
    }

    private static void Remove<TKey, T>(RuleMap<TKey, T>.Builder b, TKey id, RuleKind kind) where TKey : struct, IComparable<TKey>
    {
        if (!b.Remove(id))
            throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, $"{kind.ToString().ToUpperInvariant()} {id} to remove does not exist",
                failedRule: new FailedRuleId(kind, Convert.ToUInt32(id)));
    }

    private static T Existing<TKey, T>(RuleMap<TKey, T>.Builder b, TKey id, RuleKind kind) where TKey : struct, IComparable<TKey> =>
        b.TryGetValue(id, out var v) ? v
            : throw new PfcpRefusal(PfcpCause.RuleCreationModificationFailure, $"{kind.ToString().ToUpperInvariant()} {id} to update does not exist",
                failedRule: new FailedRuleId(kind, Convert.ToUInt32(id)));

    // ------------------------------------------------------------------ usage

    /// <summary>The quotas a modification grants afresh: its new URRs', and those its Update URRs carry.</summary>
    /// <remarks>Reads the request's lists where asked (a few URRs at most) instead of building sets per modification.</remarks>
    private sealed class QuotaGrants(SessionModificationRequest req)
    {
        public bool Volume(uint urr) => Created(urr) || Updated(urr, volume: true);
        public bool Time(uint urr) => Created(urr) || Updated(urr, volume: false);

        private bool Created(uint urr)
        {
            foreach (var u in req.CreateUrrs)
                if (u.UrrId == urr)
                    return true;
            return false;
        }

        private bool Updated(uint urr, bool volume)
        {
            foreach (var u in req.UpdateUrrs)
                if (u.UrrId == urr && (volume ? u.VolumeQuota is not null : u.TimeQuota is not null))
                    return true;
            return false;
        }
    }

    /// <summary>
    /// URRs whose volume or time quota is used up, and the traffic it stops: granted as zero, or
    /// used up by the session's traffic (<paramref name="session"/>'s trackers) and not granted
    /// afresh in this request (<paramref name="grants"/>). Null when there is none, the usual case.
    /// </summary>
    private static Dictionary<uint, QuotaStop>? ExhaustedUrrs(PfcpRuleSet rules, NodeSession? session, QuotaGrants? grants = null)
    {
        Dictionary<uint, QuotaStop>? exhausted = null;
        foreach (var (id, urr) in rules.Urrs)
        {
            if (urr.VolumeQuota is null && urr.TimeQuota is null)
                continue;
            UrrUsage? usage = null;
            if (session is not null && session.Usage.TryGetValue(id, out var tracked))
                usage = tracked;
            var freshVolume = usage is null || grants?.Volume(id) == true;
            var freshTime = usage is null || grants?.Time(id) == true;
            var stop = UrrUsage.StopsWhenGranted(urr, freshVolume, freshTime)
                | (freshVolume ? QuotaStop.None : usage!.VolumeExhausted)
                | (freshTime || !usage!.TimeQuotaUsedUp ? QuotaStop.None : QuotaStop.Both);
            if (stop != QuotaStop.None)
                (exhausted ??= [])[id] = stop;
        }
        return exhausted;
    }

    /// <summary>
    /// A URR's quota was just used up: its PDRs are rewritten to the quota action (or to drop).
    /// The rules are unchanged and were installed before, so only a full table can refuse this;
    /// then the usage report has still gone out and the SMF decides.
    /// </summary>
    private void EnforceQuota(NodeSession session, CompiledSession previous)
    {
        try
        {
            var compiled = _table.Modify(session.Rules.ToModel(session.Seid, session.Cp.Seid, session.Cp.Ipv4 ?? session.Cp.Ipv6,
                ExhaustedUrrs(session.Rules, session)));
            SyncUsage(session, compiled, previous);
            Counters.UserPlane(PfcpCounters.QuotaEnforced);
        }
        catch (Exception e) when (e is RuleException or PfcpRefusal)
        {
            Counters.UserPlane(PfcpCounters.QuotaNotEnforced);
            LogQuotaNotEnforced(_log, session.Cp.Seid, e.Message);
        }
    }

    /// <summary>
    /// Whether a modification leaves the usage checks as they were: the same URRs, every PDR
    /// naming the same URRs and counting into the same counters. Then the session's last check
    /// still holds (a handover's new gNB F-TEID, say), and the next tick need not look at it
    /// unless its counters move. Checking early is harmless, late is not: anything else forces it.
    /// </summary>
    private static bool UsageUnchanged(PfcpRuleSet before, PfcpRuleSet after, CompiledSession? previous, CompiledSession compiled)
    {
        if (previous is null || !ReferenceEquals(before.Urrs, after.Urrs) || before.Pdrs.Count != after.Pdrs.Count)
            return false;
        if (ReferenceEquals(before.Pdrs, after.Pdrs))
            return SameStats(previous, compiled);
        foreach (var (id, pdr) in after.Pdrs)
            if (!before.Pdrs.TryGetValue(id, out var was) || !was.UrrIds.Equals(pdr.UrrIds))
                return false;
        return SameStats(previous, compiled);
    }

    private static bool SameStats(CompiledSession previous, CompiledSession compiled)
    {
        if (previous.PdrStats.Count != compiled.PdrStats.Count)
            return false;
        foreach (var (id, stats) in compiled.PdrStats)
            if (!previous.PdrStats.TryGetValue(id, out var was) || was != stats)
                return false;
        return true;
    }

    /// <summary>
    /// Keeps the URR trackers and the stats-index owners in step with the installed session.
    /// A new URR's baseline is read only from counters the session already had
    /// (<paramref name="previous"/>): a PDR's fresh counters were just reset by the compiler, so
    /// they start at zero, and reading them would only cost two syscalls per PDR (and drop
    /// the packets counted in between).
    /// </summary>
    /// <param name="recheck">the next usage tick looks at the session whatever its counters say
    /// (new rules or counters); false only when <see cref="UsageUnchanged"/> said so</param>
    private void SyncUsage(NodeSession session, CompiledSession compiled, CompiledSession? previous, bool recheck = true)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        // Other PDRs, other stats slots, maybe. (Today a change that keeps every slot is the only
        // one without a recheck, so this is for changes to come.)
        session.Verified = null;
        if (recheck)
            session.CheckedTotal = NodeSession.Unchecked; // new rules or counters: the next check looks
        if (session.Usage.Count > 0) // a new session has none
        {
            List<uint>? gone = null;
            foreach (var (id, _) in session.Usage)
                if (!session.Rules.Urrs.ContainsKey(id))
                    (gone ??= []).Add(id);
            if (gone is not null)
                foreach (var id in gone)
                    session.Usage.Remove(id);
        }
        foreach (var (id, rule) in session.Rules.Urrs)
        {
            if (session.Usage.TryGetValue(id, out var existing))
                existing.Rule = rule;
            else
            {
                var usage = new UrrUsage(rule, now, _settings.UsageTick);
                session.Usage[id] = usage;
                if ((rule.ReportingTriggers.Flags & ~UrrUsage.SupportedTriggers) != 0)
                    Counters.UserPlane(PfcpCounters.UrrTriggerUnsupported);
                if (previous is null)
                    continue;
                foreach (var (pdr, counter) in UsageCounters(session, usage, compiled, carriedFrom: previous))
                    usage.Baseline[pdr] = counter.Counter; // usage starts now
            }
        }
        foreach (var (pdr, stats) in compiled.PdrStats)
            _statsOwner[stats] = (session.Seid, pdr);
        // A new session's counters start at zero (its stats slots are fresh): the first check,
        // which would read zeros, is made here, and the datapath's stamps tell the checks when
        // there is more to read. (At 100,000 establishments a second's new sessions made the
        // next check 0.2 s long.)
        if (previous is null && recheck && _tables.UsageActivity is { } activity)
        {
            session.CheckedTotal = 0;
            session.CheckedEpoch = activity.Epoch;
            session.Verified = compiled;
            session.NextTimeDue = NextDue(session);
        }
    }

    private Dictionary<ushort, (Counter Counter, bool Uplink)> UsageCounters(NodeSession session, UrrUsage usage, CompiledSession? compiled = null,
        CompiledSession? carriedFrom = null)
    {
        var result = new Dictionary<ushort, (Counter, bool)>();
        if (compiled is null && !_table.TryGet(session.Seid, out compiled))
            return result;
        foreach (var (id, pdr) in session.Rules.Pdrs)
        {
            if (!pdr.UrrIds.Contains(usage.Rule.UrrId) || !compiled.PdrStats.TryGetValue(id, out var stats))
                continue;
            if (carriedFrom is not null && !(carriedFrom.PdrStats.TryGetValue(id, out var before) && before == stats))
                continue;
            result[id] = (ReadCounter(stats), pdr.Pdi.SourceInterface == SourceInterface.Access);
        }
        return result;
    }

    /// <summary>
    /// The sessions a usage tick walks, in an array kept from tick to tick (the timers thread's
    /// alone): at 100,000 sessions a fresh one was 800 KB on the large-object heap every second.
    /// </summary>
    private NodeSession[] _tickSessions = [];
    /// <summary>The datapath's usage epoch this tick advanced to (0: no activity marks; every counter is read).</summary>
    private ulong _tickEpoch;

    /// <summary>Sessions checked per hold of the node's lock by the usage tick.</summary>
    private const int LockedChecks = 32;

    /// <summary>
    /// Checks every URR's thresholds, quotas and periods. Runs on the timer thread, mostly
    /// outside the node's lock: the per-PDR counters (a syscall per chunk of sessions on the
    /// kernel maps) are read unlocked, sessions whose counters and timers say nothing changed
    /// are passed over unlocked too, and the lock is taken for a few sessions at a time to
    /// compare the rest with their trackers and send reports. Under the lock, the reads stalled
    /// requests for a large part of a second at 100,000 sessions; later a chunk of 256 checks
    /// held it at a time, while a burst of new sessions had their first check.
    /// </summary>
    // Called once a second with a loop over every session: tiering would leave it in its first,
    // unoptimised code (entered through on-stack replacement) for minutes; compiled fully at once.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void UsageTick()
    {
        NodeSession[] sessions;
        int count = 0;
        lock (_gate)
        {
            if (_tickSessions.Length < _sessions.Count)
                _tickSessions = new NodeSession[Math.Max(_sessions.Count, _tickSessions.Length * 2)];
            sessions = _tickSessions;
            // A copy of the references only: at a million sessions, looking into each one here
            // (a cache miss apiece) held requests up for tens of milliseconds.
            _sessions.Values.CopyTo(sessions, 0);
            count = _sessions.Count;
        }
        // Whatever a tick that ended early left behind (the end of a tick clears its part).
        Array.Clear(sessions, count, sessions.Length - count);
        // Sessions with nothing to measure are left out (read without the lock: a session
        // given URRs meanwhile is new to the checks, and the next tick has it).
        int measured = 0;
        for (int i = 0; i < count; i++)
            if (sessions[i] is { } s && (s.Usage.Count > 0 || s.InactivityTimer > 0))
                sessions[measured++] = s;
        Array.Clear(sessions, measured, count - measured);
        count = measured;
        // In-memory tables (tests) are plain dictionaries: read them under the lock.
        var unlockedReads = _tables.PdrStats is BpfPerCpuTable<Counter>;
        // A new epoch before any counter is read: what the datapath counts from here on is
        // stamped with it, so the next tick knows which sessions counted since this one.
        var activity = _tables.UsageActivity;
        if (activity is not null)
            _tickEpoch = activity.Advance();
        const int Chunk = 256;
        var readings = new Dictionary<uint, Counter>();
        // One scratch dictionary for every URR of every session: Due and Report only read it
        // (Report copies the values into its baseline), and at 100,000 sessions a new one per
        // URR per tick was 100,000 dictionaries a second of garbage.
        var counters = new Dictionary<ushort, (Counter, bool)>();
        var compiled = new CompiledSession?[Chunk];
        var seids = new ulong[Chunk];
        var toCheck = new int[Chunk];
        for (int start = 0; start < count && !_stopping; start += Chunk)
        {
            var end = Math.Min(start + Chunk, count);
            if (activity is not null)
            {
                // Sessions that counted nothing since their last check, are not due and have
                // not changed are passed over without reading a counter.
                var chunk = end - start;
                end = start + MayHaveCounted(sessions, start, end, activity, _time.GetUtcNow().UtcDateTime);
                Counters.UsageChecked(end - start, chunk - (end - start));
            }
            // The rest's compiled sessions with one lock of the table, not one per session.
            for (int i = start; i < end; i++)
                seids[i - start] = sessions[i].Seid;
            _table.GetMany(seids.AsSpan(0, end - start), compiled);
            readings.Clear();
            int checks = 0;
            if (unlockedReads)
            {
                ReadCounters(start, end, compiled, readings);
                // Idle sessions (most of them, most of the time) are passed over without the
                // lock, which request handling waits for. Their fields may be a moment stale:
                // a session modified meanwhile is checked next tick.
                var now = _time.GetUtcNow().UtcDateTime;
                for (int i = start; i < end; i++)
                {
                    if (compiled[i - start] is not { } read)
                        continue;
                    // One not verified since a change goes through the check, which verifies it.
                    if (TotalOf(read, readings) != sessions[i].CheckedTotal || now >= sessions[i].NextTimeDue || sessions[i].Verified != read)
                        toCheck[checks++] = i;
                    else
                        sessions[i].CheckedEpoch = _tickEpoch; // read, and nothing changed
                }
            }
            else
            {
                lock (_gate)
                    ReadCounters(start, end, compiled, readings);
                for (int i = start; i < end; i++)
                    toCheck[checks++] = i;
            }
            // The rest under the lock, a few at a time, so a request waits for a few checks at most.
            for (int group = 0; group < checks; group += LockedChecks)
            {
                lock (_gate)
                {
                    var now = _time.GetUtcNow().UtcDateTime;
                    for (int g = group; g < Math.Min(group + LockedChecks, checks); g++)
                        CheckUsage(sessions[toCheck[g]], compiled[toCheck[g] - start], readings, counters, now);
                }
            }
        }
        // Deleted sessions must not stay reachable from the kept array until the next tick.
        Array.Clear(sessions, 0, count);
    }

    /// <summary>
    /// Moves to the front of [start, end) the sessions whose counters a check must read: never
    /// checked or changed since (<see cref="NodeSession.Unchecked"/>), due (a time trigger or
    /// inactivity), or stamped by the datapath since their last check; returns how many.
    /// </summary>
    private static int MayHaveCounted(NodeSession[] sessions, int start, int end, IUsageActivity activity, DateTime now)
    {
        int kept = start;
        for (int i = start; i < end; i++)
        {
            var s = sessions[i];
            // Changed since its last check (no verified compiled session to look in): read.
            // One epoch of margin: a packet the program counted just after the counters were
            // read may carry the epoch before (it read the epoch before the check advanced it).
            // Epochs start at 1, so a session checked in epoch 1 has no epoch before.
            if (s.CheckedTotal == NodeSession.Unchecked || now >= s.NextTimeDue || s.Verified is null
                || s.CountedSince(activity, s.CheckedEpoch <= 1 ? s.CheckedEpoch : s.CheckedEpoch - 1))
                sessions[kept++] = s;
        }
        return kept - start;
    }

    /// <summary>One session's usage check (under the lock): reports due, quotas used up, inactivity.</summary>
    private void CheckUsage(NodeSession session, CompiledSession? read, Dictionary<uint, Counter> readings,
        Dictionary<ushort, (Counter, bool)> counters, DateTime now)
    {
        // Modified or deleted since its counters were read: its turn comes next tick.
        if (read is null || !_sessions.TryGetValue(session.Seid, out var live) || live != session
            || !_table.TryGet(session.Seid, out var current) || current != read)
            return;
        // An idle session (most of them, most of the time) costs one sum here.
        var total = TotalOf(read, readings);
        session.CheckedEpoch = _tickEpoch;
        session.Verified = read; // the table's current one (checked above, under the lock)
        if (total == session.CheckedTotal && now < session.NextTimeDue)
            return;
        if (total != session.CheckedTotal)
        {
            session.LastTraffic = now;
            session.InactivityReported = false;
        }
        List<UsageReport>? reports = null;
        var quotaUsedUp = false;
        foreach (var (_, usage) in session.Usage)
        {
            CountersFrom(session, usage, read, readings, counters);
            usage.Observe(counters, now);
            var (volume, time) = usage.NewlyExhausted(counters, now);
            var due = usage.Due(counters, now);
            if (due != 0)
                (reports ??= []).Add(usage.Report(due, counters, now));
            if (volume != QuotaStop.None || time)
            {
                usage.MarkQuotaExhausted(volume, time);
                quotaUsedUp = true;
            }
        }
        if (reports is not null)
            foreach (var linking in LinkedTo(session, reports))
            {
                CountersFrom(session, linking, read, readings, counters);
                reports.Add(linking.Report(UsageReportTriggerFlags.Liusa, counters, now));
            }
        var inactive = session.InactivityTimer > 0 && !session.InactivityReported
            && now >= session.LastTraffic.AddSeconds(session.InactivityTimer);
        if (inactive)
            session.InactivityReported = true;
        session.CheckedTotal = total;
        session.NextTimeDue = NextDue(session);
        if (reports is not null || inactive)
            Report(session, new SessionReportRequest((reports is null ? 0 : ReportType.Usar) | (inactive ? ReportType.Upir : 0))
            {
                UsageReports = reports is null ? [] : [.. reports],
            });
        if (quotaUsedUp)
            EnforceQuota(session, read);
    }

    /// <summary>
    /// Linked usage reporting (LIUSA, TS 29.244 5.2.2.4): the URRs that ask for it and name,
    /// as a Linked URR ID, a URR among <paramref name="reported"/>; each once, and none that
    /// reports already. Their reports carry the usage since their own last report.
    /// </summary>
    private static List<UrrUsage> LinkedTo(NodeSession session, List<UsageReport> reported)
    {
        var linking = new List<UrrUsage>(0);
        foreach (var (id, usage) in session.Usage)
        {
            var rule = usage.Rule;
            if (!rule.ReportingTriggers.Has(ReportingTriggerFlags.Liusa) || rule.LinkedUrrIds.IsEmpty
                || reported.Exists(r => r.UrrId == id))
                continue;
            foreach (var r in reported)
                if (rule.LinkedUrrIds.Contains(r.UrrId))
                {
                    linking.Add(usage);
                    break;
                }
        }
        return linking;
    }

    /// <summary>
    /// The first instant a session's check can find something with no traffic: its URRs' time
    /// triggers and quotas, and its inactivity timer unless already reported.
    /// </summary>
    private static DateTime NextDue(NodeSession session)
    {
        var next = DateTime.MaxValue;
        foreach (var (_, usage) in session.Usage)
            if (usage.NextTimeDue() is var due && due < next)
                next = due;
        if (session.InactivityTimer > 0 && !session.InactivityReported && session.LastTraffic.AddSeconds(session.InactivityTimer) is var at && at < next)
            next = at;
        return next;
    }

    /// <summary>Reads the PDR counters of the chunk's compiled sessions (null: deleted, skipped) into <paramref name="readings"/>.</summary>
    private void ReadCounters(int start, int end, CompiledSession?[] compiled, Dictionary<uint, Counter> readings)
    {
        uint first = uint.MaxValue, last = 0;
        int wanted = 0;
        for (int i = start; i < end; i++)
        {
            if (compiled[i - start] is not { } c)
                continue;
            foreach (var (_, stats) in c.PdrStats) // the map itself: no boxed enumerator
            {
                first = Math.Min(first, stats);
                last = Math.Max(last, stats);
                wanted++;
            }
        }
        if (wanted == 0)
            return;
        // Sessions established one after another hold neighbouring stats slots: when the chunk's
        // slots are dense enough, one batch syscall reads the whole range instead of one
        // syscall per PDR (at 100,000 sessions that was 200,000 syscalls a second).
        var span = (long)last - first + 1;
        if (_tables.PdrStats is BpfPerCpuTable<Counter> kernel && wanted >= BatchAtLeast && span <= 4L * wanted)
        {
            var cpus = kernel.Cpus;
            var values = ArrayPool<Counter>.Shared.Rent((int)span * cpus);
            try
            {
                kernel.ReadRange(first, values.AsSpan(0, (int)span * cpus));
                for (int i = start; i < end; i++)
                    if (compiled[i - start] is { } c)
                        foreach (var (_, stats) in c.PdrStats)
                            readings[stats] = Counter.Sum(values.AsSpan((int)(stats - first) * cpus, cpus));
            }
            finally
            {
                ArrayPool<Counter>.Shared.Return(values);
            }
            return;
        }
        for (int i = start; i < end; i++)
            if (compiled[i - start] is { } c)
                foreach (var (_, stats) in c.PdrStats)
                    readings[stats] = ReadCounter(stats);
    }

    /// <summary>Below this many PDRs in a chunk, single lookups are as cheap as a batch.</summary>
    private const int BatchAtLeast = 16;

    /// <summary>A PDR's counters summed over the CPUs, read without allocating (every PDR, every tick).</summary>
    private Counter ReadCounter(uint stats)
    {
        var cpus = _tables.PdrStats.Cpus;
        Span<Counter> perCpu = cpus <= 64 ? stackalloc Counter[cpus] : new Counter[cpus];
        _tables.PdrStats.Read(stats, perCpu);
        return Counter.Sum(perCpu);
    }

    /// <summary>Packets plus bytes over every PDR of the session, as just read.</summary>
    private static ulong TotalOf(CompiledSession compiled, Dictionary<uint, Counter> readings)
    {
        ulong total = 0;
        foreach (var (_, stats) in compiled.PdrStats) // the map itself: no boxed enumerator
            if (readings.TryGetValue(stats, out var c))
                total += c.Packets + c.Bytes;
        return total;
    }

    /// <summary>Fills <paramref name="result"/> (cleared first) with the counters of the URR's PDRs.</summary>
    private static void CountersFrom(NodeSession session, UrrUsage usage, CompiledSession compiled,
        Dictionary<uint, Counter> readings, Dictionary<ushort, (Counter Counter, bool Uplink)> result)
    {
        result.Clear();
        foreach (var (id, pdr) in session.Rules.Pdrs)
            if (pdr.UrrIds.Contains(usage.Rule.UrrId) && compiled.PdrStats.TryGetValue(id, out var stats) && readings.TryGetValue(stats, out var counter))
                result[id] = (counter, pdr.Pdi.SourceInterface == SourceInterface.Access);
    }

    /// <summary>
    /// A GTP-U path that stopped answering Echo Requests (failed) or answers again: every
    /// associated SMF is told with a Node Report Request (TS 29.244 7.4.5.1, UPFR / UPRR) naming
    /// the Remote GTP-U Peer, retransmitted with T1/N1 like the other requests the node sends.
    /// </summary>
    public void ReportUserPlanePath(IPAddress peer, bool failed)
    {
        var remote = PfcpIe.Raw(IeType.RemoteGtpuPeer, RemoteGtpuPeer(peer));
        var request = failed
            ? new NodeReportRequest(_settings.NodeId, NodeReportType.Upfr) { UserPlanePathFailureReport = PfcpIe.Group(IeType.UserPlanePathFailureReport, remote) }
            : new NodeReportRequest(_settings.NodeId, NodeReportType.Uprr) { UserPlanePathRecoveryReport = PfcpIe.Group(IeType.UserPlanePathRecoveryReport, remote) };
        Counters.UserPlane(failed ? PfcpCounters.GtpuPathFailed : PfcpCounters.GtpuPathRecovered);
        lock (_gate)
        {
            if (_stopping)
                return;
            foreach (var a in _associations.Values)
                SendRequest(request, null, a.Endpoint, _settings.N1, _ => { });
        }
    }

    /// <summary>Remote GTP-U Peer (TS 29.244 8.2.70): V4 or V6 flag, then the address.</summary>
    private static byte[] RemoteGtpuPeer(IPAddress peer) =>
        [peer.AddressFamily == AddressFamily.InterNetwork ? (byte)0x02 : (byte)0x01, .. peer.GetAddressBytes()];

    /// <summary>A datapath event (downlink data for BUFF/NOCP, Error Indication from a peer) becomes a Session Report.</summary>
    public void OnDatapathEvent(EventRecord e)
    {
        lock (_gate)
        {
            if (_stopping)
                return; // a stopped node reports nothing (its export relies on that)
            if (e.Kind == EventKind.DownlinkData && _statsOwner.TryGetValue(e.Index, out var owner) && _sessions.TryGetValue(owner.Seid, out var s))
            {
                Report(s, new SessionReportRequest(ReportType.Dldr) { DownlinkDataReport = new DownlinkDataReport([owner.Pdr]) });
            }
            else if (e.Kind == EventKind.RouterSolicitation && _statsOwner.TryGetValue(e.Index, out var solicited)
                && _sessions.TryGetValue(solicited.Seid, out var ue))
            {
                AnswerRouterSolicitation(ue, e.Qfi);
            }
            else if (e.Kind == EventKind.ErrorIndication)
            {
                var teid = (uint)IPAddress.NetworkToHostOrder((int)e.Teid);
                IPAddress peer;
                unsafe
                {
                    peer = AddressBytes.ReadMapped(new ReadOnlySpan<byte>(e.Peer, 16));
                }
                foreach (var session in _sessions.Values)
                    if (session.Rules.Fars.Values.Any(f => f.ForwardingParameters?.OuterHeaderCreation is { } o && o.Teid == teid && (Equals(o.Ipv4, peer) || Equals(o.Ipv6, peer))))
                        Report(session, new SessionReportRequest(ReportType.Erir)
                        {
                            ErrorIndicationReport = new ErrorIndicationReport([FTeid.Of(teid, peer.AddressFamily == AddressFamily.InterNetwork ? peer : null,
                                peer.AddressFamily == AddressFamily.InterNetworkV6 ? peer : null)]),
                        });
            }
        }
    }

    private void Report(NodeSession session, SessionReportRequest request)
    {
        if (!_associations.TryGetValue(session.Association, out var a))
            return;
        // An SMF that will not page the UE says so in its answer (PFCPSRRsp-Flags DROBU): what is held goes.
        SendRequest(request, session.Cp.Seid, a.Endpoint, _settings.N1, response =>
        {
            if (response?.Body is SessionReportResponse answer)
                BufferingAnswered(session, answer);
        });
    }

    private void SendEndMarker(OuterHeaderCreation old)
    {
        if (_gtpu is null || old.Teid is not { } teid || (old.Ipv4 ?? old.Ipv6) is not { } peer)
            return;
        var local = _addresses.LocalFor(Datapath.Model.InterfaceType.Access, peer.AddressFamily);
        if (local is null)
            return;
        Counters.UserPlane(PfcpCounters.EndMarkerSent);
        _gtpu.Send(local, peer, new Gtpu.GtpuMessage(Gtpu.GtpuMessageType.EndMarker, teid, []));
    }

    /// <summary>
    /// Answers a UE's Router Solicitation (the datapath saw it on one of the session's uplink
    /// PDRs and no PDR took it): a Router Advertisement with the session's /64 down its IPv6
    /// downlink tunnel. Sessions without a UE IPv6 address or a forwarding downlink tunnel get
    /// nothing (counted unanswered).
    /// </summary>
    private void AnswerRouterSolicitation(NodeSession session, byte qfi)
    {
        if (_gtpu is null || !_table.TryGet(session.Seid, out var compiled) || RaPath(compiled.Session) is not { } path)
        {
            Counters.UserPlane(PfcpCounters.RouterSolicitationUnanswered);
            return;
        }
        SendRouterAdvertisement(path, qfi, PfcpCounters.RouterAdvertisementSent);
    }

    /// <summary>
    /// The first Router Advertisement, unsolicited, as soon as the session's IPv6 downlink has a
    /// tunnel (usually the modification that brings the gNB's F-TEID): the UE configures its
    /// address without waiting for its solicitation to be answered (RFC 7066 2; the UE may have
    /// sent it while the downlink was still buffered).
    /// </summary>
    private void AdvertiseWhenReachable(CompiledSession? before, CompiledSession after)
    {
        if (_gtpu is null || RaPath(after.Session) is not { } path || (before is not null && RaPath(before.Session) is not null))
            return;
        SendRouterAdvertisement(path, 0, PfcpCounters.RouterAdvertisementUnsolicited);
    }

    /// <summary>The way an RA takes: the UE's IPv6 address, the downlink tunnel, our address on it and its QFI.</summary>
    private sealed record RaRoute(IPAddress Ue, Datapath.Model.OuterHeaderCreation Tunnel, IPAddress Local, byte? Qfi);

    private RaRoute? RaPath(Datapath.Model.Session model)
    {
        foreach (var pdr in model.Pdrs)
        {
            if (pdr.Pdi.SourceInterface != Datapath.Model.InterfaceType.Core || pdr.Pdi.UeIpv6 is not { } ue)
                continue;
            var far = model.Fars.FirstOrDefault(f => f.Id == pdr.FarId);
            if (far is null || !far.Action.HasFlag(Datapath.Model.ApplyAction.Forward)
                || far.Forwarding is not { DestinationInterface: Datapath.Model.InterfaceType.Access, OuterHeader: { } tunnel })
                continue;
            if (_addresses.LocalFor(Datapath.Model.InterfaceType.Access, tunnel.Peer.AddressFamily) is not { } local)
                continue;
            // The QoS flow the downlink PDR marks, else the one it matches, else any uplink PDR's.
            var qfi = model.Qers.FirstOrDefault(q => pdr.Qers.Contains(q.Id) && q.Qfi is not null)?.Qfi ?? pdr.Pdi.Qfi
                ?? model.Pdrs.FirstOrDefault(p => p.Pdi.SourceInterface == Datapath.Model.InterfaceType.Access && p.Pdi.Qfi is not null)?.Pdi.Qfi;
            return new RaRoute(ue, tunnel, local, qfi);
        }
        return null;
    }

    private void SendRouterAdvertisement(RaRoute path, byte qfi, string counter)
    {
        Counters.UserPlane(counter);
        var mark = path.Qfi ?? (qfi != 0 ? qfi : null);
        _gtpu!.Send(path.Local, path.Tunnel.Peer, Gtpu.GtpuMessage.GPdu(path.Tunnel.Teid, Gtpu.RouterAdvertisement.Build(path.Ue), mark,
            Gtpu.PduSessionContainer.Downlink));
    }

    // ------------------------------------------------------------------ sending

    private void Reply(IPfcpMessageBody body, PfcpHeader request, IPEndPoint to, ulong? seid)
    {
        var bytes = Send(body, request.SequenceNumber, seid, to);
        _answered.Add(to, request.SequenceNumber, bytes);
    }

    private byte[] Send(IPfcpMessageBody body, uint sequence, ulong? seid, IPEndPoint to)
    {
        var bytes = PfcpCodec.Encode(body, sequence, body.MessageType.IsSessionMessage() ? seid ?? 0 : null);
        // Counted first: a peer that reads the counters once it has the message sees it counted.
        Counters.Sent(body.MessageType, CauseOf(body));
        SendTo(bytes, to);
        return bytes;
    }

    /// <summary>The last destination with its SocketAddress, as one object so any thread reads a matching pair.</summary>
    private sealed record Destination(IPEndPoint To, SocketAddress Address);

    private Destination? _lastDestination;

    /// <summary>Sends; the peer's SocketAddress is kept while datagrams go to the same endpoint object.</summary>
    private void SendTo(ReadOnlySpan<byte> bytes, IPEndPoint to)
    {
        if (_socket is null)
            return;
        var destination = _lastDestination;
        if (destination is null || !ReferenceEquals(destination.To, to))
            _lastDestination = destination = new Destination(to, to.Serialize());
        if (_batching && _datagrams.TryQueue(bytes, destination.Address))
            return;
        _socket.SendTo(bytes, SocketFlags.None, destination.Address);
    }

    private static PfcpCause? CauseOf(IPfcpMessageBody body) => body switch
    {
        AssociationSetupResponse r => r.Cause,
        AssociationUpdateResponse r => r.Cause,
        AssociationReleaseResponse r => r.Cause,
        NodeReportResponse r => r.Cause,
        SessionEstablishmentResponse r => r.Cause,
        SessionModificationResponse r => r.Cause,
        SessionDeletionResponse r => r.Cause,
        SessionReportResponse r => r.Cause,
        _ => null,
    };

    /// <summary>Sends a request and retransmits it every T1 until answered or N retries are spent; done(null) on failure.</summary>
    private void SendRequest(IPfcpMessageBody body, ulong? seid, IPEndPoint to, int retries, Action<PfcpDecoded?> done)
    {
        var sequence = _nextSequence;
        _nextSequence = _nextSequence >= PfcpHeader.MaxSequenceNumber ? 1 : _nextSequence + 1;
        var bytes = Send(body, sequence, seid, to);
        _pending[sequence] = new Pending(bytes, to, body.MessageType, retries, done) { NextAt = _time.GetTimestamp() + Ticks(_settings.T1) };
    }

    private void CompletePending(uint sequence, PfcpDecoded? response)
    {
        if (_pending.Remove(sequence, out var pending))
            pending.Done(response);
        else
            Counters.Dropped("unexpected-response");
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    // ------------------------------------------------------------------ timers

    private void Tick()
    {
        while (!_stopping)
        {
            Thread.Sleep(20);
            try
            {
                lock (_gate)
                    OnTimers();
                if (_time.GetElapsedTime(_lastUsageTick) >= _settings.UsageTick)
                {
                    _lastUsageTick = _time.GetTimestamp();
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    UsageTick();
                    Counters.UsageTickTook(System.Diagnostics.Stopwatch.GetElapsedTime(started));
                }
            }
            catch (Exception e)
            {
                LogHandlerFailed(_log, "timers", e);
            }
        }
    }

    /// <summary>Retransmissions, heartbeats, UP-initiated setups, cache expiry (usage checks follow, see <see cref="UsageTick"/>).</summary>
    private void OnTimers()
    {
        ExpireBuffered();
        var now = _time.GetTimestamp();
        foreach (var (sequence, p) in _pending.ToArray())
        {
            if (now < p.NextAt)
                continue;
            if (p.Attempts > p.Retries)
            {
                _pending.Remove(sequence);
                p.Done(null);
                continue;
            }
            p.Attempts++;
            p.NextAt = now + Ticks(_settings.T1);
            Counters.Sent(p.Type, null);
            SendTo(p.Bytes, p.To);
        }

        foreach (var a in _associations.Values.ToArray())
        {
            if (a.HeartbeatOutstanding || _time.GetElapsedTime(a.LastHeartbeatSent) < _settings.HeartbeatInterval)
                continue;
            a.HeartbeatOutstanding = true;
            a.LastHeartbeatSent = now;
            var association = a;
            SendRequest(new HeartbeatRequest(RecoveryTimeStamp), null, a.Endpoint, _settings.HeartbeatRetries, response =>
            {
                association.HeartbeatOutstanding = false;
                if (response?.Body is HeartbeatResponse hb)
                {
                    association.LastHeard = _time.GetTimestamp();
                    HeartbeatRecovery(association, hb.RecoveryTimeStamp);
                }
                else if (_associations.ContainsKey(association.Key))
                {
                    RemoveAssociation(association, _settings.PurgeOnAssociationLoss, "heartbeats unanswered");
                }
            });
        }

        foreach (var smf in _settings.Smfs)
        {
            if (_associations.Values.Any(a => a.Endpoint.Equals(smf)) || _pending.Values.Any(p => p.Type == PfcpMessageType.AssociationSetupRequest && p.To.Equals(smf)))
                continue;
            SendRequest(new AssociationSetupRequest(_settings.NodeId, RecoveryTimeStamp)
            {
                UpFunctionFeatures = OurFeatures,
            }, null, smf, _settings.N1, response =>
            {
                if (response?.Body is AssociationSetupResponse { Cause: PfcpCause.RequestAccepted } r)
                    Accept(r.NodeId, r.RecoveryTimeStamp, smf, upInitiated: true);
            });
        }


        _answered.Expire();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "PFCP node {NodeId} listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string endpoint, string nodeId);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "PFCP association with {NodeId} ({Endpoint})")]
    private static partial void LogAssociated(ILogger logger, string nodeId, string endpoint);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "PFCP association setup from {NodeId} ({Endpoint}) refused: not a configured peer")]
    private static partial void LogRefusedPeer(ILogger logger, string nodeId, string endpoint);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "PFCP peer {NodeId} restarted: its {Sessions} sessions are purged")]
    private static partial void LogPeerRestarted(ILogger logger, string nodeId, int sessions);

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "PFCP peer {NodeId} sends its clock ({Stamp:o}) as Recovery Time Stamp in Heartbeats; not taken as a restart")]
    private static partial void LogRecoveryIsClock(ILogger logger, string nodeId, DateTime stamp);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "PFCP association with {NodeId} removed ({Why}); {Purged} sessions purged")]
    private static partial void LogAssociationRemoved(ILogger logger, string nodeId, string why, int purged);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "PFCP {MessageType} from {Endpoint} rejected: {Cause} ({Detail})")]
    private static partial void LogRejected(ILogger logger, string messageType, string endpoint, string cause, string detail);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "PFCP session {Operation} for CP SEID {CpSeid} refused: {Cause}: {Reason}")]
    private static partial void LogSessionRefused(ILogger logger, string operation, ulong cpSeid, string cause, string reason);

    [LoggerMessage(EventId = 209, Level = LogLevel.Error, Message = "PFCP session of CP SEID {CpSeid}: a used-up quota could not be enforced: {Reason}")]
    private static partial void LogQuotaNotEnforced(ILogger logger, ulong cpSeid, string reason);

    [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "PFCP handling of a datagram from {Endpoint} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string endpoint, Exception exception);
}

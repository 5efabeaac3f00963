using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Pfcp.Rules;
using Microsoft.Extensions.Logging;

namespace LoxiLb.Edge5G.Tests.Pfcp.Replay;

/// <summary>One request of a capture as our node answered it.</summary>
public sealed record ReplayedRequest(
    CapturedPfcp Captured,
    PfcpMessageType Type,
    PfcpDecoded Request,
    PfcpDecoded Response,
    bool Retransmission,
    ulong? OurSeid,
    CompiledSession? Before,
    CompiledSession? After)
{
    public PfcpCause? Cause => Response.Body switch
    {
        SessionEstablishmentResponse r => r.Cause,
        SessionModificationResponse r => r.Cause,
        SessionDeletionResponse r => r.Cause,
        AssociationSetupResponse r => r.Cause,
        _ => null,
    };
}

/// <summary>
/// Replays the requests an SMF sent to a UPF in a real capture into our node, one node per
/// captured UPF (in-memory datapath tables, UDP on loopback): the node is configured with the
/// GTP-U addresses that UPF used (read from the F-TEIDs in the capture), each captured SMF
/// endpoint gets its own socket, associations are replayed (or set up for the SMF's Node ID
/// when the capture has none from the SMF), and the SEIDs of modifications and deletions are
/// rewritten from the captured UPF's to the ones our node allocated.
/// </summary>
public sealed class CaptureReplay : IDisposable
{
    private static readonly DateTime DefaultSmfRecovery = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly IReadOnlyList<CapturedPfcp> _messages;
    private readonly ILogger _log;
    private readonly Dictionary<IPAddress, Upf> _upfs = [];
    private readonly Dictionary<IPEndPoint, Socket> _smfSockets = [];
    private readonly List<ReplayedRequest> _replayed = [];
    private readonly List<string> _notes = [];
    private readonly CaptureClock _clock = new();
    private uint _syntheticSequence = 0x00f00000;

    public sealed class Upf(IPAddress captured, GtpAddresses addresses, DatapathTables tables, SessionTable table, PfcpNode node)
    {
        public IPAddress Captured { get; } = captured;
        public GtpAddresses Addresses { get; } = addresses;
        public DatapathTables Tables { get; } = tables;
        public SessionTable Table { get; } = table;
        public PfcpNode Node { get; } = node;
        /// <summary>The captured UPF's SEID -> the SEID our node allocated for the same session.</summary>
        public Dictionary<ulong, ulong> Seids { get; } = [];
    }

    public CaptureReplay(string file, ILogger log)
    {
        File = file;
        _messages = CapturedPfcp.Read(file);
        _log = log;
    }

    public string File { get; }
    public IReadOnlyList<CapturedPfcp> Messages => _messages;
    public IReadOnlyDictionary<IPAddress, Upf> Upfs => _upfs;
    public IReadOnlyList<ReplayedRequest> Replayed => _replayed;
    /// <summary>What the replay had to adapt or could not map, for the report.</summary>
    public IReadOnlyList<string> Notes => _notes;

    private static bool IsSmfRequest(PfcpMessageType t) => t is PfcpMessageType.HeartbeatRequest or PfcpMessageType.AssociationSetupRequest
        or PfcpMessageType.AssociationUpdateRequest or PfcpMessageType.AssociationReleaseRequest
        or PfcpMessageType.SessionEstablishmentRequest or PfcpMessageType.SessionModificationRequest or PfcpMessageType.SessionDeletionRequest;

    /// <summary>Replays every SMF request towards a UPF, in capture order.</summary>
    public void Run()
    {
        if (_messages.Count > 0)
            _clock.Set(_messages[0].Time);
        foreach (var address in _messages.Where(m => m.Type == PfcpMessageType.SessionEstablishmentRequest).Select(m => m.Destination.Address).Distinct())
            _upfs[address] = StartUpf(address);

        var seen = new Dictionary<(IPEndPoint, IPEndPoint, uint), byte[]>();
        foreach (var m in _messages)
        {
            if (m.Decoded is not { } decoded || !_upfs.TryGetValue(m.Destination.Address, out var upf) || !IsSmfRequest(decoded.Header.MessageType))
                continue;
            _clock.Set(m.Time);
            var key = (m.Source, m.Destination, decoded.Header.SequenceNumber);
            var retransmission = seen.TryGetValue(key, out var earlier) && earlier.AsSpan().SequenceEqual(m.Payload);
            seen[key] = m.Payload;
            if (decoded.Body is SessionEstablishmentRequest est && !retransmission)
                EnsureAssociation(upf, m.Source, est.NodeId);
            Replay(upf, m, decoded, retransmission);
        }
    }

    private Upf StartUpf(IPAddress captured)
    {
        var addresses = GtpAddressesOf(captured);
        var tables = DatapathTables.InMemory(sessions: 4096, ruleLists: 1024, sdfFilters: 4096);
        var table = new SessionTable(tables, addresses, quarantine: TimeSpan.Zero);
        var settings = new PfcpNodeSettings
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            NodeId = UpfNodeId(captured) ?? NodeId.FromAddress(captured),
            Peers = [Cidr.Parse("127.0.0.0/8")],
            UePools = [Cidr.Parse("10.250.0.0/16"), Cidr.Parse("2001:db8:fa00::/40")],
            HeartbeatInterval = TimeSpan.FromHours(1),
            PurgeOnAssociationLoss = false,
        };
        var node = new PfcpNode(settings, table, tables, _log, _clock);
        node.Start();
        _notes.Add($"UPF {captured}: GTP-U access {addresses.AccessIpv4}/{addresses.AccessIpv6}, core {addresses.CoreIpv4}/{addresses.CoreIpv6}");
        return new Upf(captured, addresses, tables, table, node);
    }

    private NodeId? UpfNodeId(IPAddress upf) => _messages
        .Where(m => m.Source.Address.Equals(upf))
        .Select(m => m.Decoded?.Body switch
        {
            SessionEstablishmentResponse r => r.NodeId,
            AssociationSetupResponse r => r.NodeId,
            AssociationSetupRequest r => r.NodeId,
            _ => null,
        })
        .FirstOrDefault(n => n is not null);

    /// <summary>
    /// The GTP-U addresses the captured UPF used: local F-TEIDs the SMF assigned in Create PDRs
    /// and the ones the UPF reported in Created PDRs, by the PDR's source interface (access:
    /// N3/S1-U; anything else: the core side, N9/S5-U).
    /// </summary>
    public GtpAddresses GtpAddressesOf(IPAddress upf)
    {
        var access = new List<IPAddress>();
        var core = new List<IPAddress>();
        void Add(SourceInterface source, FTeid? f)
        {
            if (f is null || f.Choose)
                return;
            var list = source == SourceInterface.Access ? access : core;
            foreach (var a in new[] { f.Ipv4, f.Ipv6 }.OfType<IPAddress>())
                if (!list.Contains(a))
                    list.Add(a);
        }
        var requests = new Dictionary<(IPEndPoint, uint), IReadOnlyList<CreatePdr>>();
        foreach (var m in _messages)
        {
            switch (m.Decoded?.Body)
            {
                case SessionEstablishmentRequest est when m.Destination.Address.Equals(upf):
                    requests[(m.Source, m.Decoded.Header.SequenceNumber)] = est.CreatePdrs;
                    foreach (var p in est.CreatePdrs)
                        Add(p.Pdi.SourceInterface, p.Pdi.LocalFTeid);
                    break;
                case SessionModificationRequest mod when m.Destination.Address.Equals(upf):
                    requests[(m.Source, m.Decoded.Header.SequenceNumber)] = mod.CreatePdrs;
                    foreach (var p in mod.CreatePdrs)
                        Add(p.Pdi.SourceInterface, p.Pdi.LocalFTeid);
                    foreach (var p in mod.UpdatePdrs)
                        if (p.Pdi is { } pdi)
                            Add(pdi.SourceInterface, pdi.LocalFTeid);
                    break;
            }
        }
        foreach (var m in _messages.Where(m => m.Source.Address.Equals(upf)))
        {
            var created = m.Decoded?.Body switch
            {
                SessionEstablishmentResponse r => r.CreatedPdrs,
                SessionModificationResponse r => r.CreatedPdrs,
                _ => null,
            };
            if (created is null || !requests.TryGetValue((m.Destination, m.Decoded!.Header.SequenceNumber), out var pdrs))
                continue;
            foreach (var c in created)
                if (pdrs.FirstOrDefault(p => p.PdrId == c.PdrId) is { } pdr)
                    Add(pdr.Pdi.SourceInterface, c.LocalFTeid);
        }
        IPAddress? One(List<IPAddress> list, AddressFamily family, string role)
        {
            var candidates = list.Where(a => a.AddressFamily == family).ToArray();
            if (candidates.Length > 1)
                _notes.Add($"UPF {upf}: {candidates.Length} {role} {family} GTP-U addresses ({string.Join(", ", candidates)}); configured {candidates[0]}");
            return candidates.FirstOrDefault();
        }
        var a4 = One(access, AddressFamily.InterNetwork, "access");
        var a6 = One(access, AddressFamily.InterNetworkV6, "access");
        var c4 = One(core, AddressFamily.InterNetwork, "core");
        var c6 = One(core, AddressFamily.InterNetworkV6, "core");
        if (a4 is null && a6 is null && c4 is null && c6 is null)
        {
            // No F-TEID anywhere (every one CHOOSE and no response captured): an address of our own.
            a4 = IPAddress.Parse("198.51.100.1");
            _notes.Add($"UPF {upf}: no GTP-U address in the capture; configured {a4}");
        }
        return new GtpAddresses(a4, a6, c4, c6);
    }

    /// <summary>An association for the SMF's Node ID, unless the node has one (replayed or made earlier).</summary>
    private void EnsureAssociation(Upf upf, IPEndPoint smf, NodeId nodeId)
    {
        if (upf.Node.Associations().Any(a => a.NodeId == nodeId.ToString()))
            return;
        var recovery = SmfRecovery(smf) ?? DefaultSmfRecovery;
        var sequence = _syntheticSequence++;
        var socket = SocketFor(smf);
        socket.SendTo(PfcpCodec.Encode(new AssociationSetupRequest(nodeId, recovery), sequence), upf.Node.LocalEndpoint!);
        var response = Receive(socket, sequence) ?? throw new TimeoutException($"{File}: no answer to the Association Setup we made for {nodeId}");
        if (response.Body is not AssociationSetupResponse { Cause: PfcpCause.RequestAccepted })
            throw new InvalidOperationException($"{File}: the node refused the association for {nodeId}: {response.Body}");
        _notes.Add($"UPF {upf.Captured}: association for SMF {nodeId} ({smf}) made by the replay (none from that SMF precedes its first session)");
    }

    /// <summary>The SMF's Recovery Time Stamp as the capture shows it (its association or heartbeat messages).</summary>
    private DateTime? SmfRecovery(IPEndPoint smf) => _messages
        .Where(m => m.Source.Equals(smf))
        .Select(m => m.Decoded?.Body switch
        {
            AssociationSetupRequest r => r.RecoveryTimeStamp,
            AssociationSetupResponse r => r.RecoveryTimeStamp,
            HeartbeatRequest r => r.RecoveryTimeStamp,
            HeartbeatResponse r => r.RecoveryTimeStamp,
            _ => (DateTime?)null,
        })
        .FirstOrDefault(t => t is not null);

    private void Replay(Upf upf, CapturedPfcp m, PfcpDecoded decoded, bool retransmission)
    {
        var header = decoded.Header;
        var bytes = (byte[])m.Payload.Clone();
        ulong? ourSeid = null;
        if (header.Seid is { } capturedSeid && header.MessageType != PfcpMessageType.SessionEstablishmentRequest)
        {
            if (upf.Seids.TryGetValue(capturedSeid, out var mapped))
            {
                ourSeid = mapped;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(4, 8), mapped);
            }
            else
            {
                _notes.Add($"#{m.Index} {header.MessageType}: captured UP SEID 0x{capturedSeid:x} maps to no session of ours (its establishment was not answered in the capture or was refused)");
            }
        }
        CompiledSession? before = null;
        if (ourSeid is { } s)
            upf.Table.TryGet(s, out before);
        var socket = SocketFor(m.Source);
        socket.SendTo(bytes, upf.Node.LocalEndpoint!);
        var response = Receive(socket, header.SequenceNumber)
            ?? throw new TimeoutException($"{File} #{m.Index}: no answer to {header.MessageType} seq {header.SequenceNumber}");
        if (response.Body is SessionEstablishmentResponse { UpFSeid: { } ours } && !retransmission)
        {
            ourSeid = ours.Seid;
            if (CapturedResponse(m)?.Body is SessionEstablishmentResponse { UpFSeid: { } theirs })
                upf.Seids[theirs.Seid] = ours.Seid;
            else
                _notes.Add($"#{m.Index} establishment: the capture has no accepted response from the UPF (its SEID is unknown; nothing refers to it)");
        }
        CompiledSession? after = null;
        if (ourSeid is { } o)
            upf.Table.TryGet(o, out after);
        _replayed.Add(new ReplayedRequest(m, header.MessageType, decoded, response, retransmission, ourSeid, before, after));
    }

    /// <summary>The captured UPF's answer to a captured request (same peers reversed, same sequence number).</summary>
    public PfcpDecoded? CapturedResponse(CapturedPfcp request) => _messages
        .Where(r => r.Index > request.Index && r.Source.Equals(request.Destination) && r.Destination.Equals(request.Source))
        .Select(r => r.Decoded)
        .FirstOrDefault(d => d is not null && !d.Header.MessageType.IsRequest() && d.Header.SequenceNumber == request.Decoded!.Header.SequenceNumber);

    private Socket SocketFor(IPEndPoint smf)
    {
        if (_smfSockets.TryGetValue(smf, out var socket))
            return socket;
        socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveTimeout = 100;
        _smfSockets[smf] = socket;
        return socket;
    }

    /// <summary>The node's response with <paramref name="sequence"/>; its own requests (heartbeats) are skipped.</summary>
    private static PfcpDecoded? Receive(Socket socket, uint sequence)
    {
        var buffer = new byte[65536];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < deadline)
        {
            int n;
            try
            {
                n = socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue;
            }
            if (PfcpCodec.Decode(buffer.AsSpan(0, n)) is PfcpDecoded d && !d.Header.MessageType.IsRequest() && d.Header.SequenceNumber == sequence)
                return d;
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var upf in _upfs.Values)
            upf.Node.Dispose();
        foreach (var socket in _smfSockets.Values)
            socket.Dispose();
    }
}

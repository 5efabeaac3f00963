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
using Microsoft.Extensions.Logging.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// A PFCP node on loopback over in-memory datapath tables, and an SMF talking to it through
/// a UDP socket with the codec: requests go out, responses (and the node's own requests)
/// come back. Answers the node's Heartbeat and Session Report requests unless told not to.
/// </summary>
public sealed class NodeUnderTest : IDisposable
{
    public static readonly IPAddress N3 = IPAddress.Parse("198.51.100.1");
    private readonly Socket _smf;
    private readonly List<PfcpDecoded> _fromNode = [];
    private readonly Thread _reader;
    private volatile bool _stopping;
    private uint _sequence = 100;

    /// <param name="tables">The datapath tables to compile into (default: in-memory ones).</param>
    /// <param name="gtpu">Where the node's own GTP-U goes (End Markers, Router Advertisements).</param>
    /// <param name="nextHops">Next hops for the FARs (default: none; a kernel program then passes forwarded packets to the stack).</param>
    public NodeUnderTest(Func<PfcpNodeSettings, PfcpNodeSettings>? adjust = null, bool answerNodeRequests = true, DatapathTables? tables = null,
        IGtpuSender? gtpu = null, INextHops? nextHops = null)
    {
        Tables = tables ?? DatapathTables.InMemory();
        Table = new SessionTable(Tables, new GtpAddresses(N3), nextHops, quarantine: TimeSpan.Zero);
        _smf = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _smf.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _smf.ReceiveTimeout = 100;
        var settings = new PfcpNodeSettings
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            NodeId = NodeId.FromAddress(IPAddress.Loopback),
            Peers = [Cidr.Parse("127.0.0.0/8")],
            UePools = [Cidr.Parse("192.0.2.0/24")],
            HeartbeatInterval = TimeSpan.FromSeconds(30),
        };
        _settings = adjust?.Invoke(settings) ?? settings;
        _gtpu = gtpu;
        Node = new PfcpNode(_settings, Table, Tables, NullLogger.Instance, gtpu: gtpu);
        Node.Start();
        AnswerNodeRequests = answerNodeRequests;
        _reader = new Thread(Read) { IsBackground = true };
        _reader.Start();
    }

    /// <summary>An associated node whose usage check runs every 50 ms (reports come quickly).</summary>
    public static NodeUnderTest AssociatedWithFastUsageChecks()
    {
        var n = new NodeUnderTest(s => s with { UsageTick = TimeSpan.FromMilliseconds(50) });
        n.Associate();
        return n;
    }

    /// <summary>The usage reports (Session Report Requests of type USAR) the node has sent so far.</summary>
    public SessionReportRequest[] UsageReports() =>
        [.. NodeRequests.Select(d => d.Body).OfType<SessionReportRequest>().Where(r => r.ReportType.HasFlag(ReportType.Usar))];

    public DatapathTables Tables { get; }
    public SessionTable Table { get; }
    public PfcpNode Node { get; private set; }
    private readonly PfcpNodeSettings _settings;
    private readonly IGtpuSender? _gtpu;

    /// <summary>
    /// A daemon restart in miniature: the node stops (or, <paramref name="crash"/>, is exported
    /// while still running, as a periodic save is), a new node over the same datapath restores
    /// the export and starts on a new port. Returns the export.
    /// </summary>
    /// <param name="savedEarlier">After a crash, restore this older save (<see cref="Save"/>) instead of the state at the crash.</param>
    public PfcpNodeRecord Restart(bool crash = false, PfcpNodeRecord? savedEarlier = null)
    {
        PfcpNodeRecord saved;
        if (crash)
        {
            saved = savedEarlier ?? Save();
            Node.Dispose();
        }
        else
        {
            Node.Dispose();
            saved = Save();
        }
        Node = new PfcpNode(_settings, Table, Tables, NullLogger.Instance, gtpu: _gtpu);
        Node.Restore(saved);
        Node.Start();
        return saved;
    }
    /// <summary>The node's state through JSON, as pfcp.json carries it (a periodic save while it runs).</summary>
    public PfcpNodeRecord Save() => System.Text.Json.JsonSerializer.Deserialize<PfcpNodeRecord>(
        System.Text.Json.JsonSerializer.Serialize(Node.Export(), LoxiLb.Edge5G.Datapath.Json.RulesDocument.JsonOptions),
        LoxiLb.Edge5G.Datapath.Json.RulesDocument.JsonOptions)!;

    public bool AnswerNodeRequests { get; set; }

    /// <summary>The Update BAR the SMF's answers to Session Report Requests carry (a DL Buffering Duration, a packet count).</summary>
    public UpdateBar? ReportUpdateBar { get; set; }

    /// <summary>The SMF answers Session Report Requests with PFCPSRRsp-Flags DROBU (drop buffered packets).</summary>
    public bool SmfDrobu { get; set; }

    /// <summary>The cause the SMF answers Session Report Requests with.</summary>
    public PfcpCause ReportAnswer { get; set; } = PfcpCause.RequestAccepted;
    public NodeId SmfNodeId { get; } = NodeId.FromFqdn("smf.example.test");
    public IPEndPoint SmfEndpoint => (IPEndPoint)_smf.LocalEndPoint!;
    public DateTime SmfRecovery { get; set; } = new(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc);

    public IReadOnlyList<PfcpDecoded> NodeRequests
    {
        get
        {
            lock (_fromNode)
                return _fromNode.Where(d => d.Header.MessageType.IsRequest()).ToArray();
        }
    }

    public uint NextSequence() => ++_sequence;

    /// <summary>
    /// Traffic as the datapath would count it: adds to the first CPU's counters of the session's
    /// PDR and stamps the slot with the usage epoch, as the program does.
    /// </summary>
    public void AddTraffic(ulong seid, ushort pdr, ulong packets, ulong bytes)
    {
        Assert.True(Table.TryGet(seid, out var s), $"no session {seid}");
        var stats = (MemoryPerCpuTable<LoxiLb.Edge5G.Datapath.Abi.Counter>)Tables.PdrStats;
        var current = stats.Read(s!.PdrStats[pdr]);
        current[0] = new LoxiLb.Edge5G.Datapath.Abi.Counter { Packets = current[0].Packets + packets, Bytes = current[0].Bytes + bytes };
        stats.Entries[s.PdrStats[pdr]] = current;
        (Tables.UsageActivity as MemoryUsageActivity)?.Count(s.PdrStats[pdr]);
    }

    /// <summary>Sends raw bytes to the node.</summary>
    public void SendRaw(byte[] datagram) => _smf.SendTo(datagram, Node.LocalEndpoint!);

    /// <summary>Sends a request and waits for the response with its sequence number.</summary>
    public PfcpDecoded Request(IPfcpMessageBody body, ulong? seid = null, uint? sequence = null)
    {
        var seq = sequence ?? NextSequence();
        SendRaw(PfcpCodec.Encode(body, seq, body.MessageType.IsSessionMessage() ? seid ?? 0 : null));
        return WaitResponse(seq);
    }

    public PfcpDecoded WaitResponse(uint sequence, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(3));
        while (DateTime.UtcNow < deadline)
        {
            lock (_fromNode)
            {
                var found = _fromNode.FirstOrDefault(d => !d.Header.MessageType.IsRequest() && d.Header.SequenceNumber == sequence);
                if (found is not null)
                {
                    _fromNode.Remove(found);
                    return found;
                }
            }
            Thread.Sleep(5);
        }
        throw new TimeoutException($"no response with sequence {sequence}");
    }

    public int ResponsesWithSequence(uint sequence)
    {
        lock (_fromNode)
            return _fromNode.Count(d => !d.Header.MessageType.IsRequest() && d.Header.SequenceNumber == sequence);
    }

    public bool WaitFor(Func<IReadOnlyList<PfcpDecoded>, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (predicate(NodeRequests))
                return true;
            Thread.Sleep(10);
        }
        return predicate(NodeRequests);
    }

    public AssociationSetupResponse Associate()
    {
        var r = Request(new AssociationSetupRequest(SmfNodeId, SmfRecovery));
        return Assert.IsType<AssociationSetupResponse>(r.Body);
    }

    private void Read()
    {
        var buffer = new byte[65536];
        while (!_stopping)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n;
            try
            {
                n = _smf.ReceiveFrom(buffer, ref from);
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (PfcpCodec.Decode(buffer.AsSpan(0, n)) is not PfcpDecoded d)
                continue;
            lock (_fromNode)
                _fromNode.Add(d);
            if (AnswerNodeRequests && d.Header.MessageType.IsRequest())
            {
                IPfcpMessageBody? answer = d.Body switch
                {
                    HeartbeatRequest => new HeartbeatResponse(SmfRecovery),
                    SessionReportRequest => new SessionReportResponse(ReportAnswer) { Flags = SmfDrobu ? PfcpSrRspFlags.Drobu : null, UpdateBar = ReportUpdateBar },
                    AssociationSetupRequest => new AssociationSetupResponse(SmfNodeId, PfcpCause.RequestAccepted, SmfRecovery),
                    _ => null,
                };
                if (answer is not null)
                    _smf.SendTo(PfcpCodec.Encode(answer, d.Header.SequenceNumber, answer.MessageType.IsSessionMessage() ? d.Header.Seid : null), from);
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Node.Dispose();
        _reader.Join(TimeSpan.FromSeconds(1));
        _smf.Dispose();
    }

    // ----- a PDU session as Open5GS-like SMFs build it -----

    public static readonly IPAddress Gnb = IPAddress.Parse("198.51.100.2");

    /// <summary>UL PDR 1 (CHOOSE F-TEID, id 1, CHV4 UE address) to FAR 1 (N6); DL PDR 2 (UE address) to FAR 2 (BUFF until the gNB is known); QER 1 QFI 9; URR 1 volume threshold.</summary>
    /// <param name="ueIpv6">A UE IPv6 address the SMF assigned, in both PDRs besides the chosen IPv4 one.</param>
    public SessionEstablishmentRequest EstablishmentRequest(ulong cpSeid, ulong? volumeThreshold = null, IPAddress? ueIpv6 = null) =>
        new(SmfNodeId, new FSeid(cpSeid, IPAddress.Loopback),
            [
                new CreatePdr(1, new Pdi(SourceInterface.Access)
                {
                    LocalFTeid = FTeid.ChooseByUp(chooseId: 1),
                    UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true, Ipv6 = ueIpv6 }],
                    Qfis = [9],
                })
                {
                    Precedence = 200, FarId = 1, QerIds = [1], UrrIds = [1],
                    OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
                },
                new CreatePdr(2, new Pdi(SourceInterface.Core) { UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true, IsDestination = true, Ipv6 = ueIpv6 }] })
                {
                    Precedence = 200, FarId = 2, QerIds = [1], UrrIds = [1],
                },
            ],
            [
                new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) },
                new CreateFar(2, ApplyActionFlags.Buff | ApplyActionFlags.Nocp),
            ])
        {
            CreateQers = [new CreateQer(1, GateStatus.Open) { Qfi = 9 }],
            CreateUrrs = [new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(volumeThreshold is null ? ReportingTriggerFlags.None : ReportingTriggerFlags.Volth))
            {
                VolumeThreshold = volumeThreshold is { } v ? new Volume(Total: v) : null,
            }],
        };

    /// <summary>The second step of PDU session setup: FAR 2 forwards to the gNB's F-TEID.</summary>
    public static SessionModificationRequest GnbKnown(uint gnbTeid, bool sendEndMarker = false) => new()
    {
        UpdateFars = [new UpdateFar(2)
        {
            ApplyAction = ApplyActionFlags.Forw,
            UpdateForwardingParameters = new UpdateForwardingParameters
            {
                DestinationInterface = DestinationInterface.Access,
                OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(gnbTeid, Gnb),
                SmReqFlags = sendEndMarker ? PfcpSmReqFlags.Sndem : null,
            },
        }],
    };
}

using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Demo;

/// <summary>
/// A small SMF for the demo: associates with the gateway over real PFCP (UDP 8805) from a lab
/// namespace and sets up PDU sessions the way SMFs do (establishment with CHOOSE, then the
/// modification that brings the gNB's F-TEID). Answers the gateway's heartbeats and reports.
/// </summary>
public sealed class DemoSmf : IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _upf;
    private readonly Thread _reader;
    private readonly Dictionary<uint, TaskCompletionSource<PfcpDecoded>> _waiting = [];
    private readonly List<SessionReportRequest> _reports = [];
    private readonly List<NodeReportRequest> _nodeReports = [];
    private volatile bool _stopping;
    private uint _sequence;

    public DemoSmf(NetworkNamespace ns, IPAddress address, IPEndPoint upf)
    {
        using (ns.Enter())
        {
            _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(new IPEndPoint(address, 8805));
        }
        _socket.ReceiveTimeout = 200;
        _upf = upf;
        NodeId = NodeId.FromFqdn("smf.demo.invalid");
        _reader = new Thread(Read) { IsBackground = true, Name = "demo smf" };
        _reader.Start();
    }

    public NodeId NodeId { get; }
    public DateTime Recovery { get; } = DateTime.UtcNow.AddTicks(-(DateTime.UtcNow.Ticks % TimeSpan.TicksPerSecond));

    public IReadOnlyList<SessionReportRequest> Reports
    {
        get
        {
            lock (_reports)
                return _reports.ToArray();
        }
    }

    /// <summary>The Node Reports (path failure / recovery) the UPF has sent, answered Request accepted.</summary>
    public IReadOnlyList<NodeReportRequest> NodeReports
    {
        get
        {
            lock (_reports)
                return _nodeReports.ToArray();
        }
    }

    public PfcpDecoded Request(IPfcpMessageBody body, ulong? seid = null)
    {
        TaskCompletionSource<PfcpDecoded> waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        uint sequence;
        lock (_waiting)
        {
            sequence = ++_sequence;
            _waiting[sequence] = waiter;
        }
        var bytes = PfcpCodec.Encode(body, sequence, body.MessageType.IsSessionMessage() ? seid ?? 0 : null);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            _socket.SendTo(bytes, _upf);
            if (waiter.Task.Wait(TimeSpan.FromSeconds(2)))
                return waiter.Task.Result;
        }
        throw new TimeoutException($"the gateway did not answer {body.MessageType}");
    }

    public AssociationSetupResponse Associate() => (AssociationSetupResponse)Request(new AssociationSetupRequest(NodeId, Recovery)).Body;

    private void Read()
    {
        var buffer = new byte[65536];
        while (!_stopping)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n;
            try
            {
                n = _socket.ReceiveFrom(buffer, ref from);
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
            if (!d.Header.MessageType.IsRequest())
            {
                lock (_waiting)
                    if (_waiting.Remove(d.Header.SequenceNumber, out var w))
                        w.TrySetResult(d);
                continue;
            }
            IPfcpMessageBody? answer = d.Body switch
            {
                HeartbeatRequest => new HeartbeatResponse(Recovery),
                SessionReportRequest r => Record(r),
                NodeReportRequest r => Record(r),
                _ => null,
            };
            if (answer is not null)
                _socket.SendTo(PfcpCodec.Encode(answer, d.Header.SequenceNumber, answer.MessageType.IsSessionMessage() ? d.Header.Seid : null), from);
        }
    }

    private NodeReportResponse Record(NodeReportRequest r)
    {
        lock (_reports)
            _nodeReports.Add(r);
        return new NodeReportResponse(NodeId, PfcpCause.RequestAccepted);
    }

    private SessionReportResponse Record(SessionReportRequest r)
    {
        lock (_reports)
            _reports.Add(r);
        return new SessionReportResponse(PfcpCause.RequestAccepted);
    }

    public void Dispose()
    {
        _stopping = true;
        _reader.Join(TimeSpan.FromSeconds(1));
        _socket.Dispose();
    }

    // ----- PDU sessions -----

    private static CreatePdr Uplink(ushort id, uint precedence, uint far, byte chooseId, string? filter = null, uint[]? qers = null) =>
        new(id, new Pdi(SourceInterface.Access)
        {
            LocalFTeid = FTeid.ChooseByUp(chooseId: chooseId),
            UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true }],
            SdfFilters = filter is null ? [] : [new SdfFilter { FlowDescription = filter }],
        })
        {
            Precedence = precedence,
            FarId = far,
            OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
            QerIds = [.. qers ?? []],
            UrrIds = [1],
        };

    private static CreatePdr Downlink(ushort id, uint far) =>
        new(id, new Pdi(SourceInterface.Core) { UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true, IsDestination = true }] })
        {
            Precedence = 200,
            FarId = far,
            QerIds = [1],
            UrrIds = [1],
        };

    private static CreateQer Qer(ulong? downlinkMbrKbps) => new(1, GateStatus.Open)
    {
        Qfi = 9,
        Mbr = downlinkMbrKbps is { } dl ? new BitRate(0, dl) : null,
    };

    private static CreateUrr VolumeUrr() => new(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.None));

    /// <summary>An ordinary PDU session: uplink breaks out on N6, downlink buffered until the gNB is known.</summary>
    public SessionEstablishmentRequest Plain(ulong cpSeid, ulong? downlinkMbrKbps = null) =>
        new(NodeId, new FSeid(cpSeid, ((IPEndPoint)_socket.LocalEndPoint!).Address),
            [Uplink(1, 200, 1, 1, qers: [1]), Downlink(2, 2)],
            [
                new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) },
                new CreateFar(2, ApplyActionFlags.Buff | ApplyActionFlags.Nocp),
            ])
        {
            CreateQers = [Qer(downlinkMbrKbps)],
            CreateUrrs = [VolumeUrr()],
        };

    /// <summary>
    /// A ULCL session: uplink to <paramref name="localNetwork"/> breaks out here, the rest goes
    /// over N9 to the central UPF; downlink from N6 and from N9 (a CHOOSE F-TEID on the core
    /// side) merges into the gNB tunnel.
    /// </summary>
    public SessionEstablishmentRequest Ulcl(ulong cpSeid, string localNetwork, uint centralTeid, IPAddress centralUpf) =>
        new(NodeId, new FSeid(cpSeid, ((IPEndPoint)_socket.LocalEndPoint!).Address),
            [
                Uplink(1, 100, 1, 1, filter: $"permit out ip from {localNetwork} to assigned"),
                Uplink(3, 200, 3, 1),
                Downlink(2, 2),
                new CreatePdr(4, new Pdi(SourceInterface.Core) { LocalFTeid = FTeid.ChooseByUp(chooseId: 2) })
                {
                    Precedence = 200,
                    FarId = 2,
                    QerIds = [1],
                    UrrIds = [1],
                    OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
                },
            ],
            [
                new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) },
                new CreateFar(2, ApplyActionFlags.Buff | ApplyActionFlags.Nocp),
                new CreateFar(3, ApplyActionFlags.Forw)
                {
                    ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) { OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(centralTeid, centralUpf) },
                },
            ])
        {
            CreateQers = [Qer(null)],
            CreateUrrs = [VolumeUrr()],
        };

    /// <summary>The second step of PDU session setup: FAR 2 now forwards to the gNB's F-TEID.</summary>
    public static SessionModificationRequest GnbKnown(uint gnbTeid, IPAddress gnb) => new()
    {
        UpdateFars = [new UpdateFar(2)
        {
            ApplyAction = ApplyActionFlags.Forw,
            UpdateForwardingParameters = new UpdateForwardingParameters
            {
                DestinationInterface = DestinationInterface.Access,
                OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(gnbTeid, gnb),
            },
        }],
    };
}

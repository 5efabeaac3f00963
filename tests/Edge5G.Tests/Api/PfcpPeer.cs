using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>
/// An SMF's N4 socket in a lab namespace, speaking to the daemon's PFCP node with the codec:
/// requests out, the response with the same sequence number back (the node's own requests,
/// heartbeats, are skipped).
/// </summary>
public sealed class PfcpPeer : IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _node;
    private uint _sequence = 1000;

    public PfcpPeer(NetworkNamespace ns, IPAddress local, IPEndPoint node)
    {
        using (ns.Enter())
            _socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(local, 0));
        _socket.ReceiveTimeout = 200;
        _node = node;
        NodeId = NodeId.FromAddress(local);
    }

    public NodeId NodeId { get; }
    public DateTime Recovery { get; } = new(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc);

    public IPfcpMessageBody Request(IPfcpMessageBody body, ulong? seid = null)
    {
        var sequence = ++_sequence;
        _socket.SendTo(PfcpCodec.Encode(body, sequence, body.MessageType.IsSessionMessage() ? seid ?? 0 : null), _node);
        var buffer = new byte[65536];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            int n;
            try
            {
                n = _socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue;
            }
            if (PfcpCodec.Decode(buffer.AsSpan(0, n)) is PfcpDecoded d && !d.Message.Header.MessageType.IsRequest() && d.Message.Header.SequenceNumber == sequence)
                return d.Body;
        }
        throw new TimeoutException($"no PFCP response to {body.MessageType} (sequence {sequence}) from {_node}");
    }

    public AssociationSetupResponse Associate() =>
        Assert.IsType<AssociationSetupResponse>(Request(new AssociationSetupRequest(NodeId, Recovery)));

    /// <summary>A PDU session as SMFs set it up: CHOOSE F-TEID and UE address, downlink buffered until the gNB is known.</summary>
    public SessionEstablishmentResponse Establish(ulong cpSeid, IPAddress local) =>
        Assert.IsType<SessionEstablishmentResponse>(Request(new SessionEstablishmentRequest(NodeId, new FSeid(cpSeid, local),
            [
                new CreatePdr(1, new Pdi(SourceInterface.Access)
                {
                    LocalFTeid = FTeid.ChooseByUp(chooseId: 1),
                    UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true }],
                })
                {
                    Precedence = 200, FarId = 1, QerIds = [1],
                    OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
                },
                new CreatePdr(2, new Pdi(SourceInterface.Core) { UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true, IsDestination = true }] })
                {
                    Precedence = 200, FarId = 2, QerIds = [1],
                },
            ],
            [
                new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) },
                new CreateFar(2, ApplyActionFlags.Buff | ApplyActionFlags.Nocp),
            ])
        {
            CreateQers = [new CreateQer(1, GateStatus.Open) { Qfi = 9 }],
        }));

    public void Dispose() => _socket.Dispose();
}

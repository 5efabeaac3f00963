using System.Buffers.Binary;
using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Pfcp.Node;
using Microsoft.Extensions.Logging;

namespace LoxiLb.Edge5G.Gtpu;

/// <summary>
/// The slow path for IPv4 packets without DF that are too big once encapsulated (downlink
/// from N6, or a G-PDU's inner packet re-encapsulated towards N9 or the gNB): the datapath
/// hands each (ring buffer slow_packets, <see cref="SlowPacketRecord"/>) with its FAR's
/// tunnel; here it is fragmented to the size that fits (<see cref="Ipv4Fragmenter"/>, the far
/// end reassembles) and every fragment goes down the tunnel as a G-PDU, with the PDU Session
/// Container (DL or UL) when there is a QFI, from the FAR's outer source address with its
/// transport level marking. The datapath counted the packet on its PDR (usage) and
/// as <c>fragmented</c>; what fails here is counted in <see cref="Refused"/>.
/// </summary>
public sealed partial class TooBigFragmenter(IGtpuSender sender, ILogger logger)
{
    private long _packets, _fragments, _refused;

    /// <summary>Packets fragmented and sent.</summary>
    public long Packets => Interlocked.Read(ref _packets);
    /// <summary>G-PDUs sent for them.</summary>
    public long Fragments => Interlocked.Read(ref _fragments);
    /// <summary>Packets that could not be fragmented or sent (a malformed record, TTL 1, a send error): lost.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Fragments the packet of <paramref name="record"/> and sends the fragments down its tunnel.</summary>
    public unsafe void Handle(in SlowPacketRecord record)
    {
        fixed (SlowPacketRecord* r = &record)
        {
            int length = Math.Min((int)record.Len, SlowPacketRecord.MaxPacket);
            var packet = new ReadOnlySpan<byte>(r->Packet, length);
            if (Ipv4Fragmenter.Refusal(packet, record.Mtu) is { } why)
            {
                Interlocked.Increment(ref _refused);
                LogRefused(logger, why);
                return;
            }
            var ipv6 = record.OuterHeaderCreation == OuterHeaderCreationKind.GtpuIpv6;
            var peer = Address(new ReadOnlySpan<byte>(r->Peer, 16), ipv6);
            var local = Address(new ReadOnlySpan<byte>(r->Local, 16), ipv6);
            var teid = BinaryPrimitives.ReverseEndianness(record.Teid); // the record holds it in network order
            byte? qfi = record.Qfi == 0 ? null : record.Qfi;
            try
            {
                var fragments = Ipv4Fragmenter.Fragment(packet, record.Mtu);
                foreach (var fragment in fragments)
                    sender.Send(local, peer, GtpuMessage.GPdu(teid, fragment, qfi, record.PduType), record.Tos);
                Interlocked.Increment(ref _packets);
                Interlocked.Add(ref _fragments, fragments.Count);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException)
            {
                Interlocked.Increment(ref _refused);
                LogRefused(logger, e.Message);
            }
        }
    }

    /// <summary>An outer address as edge5g_far holds it: IPv4 in the first 4 octets, or IPv6.</summary>
    private static IPAddress Address(ReadOnlySpan<byte> bytes, bool ipv6) => new(ipv6 ? bytes : bytes[..4]);

    [LoggerMessage(Level = LogLevel.Debug, Message = "a too-big downlink packet was not fragmented: {Why}")]
    private static partial void LogRefused(ILogger logger, string why);
}

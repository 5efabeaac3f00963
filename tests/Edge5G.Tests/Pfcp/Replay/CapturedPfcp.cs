using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Replay;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Pfcp.Replay;

/// <summary>One PFCP datagram of a real capture with its addresses (ICMP-quoted copies are left out).</summary>
public sealed record CapturedPfcp(int Index, DateTime Time, IPEndPoint Source, IPEndPoint Destination, byte[] Payload, PfcpDecodeOutcome Outcome)
{
    public PfcpDecoded? Decoded => Outcome as PfcpDecoded;
    public PfcpMessageType? Type => Decoded?.Header.MessageType;
    public override string ToString() => $"#{Index} {Source} -> {Destination} {Type?.ToString() ?? Outcome.ToString()}";

    /// <summary>The PFCP datagrams (to or from UDP 8805) of a capture in ../shared/pcaps-real, in capture order.</summary>
    public static IReadOnlyList<CapturedPfcp> Read(string file)
    {
        var result = new List<CapturedPfcp>();
        foreach (var frame in PcapFile.Read(Path.Combine(RealCaptures.Directory, file)))
        {
            var packet = Packet.ParsePacket(frame.LinkType, frame.Data);
            if (packet.Extract<IcmpV4Packet>() is not null || packet.Extract<IcmpV6Packet>() is not null)
                continue;
            if (packet.Extract<UdpPacket>() is not { } udp || (udp.SourcePort != RealCaptures.PfcpPort && udp.DestinationPort != RealCaptures.PfcpPort))
                continue;
            if (udp.ParentPacket is not IPPacket ip)
                continue;
            var payload = udp.PayloadData ?? [];
            result.Add(new CapturedPfcp(result.Count, frame.Timestamp.ToUniversalTime(), new IPEndPoint(ip.SourceAddress, udp.SourcePort),
                new IPEndPoint(ip.DestinationAddress, udp.DestinationPort), payload, PfcpCodec.Decode(payload)));
        }
        return result;
    }
}

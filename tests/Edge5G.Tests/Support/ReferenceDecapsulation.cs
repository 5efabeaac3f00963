using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Gtpu;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// What the gateway should transmit for captured traffic, computed in C# from TS 29.281
/// independently of the BPF program: G-PDUs to our address and a session's TEID leave as the
/// inner packet (TTL - 1) through the default route; Echo Requests get an Echo Response;
/// everything else transmits nothing (passed to the stack or dropped).
/// </summary>
public static class ReferenceDecapsulation
{
    public static IReadOnlyList<byte[]> Golden(RulesDocument rules, IEnumerable<byte[]> input)
    {
        var local = (rules.Addresses?.Access ?? []).Concat(rules.Addresses?.Core ?? []).Select(IPAddress.Parse).ToHashSet();
        var sessions = rules.ToSessions();
        var route = rules.Routes!.Single(r => r.Prefix == "default");
        var src = PhysicalAddress.Parse(route.SourceMac.Replace(':', '-'));
        var dst = PhysicalAddress.Parse(route.DestinationMac.Replace(':', '-'));
        var output = new List<byte[]>();
        foreach (var frame in input)
            if (Expected(frame, local, sessions, src, dst, rules.Recovery) is { } o)
                output.Add(o);
        return output;
    }

    private static byte[]? Expected(byte[] frame, HashSet<IPAddress> local, IReadOnlyList<LoxiLb.Edge5G.Datapath.Model.Session> sessions,
        PhysicalAddress routeSrc, PhysicalAddress routeDst, byte recovery)
    {
        if (Packet.ParsePacket(LinkLayers.Ethernet, frame) is not EthernetPacket eth)
            return null;
        var ip = eth.Extract<IPPacket>();
        if (ip is null || !local.Contains(ip.DestinationAddress))
            return null;
        if (ip is IPv4Packet v4 && (v4.FragmentOffset != 0 || (v4.FragmentFlags & 0x1) != 0))
            return null; // fragments go to the stack
        if (ip.PayloadPacket is not UdpPacket udp || udp.DestinationPort != GtpuMessage.Port)
            return null;
        GtpuMessage message;
        try
        {
            message = GtpuMessage.Decode(udp.PayloadData);
        }
        catch (FormatException)
        {
            return null;
        }
        if (message.Type == GtpuMessageType.EchoRequest)
        {
            var response = new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, recovery], Sequence: message.Sequence ?? 0);
            var reply = GtpFrames.Tunnelled(eth.DestinationHardwareAddress, eth.SourceHardwareAddress, ip.DestinationAddress, ip.SourceAddress,
                response, ipId: ip is IPv4Packet p4 ? p4.Id : (ushort)0, df: false, destinationPort: udp.SourcePort,
                tos: ip is IPv4Packet t4 ? (byte)t4.TypeOfService : (byte)0); // the reply keeps the request's DSCP
            // A request frame of at most the Ethernet minimum that holds the reply is answered in place, zero padded.
            return frame.Length >= reply.Length && frame.Length <= 60 ? reply.Concat(new byte[frame.Length - reply.Length]).ToArray() : reply;
        }
        if (message.Type != GtpuMessageType.GPdu)
            return null;
        var pdr = sessions.SelectMany(s => s.Pdrs)
            .FirstOrDefault(p => p.Pdi.LocalFTeid is { } f && f.Teid == message.Teid && f.Addresses.Contains(ip.DestinationAddress));
        if (pdr is null)
            return null;
        var inner = InnerPacket(message.Payload);
        if (inner is null)
            return null;
        var v6 = (inner[0] >> 4) == 6;
        var source = new IPAddress(v6 ? inner.AsSpan(8, 16) : inner.AsSpan(12, 4));
        if (pdr.Pdi.UeIpv4 is { } ue && !source.Equals(ue))
            return null;
        if ((v6 ? inner[7] : inner[8]) <= 1)
            return null; // TTL / hop limit expires: the stack answers
        return GtpFrames.Ethernet(routeSrc, routeDst, GtpFrames.Forwarded(inner));
    }

    /// <summary>The inner IP packet, cut to its own length; null when it is not a well-formed IPv4/IPv6 header that fits.</summary>
    private static byte[]? InnerPacket(byte[] payload)
    {
        if (payload.Length == 0)
            return null;
        switch (payload[0] >> 4)
        {
            case 4:
                if (payload.Length < 20 || (payload[0] & 0x0f) < 5)
                    return null;
                var total = (payload[2] << 8) | payload[3];
                if (total > payload.Length || total < 20)
                    return null;
                return payload[..total];
            case 6:
                if (payload.Length < 40)
                    return null;
                var length = 40 + ((payload[4] << 8) | payload[5]);
                return length > payload.Length ? null : payload[..length];
            default:
                return null;
        }
    }
}

using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>Builds test frames from named fields with PacketDotNet.</summary>
public static class TestPackets
{
    public static readonly PhysicalAddress GnbMac = PhysicalAddress.Parse("02-00-00-00-00-02");
    public static readonly PhysicalAddress GatewayMac = PhysicalAddress.Parse("02-00-00-00-00-01");

    /// <summary>Ethernet / IPv4 / UDP with the given payload, checksums computed.</summary>
    public static byte[] Udp4(string source, string destination, ushort sourcePort, ushort destinationPort,
        byte[] payload, byte ttl = 64, PhysicalAddress? sourceMac = null, PhysicalAddress? destinationMac = null)
    {
        var udp = new UdpPacket(sourcePort, destinationPort) { PayloadData = payload };
        var ip = new IPv4Packet(IPAddress.Parse(source), IPAddress.Parse(destination)) { TimeToLive = ttl, PayloadPacket = udp };
        var eth = new EthernetPacket(sourceMac ?? GnbMac, destinationMac ?? GatewayMac, EthernetType.IPv4) { PayloadPacket = ip };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return eth.Bytes;
    }
}

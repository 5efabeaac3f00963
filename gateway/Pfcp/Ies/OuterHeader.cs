using System.Net;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// Outer Header Creation description (clause 8.2.56), as the 16-bit value of octets 5-6:
/// octet 5 bits 1-8 are 0x0100..0x8000, octet 6 bits 1-3 are 0x0001..0x0004.
/// </summary>
[Flags]
public enum OuterHeaderCreationDescription : ushort
{
    None = 0,
    GtpuUdpIpv4 = 0x0100,
    GtpuUdpIpv6 = 0x0200,
    UdpIpv4 = 0x0400,
    UdpIpv6 = 0x0800,
    Ipv4 = 0x1000,
    Ipv6 = 0x2000,
    CTag = 0x4000,
    STag = 0x8000,
    N19Indication = 0x0001,
    N6Indication = 0x0002,
    LowLayerSsmAndCTeid = 0x0004,
}

/// <summary>
/// Outer Header Creation (clause 8.2.56): description (2 octets), then TEID (GTP-U forms),
/// IPv4 address (GTP-U/UDP/IP over IPv4), IPv6 address, port (UDP forms), C-TAG and S-TAG
/// (3 octets each), each present as the description requires.
/// </summary>
public sealed record OuterHeaderCreation(OuterHeaderCreationDescription Description) : IIeValue
{
    private const OuterHeaderCreationDescription Gtpu = OuterHeaderCreationDescription.GtpuUdpIpv4 | OuterHeaderCreationDescription.GtpuUdpIpv6;
    private const OuterHeaderCreationDescription AnyV4 = OuterHeaderCreationDescription.GtpuUdpIpv4 | OuterHeaderCreationDescription.UdpIpv4 | OuterHeaderCreationDescription.Ipv4;
    private const OuterHeaderCreationDescription AnyV6 = OuterHeaderCreationDescription.GtpuUdpIpv6 | OuterHeaderCreationDescription.UdpIpv6 | OuterHeaderCreationDescription.Ipv6;
    private const OuterHeaderCreationDescription Udp = OuterHeaderCreationDescription.UdpIpv4 | OuterHeaderCreationDescription.UdpIpv6;

    public uint? Teid { get; init; }
    public IPAddress? Ipv4 { get; init; }
    public IPAddress? Ipv6 { get; init; }
    public ushort? Port { get; init; }
    public uint? CTag { get; init; }
    public uint? STag { get; init; }

    /// <summary>GTP-U/UDP/IPv4 towards a peer TEID (the usual downlink-to-gNB or N9 case).</summary>
    public static OuterHeaderCreation GtpuIpv4(uint teid, IPAddress peer) =>
        new(OuterHeaderCreationDescription.GtpuUdpIpv4) { Teid = teid, Ipv4 = peer };

    public static OuterHeaderCreation GtpuIpv6(uint teid, IPAddress peer) =>
        new(OuterHeaderCreationDescription.GtpuUdpIpv6) { Teid = teid, Ipv6 = peer };

    public static OuterHeaderCreation Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        var d = (OuterHeaderCreationDescription)r.U16("description");
        return new OuterHeaderCreation(d)
        {
            Teid = (d & Gtpu) != 0 ? r.U32("TEID") : null,
            Ipv4 = (d & AnyV4) != 0 ? r.Ipv4("IPv4 address") : null,
            Ipv6 = (d & AnyV6) != 0 ? r.Ipv6("IPv6 address") : null,
            Port = (d & Udp) != 0 ? r.U16("port number") : null,
            CTag = (d & OuterHeaderCreationDescription.CTag) != 0 ? r.U24("C-TAG") : null,
            STag = (d & OuterHeaderCreationDescription.STag) != 0 ? r.U24("S-TAG") : null,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        var d = Description;
        writer.U16((ushort)d);
        if ((d & Gtpu) != 0) writer.U32(Teid ?? throw Missing("TEID"));
        if ((d & AnyV4) != 0) writer.Ipv4(Ipv4 ?? throw Missing("IPv4 address"));
        if ((d & AnyV6) != 0) writer.Ipv6(Ipv6 ?? throw Missing("IPv6 address"));
        if ((d & Udp) != 0) writer.U16(Port ?? throw Missing("port number"));
        if ((d & OuterHeaderCreationDescription.CTag) != 0) writer.U24(CTag ?? throw Missing("C-TAG"));
        if ((d & OuterHeaderCreationDescription.STag) != 0) writer.U24(STag ?? throw Missing("S-TAG"));
    }

    private InvalidOperationException Missing(string field) => new($"outer header creation {Description} needs a {field}");
}

/// <summary>
/// Outer Header Removal (clause 8.2.64): the description octet, then optionally the GTP-U
/// Extension Header Deletion octet (bit 1: remove the PDU Session Container).
/// </summary>
public sealed record OuterHeaderRemoval(OuterHeaderRemovalDescription Description, byte? ExtensionHeaderDeletion = null) : IIeValue
{
    public static OuterHeaderRemoval Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        var description = (OuterHeaderRemovalDescription)r.U8("description");
        // The one-octet form is shared: every held session keeps its uplink PDRs' removal.
        if (r.AtEnd)
            return OneOctet[(byte)description] ??= new OuterHeaderRemoval(description);
        return new OuterHeaderRemoval(description, r.U8("GTP-U extension header deletion"));
    }

    private static readonly OuterHeaderRemoval?[] OneOctet = new OuterHeaderRemoval?[256];

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)Description);
        if (ExtensionHeaderDeletion is { } deletion)
            writer.U8(deletion);
    }
}

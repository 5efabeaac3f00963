using System.Net;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// User Plane IP Resource Information (clause 8.2.82, Rel-15; removed in Rel-16 but still sent by
/// UPFs such as UPG-VPP). Flags: bit 1 V4, bit 2 V6, bits 5-3 TEID range indication, bit 6 ASSONI,
/// bit 7 ASSOSI. Then TEID range, IPv4, IPv6, Network Instance and Source Interface as flagged.
/// </summary>
public sealed record UserPlaneIpResourceInformation : IIeValue
{
    private const byte V4 = 0x01, V6 = 0x02, ASSONI = 0x20, ASSOSI = 0x40;

    /// <summary>Number of TEID bits (0..7) fixed by <see cref="TeidRange"/>.</summary>
    public byte TeidRangeIndication { get; init; }
    public byte? TeidRange { get; init; }
    public IPAddress? Ipv4 { get; init; }
    public IPAddress? Ipv6 { get; init; }
    public DnsName? NetworkInstance { get; init; }
    public SourceInterface? SourceInterface { get; init; }

    public static UserPlaneIpResourceInformation Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        byte rangeIndication = (byte)((flags >> 2) & 0x07);
        byte? range = rangeIndication != 0 ? r.U8("TEID range") : null;
        var ipv4 = (flags & V4) != 0 ? r.Ipv4("IPv4 address") : null;
        var ipv6 = (flags & V6) != 0 ? r.Ipv6("IPv6 address") : null;
        DnsName? instance = null;
        if ((flags & ASSONI) != 0)
        {
            // The network instance runs to the end, less the source interface octet if flagged.
            int length = r.Remaining - ((flags & ASSOSI) != 0 ? 1 : 0);
            instance = new DnsName(new OctetString(r.Bytes(length, "network instance")));
        }
        SourceInterface? source = (flags & ASSOSI) != 0 ? (SourceInterface)(r.U8("source interface") & 0x0F) : null;
        return new UserPlaneIpResourceInformation
        {
            TeidRangeIndication = rangeIndication, TeidRange = range, Ipv4 = ipv4, Ipv6 = ipv6,
            NetworkInstance = instance, SourceInterface = source,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)((Ipv4 is null ? 0 : V4) | (Ipv6 is null ? 0 : V6) | (TeidRangeIndication & 0x07) << 2
            | (NetworkInstance is null ? 0 : ASSONI) | (SourceInterface.HasValue ? ASSOSI : 0)));
        if (TeidRangeIndication != 0) writer.U8(TeidRange ?? 0);
        if (Ipv4 is not null) writer.Ipv4(Ipv4);
        if (Ipv6 is not null) writer.Ipv6(Ipv6);
        if (NetworkInstance is not null) writer.Bytes(NetworkInstance.Raw.Span);
        if (SourceInterface is { } source) writer.U8((byte)source);
    }
}

/// <summary>
/// Downlink Data Service Information (clause 8.2.27): flags (bit 1 PPI, bit 2 QFII), then the
/// Paging Policy Indication value and the QFI (6 bits each) when flagged.
/// </summary>
public sealed record DownlinkDataServiceInformation(byte? PagingPolicyIndication = null, byte? Qfi = null) : IIeValue
{
    private const byte PPI = 0x01, QFII = 0x02;

    public static DownlinkDataServiceInformation Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        byte? ppi = (flags & PPI) != 0 ? (byte)(r.U8("paging policy indication") & 0x3F) : null;
        byte? qfi = (flags & QFII) != 0 ? (byte)(r.U8("QFI") & 0x3F) : null;
        return new DownlinkDataServiceInformation(ppi, qfi);
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)((PagingPolicyIndication.HasValue ? PPI : 0) | (Qfi.HasValue ? QFII : 0)));
        if (PagingPolicyIndication is { } ppi) writer.U8(ppi);
        if (Qfi is { } qfi) writer.U8(qfi);
    }
}

public enum RuleKind : byte
{
    Pdr = 0,
    Far = 1,
    Qer = 2,
    Urr = 3,
    Bar = 4,
}

/// <summary>
/// Failed Rule ID (clause 8.2.80): octet 5 bits 5-1 the rule kind, then the rule ID in that rule's
/// own width (PDR 2 octets, FAR/QER/URR 4, BAR 1).
/// </summary>
public sealed record FailedRuleId(RuleKind Kind, uint Id) : IIeValue
{
    public static FailedRuleId Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        var kind = (RuleKind)(r.U8("rule ID type") & 0x1F);
        uint id = kind switch
        {
            RuleKind.Pdr => r.U16("PDR ID"),
            RuleKind.Far or RuleKind.Qer or RuleKind.Urr => r.U32("rule ID"),
            RuleKind.Bar => r.U8("BAR ID"),
            _ => throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, $"unknown rule ID type {(int)kind}"),
        };
        return new FailedRuleId(kind, id);
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)Kind);
        switch (Kind)
        {
            case RuleKind.Pdr: writer.U16(checked((ushort)Id)); break;
            case RuleKind.Bar: writer.U8(checked((byte)Id)); break;
            default: writer.U32(Id); break;
        }
    }
}

/// <summary>S-NSSAI (clause 8.2.176): SST (1 octet) and SD (3 octets, 0xFFFFFF = no SD).</summary>
public sealed record Snssai(byte Sst, uint Sd = Snssai.NoSd) : IIeValue
{
    public const uint NoSd = 0xFF_FFFF;

    public static Snssai Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        return new Snssai(r.U8("SST"), r.U24("SD"));
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8(Sst);
        writer.U24(Sd);
    }
}

/// <summary>
/// Source IP Address (clause 8.2.138), optional in a Heartbeat Request: the address the request
/// was sent from, so a node behind several addresses can be told apart. Flags: bit 1 V6,
/// bit 2 V4, bit 3 MPL (a mask prefix length follows the addresses).
/// </summary>
public sealed record SourceIpAddress : IIeValue
{
    private const byte V6 = 0x01, V4 = 0x02, MPL = 0x04;

    public IPAddress? Ipv4 { get; init; }
    public IPAddress? Ipv6 { get; init; }
    public byte? MaskPrefixLength { get; init; }

    public static SourceIpAddress Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        return new SourceIpAddress
        {
            Ipv4 = (flags & V4) != 0 ? r.Ipv4("IPv4 address") : null,
            Ipv6 = (flags & V6) != 0 ? r.Ipv6("IPv6 address") : null,
            MaskPrefixLength = (flags & MPL) != 0 ? r.U8("mask prefix length") : null,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)((Ipv6 is null ? 0 : V6) | (Ipv4 is null ? 0 : V4) | (MaskPrefixLength.HasValue ? MPL : 0)));
        if (Ipv4 is not null) writer.Ipv4(Ipv4);
        if (Ipv6 is not null) writer.Ipv6(Ipv6);
        if (MaskPrefixLength is { } length) writer.U8(length);
    }
}

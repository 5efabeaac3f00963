using System.Text;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// SDF Filter (clause 8.2.5). Octet 5 flags: bit 1 FD, bit 2 TTC, bit 3 SPI, bit 4 FL, bit 5 BID;
/// octet 6 spare. Then, when flagged: Flow Description (2-octet length + IPFilterRule text,
/// e.g. "permit out ip from any to assigned"), ToS/Traffic Class (2 octets), Security Parameter
/// Index (4), Flow Label (3), SDF Filter ID (4).
/// </summary>
public sealed record SdfFilter : IIeValue
{
    private const byte FD = 0x01, TTC = 0x02, SPI = 0x04, FL = 0x08, BID = 0x10;

    public string? FlowDescription { get; init; }
    public ushort? TosTrafficClass { get; init; }
    public uint? SecurityParameterIndex { get; init; }
    public uint? FlowLabel { get; init; }
    public uint? FilterId { get; init; }

    public static SdfFilter Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        r.U8("spare octet");
        string? flow = null;
        if ((flags & FD) != 0)
        {
            int length = r.U16("flow description length");
            flow = Encoding.Latin1.GetString(r.Bytes(length, "flow description"));
        }
        return new SdfFilter
        {
            FlowDescription = flow,
            TosTrafficClass = (flags & TTC) != 0 ? r.U16("ToS traffic class") : null,
            SecurityParameterIndex = (flags & SPI) != 0 ? r.U32("security parameter index") : null,
            FlowLabel = (flags & FL) != 0 ? r.U24("flow label") : null,
            FilterId = (flags & BID) != 0 ? r.U32("SDF filter ID") : null,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)((FlowDescription is null ? 0 : FD) | (TosTrafficClass.HasValue ? TTC : 0)
            | (SecurityParameterIndex.HasValue ? SPI : 0) | (FlowLabel.HasValue ? FL : 0) | (FilterId.HasValue ? BID : 0)));
        writer.U8(0);
        if (FlowDescription is not null)
        {
            var text = Encoding.Latin1.GetBytes(FlowDescription);
            writer.U16(checked((ushort)text.Length));
            writer.Bytes(text);
        }
        if (TosTrafficClass is { } tos) writer.U16(tos);
        if (SecurityParameterIndex is { } spi) writer.U32(spi);
        if (FlowLabel is { } label) writer.U24(label);
        if (FilterId is { } id) writer.U32(id);
    }
}

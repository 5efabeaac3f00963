using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Gate Status (clause 8.2.7): octet 5 bits 4-3 uplink gate, bits 2-1 downlink gate.</summary>
public sealed record GateStatus(GateState Uplink, GateState Downlink) : IIeValue
{
    public static GateStatus Open { get; } = new(GateState.Open, GateState.Open);
    public static GateStatus Closed { get; } = new(GateState.Closed, GateState.Closed);

    public static GateStatus Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte octet = r.U8("gate status");
        // Sixteen possible values: shared, as every held session keeps its QERs' gate status.
        return Shared[octet & 0x0f];
    }

    private static readonly GateStatus[] Shared =
        [.. Enumerable.Range(0, 16).Select(o => new GateStatus((GateState)((o >> 2) & 0x03), (GateState)(o & 0x03)))];

    public void WriteValue(PfcpWriter writer) => writer.U8((byte)(((byte)Uplink & 0x03) << 2 | ((byte)Downlink & 0x03)));
}

/// <summary>MBR (clause 8.2.8) and GBR (clause 8.2.9): 40-bit uplink then downlink rates in kbps.</summary>
public sealed record BitRate(ulong UplinkKbps, ulong DownlinkKbps) : IIeValue
{
    public const ulong MaxKbps = 0xFF_FFFF_FFFF;

    public static BitRate Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        return new BitRate(r.U40("UL bit rate"), r.U40("DL bit rate"));
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U40(UplinkKbps);
        writer.U40(DownlinkKbps);
    }
}

/// <summary>
/// Volume Threshold / Volume Quota and their Subsequent forms (clauses 8.2.13, 8.2.50): flags
/// (bit 1 TOVOL, bit 2 ULVOL, bit 3 DLVOL), then the flagged 64-bit octet counts in that order.
/// </summary>
public sealed record Volume(ulong? Total = null, ulong? Uplink = null, ulong? Downlink = null) : IIeValue
{
    private const byte TOVOL = 0x01, ULVOL = 0x02, DLVOL = 0x04;

    public static Volume Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        return new Volume(
            (flags & TOVOL) != 0 ? r.U64("total volume") : null,
            (flags & ULVOL) != 0 ? r.U64("uplink volume") : null,
            (flags & DLVOL) != 0 ? r.U64("downlink volume") : null);
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)((Total.HasValue ? TOVOL : 0) | (Uplink.HasValue ? ULVOL : 0) | (Downlink.HasValue ? DLVOL : 0)));
        if (Total is { } t) writer.U64(t);
        if (Uplink is { } u) writer.U64(u);
        if (Downlink is { } d) writer.U64(d);
    }
}

/// <summary>
/// Volume Measurement (clause 8.2.44): flags (TOVOL, ULVOL, DLVOL, TONOP, ULNOP, DLNOP in bits
/// 1-6), then the flagged 64-bit octet counts and packet counts in that order.
/// </summary>
public sealed record VolumeMeasurement : IIeValue
{
    private const byte TOVOL = 0x01, ULVOL = 0x02, DLVOL = 0x04, TONOP = 0x08, ULNOP = 0x10, DLNOP = 0x20;

    public ulong? TotalVolume { get; init; }
    public ulong? UplinkVolume { get; init; }
    public ulong? DownlinkVolume { get; init; }
    public ulong? TotalPackets { get; init; }
    public ulong? UplinkPackets { get; init; }
    public ulong? DownlinkPackets { get; init; }

    public static VolumeMeasurement Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        return new VolumeMeasurement
        {
            TotalVolume = (flags & TOVOL) != 0 ? r.U64("total volume") : null,
            UplinkVolume = (flags & ULVOL) != 0 ? r.U64("uplink volume") : null,
            DownlinkVolume = (flags & DLVOL) != 0 ? r.U64("downlink volume") : null,
            TotalPackets = (flags & TONOP) != 0 ? r.U64("total packets") : null,
            UplinkPackets = (flags & ULNOP) != 0 ? r.U64("uplink packets") : null,
            DownlinkPackets = (flags & DLNOP) != 0 ? r.U64("downlink packets") : null,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)((TotalVolume.HasValue ? TOVOL : 0) | (UplinkVolume.HasValue ? ULVOL : 0)
            | (DownlinkVolume.HasValue ? DLVOL : 0) | (TotalPackets.HasValue ? TONOP : 0)
            | (UplinkPackets.HasValue ? ULNOP : 0) | (DownlinkPackets.HasValue ? DLNOP : 0)));
        foreach (var count in new[] { TotalVolume, UplinkVolume, DownlinkVolume, TotalPackets, UplinkPackets, DownlinkPackets })
            if (count is { } c)
                writer.U64(c);
    }
}

/// <summary>
/// Timer-style octet (Timer, Graceful Release Period, DL Buffering Duration): bits 8-6 unit,
/// bits 5-1 value. Units: 0 = 2 s, 1 = 1 min, 2 = 10 min, 3 = 1 h, 4 = 10 h, 7 = infinite;
/// other units count as 1 min (clause 8.2.78).
/// </summary>
public sealed record TimerValue(byte Unit, byte Value) : IIeValue
{
    public const byte InfiniteUnit = 7;

    public static TimerValue Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte octet = r.U8("timer");
        return new TimerValue((byte)(octet >> 5), (byte)(octet & 0x1F));
    }

    /// <summary>The duration, or null for "infinite".</summary>
    public TimeSpan? Duration => Unit switch
    {
        0 => TimeSpan.FromSeconds(2 * Value),
        2 => TimeSpan.FromMinutes(10 * Value),
        3 => TimeSpan.FromHours(Value),
        4 => TimeSpan.FromHours(10 * Value),
        InfiniteUnit => null,
        _ => TimeSpan.FromMinutes(Value),
    };

    public void WriteValue(PfcpWriter writer)
    {
        if (Unit > 7 || Value > 31)
            throw new InvalidOperationException($"timer unit {Unit} / value {Value} out of range (3 / 5 bits)");
        writer.U8((byte)(Unit << 5 | Value));
    }
}

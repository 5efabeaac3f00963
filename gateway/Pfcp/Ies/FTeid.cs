using System.Net;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// F-TEID (clause 8.2.3). Octet 5 flags: bit 1 V4, bit 2 V6, bit 3 CH (the UP function chooses
/// the TEID), bit 4 CHID (a CHOOSE ID follows). With CH=0: TEID, then IPv4 and/or IPv6.
/// With CH=1: no TEID or address; V4/V6 say which address family to allocate; CHOOSE ID
/// (1 octet) when CHID=1 lets several PDRs share one allocated F-TEID.
/// </summary>
public sealed record FTeid : IIeValue
{
    private const byte V4 = 0x01, V6 = 0x02, CH = 0x04, CHID = 0x08;

    public uint Teid { get; init; }
    public IPAddress? Ipv4 { get; init; }
    public IPAddress? Ipv6 { get; init; }

    /// <summary>CH: the UP function is asked to allocate the F-TEID.</summary>
    public bool Choose { get; init; }

    /// <summary>With <see cref="Choose"/>: allocate an IPv4 / IPv6 address.</summary>
    public bool ChooseIpv4 { get; init; }
    public bool ChooseIpv6 { get; init; }

    /// <summary>CHOOSE ID (CHID=1): PDRs with the same id get the same allocated F-TEID.</summary>
    public byte? ChooseId { get; init; }

    /// <summary>A concrete F-TEID (CH=0).</summary>
    public static FTeid Of(uint teid, IPAddress? ipv4, IPAddress? ipv6 = null)
    {
        if (ipv4 is null && ipv6 is null)
            throw new ArgumentException("an F-TEID needs an IPv4 or IPv6 address");
        return new FTeid { Teid = teid, Ipv4 = ipv4, Ipv6 = ipv6 };
    }

    /// <summary>Asks the UP function to allocate (CH=1).</summary>
    public static FTeid ChooseByUp(bool ipv4 = true, bool ipv6 = false, byte? chooseId = null) =>
        new() { Choose = true, ChooseIpv4 = ipv4, ChooseIpv6 = ipv6, ChooseId = chooseId };

    public static FTeid Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte flags = r.U8("flags");
        bool v4 = (flags & V4) != 0, v6 = (flags & V6) != 0;
        if ((flags & CH) != 0)
        {
            byte? chooseId = (flags & CHID) != 0 ? r.U8("CHOOSE ID") : null;
            return new FTeid { Choose = true, ChooseIpv4 = v4, ChooseIpv6 = v6, ChooseId = chooseId };
        }
        if ((flags & CHID) != 0)
            throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, "CHID is set without CH");
        if (!v4 && !v6)
            throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, "neither V4 nor V6 is set");
        uint teid = r.U32("TEID");
        return new FTeid
        {
            Teid = teid,
            Ipv4 = v4 ? r.Ipv4("IPv4 address") : null,
            Ipv6 = v6 ? r.Ipv6("IPv6 address") : null,
        };
    }

    public void WriteValue(PfcpWriter writer)
    {
        if (Choose)
        {
            writer.U8((byte)(CH | (ChooseIpv4 ? V4 : 0) | (ChooseIpv6 ? V6 : 0) | (ChooseId.HasValue ? CHID : 0)));
            if (ChooseId is { } id)
                writer.U8(id);
            return;
        }
        if (Ipv4 is null && Ipv6 is null)
            throw new InvalidOperationException("an F-TEID without CH needs an IPv4 or IPv6 address");
        writer.U8((byte)((Ipv4 is null ? 0 : V4) | (Ipv6 is null ? 0 : V6)));
        writer.U32(Teid);
        if (Ipv4 is not null) writer.Ipv4(Ipv4);
        if (Ipv6 is not null) writer.Ipv6(Ipv6);
    }

    public override string ToString() =>
        Choose ? $"CHOOSE(v4={ChooseIpv4}, v6={ChooseIpv6}, id={ChooseId?.ToString() ?? "-"})"
               : $"TEID 0x{Teid:X8} @ {string.Join(" ", new[] { Ipv4, Ipv6 }.Where(a => a is not null))}";
}

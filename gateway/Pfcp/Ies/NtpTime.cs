namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// 32-bit NTP seconds (RFC 5905) as used by Recovery Time Stamp, Start/End Time and friends.
/// Values with the top bit clear are read as NTP era 1 (from 2036-02-07T06:28:16Z), so the
/// range 1968..2104 is covered without ambiguity.
/// </summary>
public static class NtpTime
{
    private static readonly DateTime Era0 = new(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Era1 = Era0.AddSeconds(4294967296d);

    public static DateTime Earliest => Era0.AddSeconds(0x8000_0000u);
    public static DateTime Latest => Era1.AddSeconds(0x7FFF_FFFFu);

    public static DateTime ToDateTime(uint seconds) =>
        (seconds & 0x8000_0000u) != 0 ? Era0.AddSeconds(seconds) : Era1.AddSeconds(seconds);

    /// <summary>Whole NTP seconds for a time (sub-second part dropped).</summary>
    public static uint FromDateTime(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : DateTime.SpecifyKind(time, DateTimeKind.Utc);
        if (utc < Earliest || utc > Latest)
            throw new ArgumentOutOfRangeException(nameof(time), time, $"NTP seconds cover {Earliest:O} .. {Latest:O}");
        var era = utc >= Era1 ? Era1 : Era0;
        return (uint)((utc - era).Ticks / TimeSpan.TicksPerSecond);
    }
}

using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Reporting Triggers (clause 8.2.19): what makes the UP function send a usage report.</summary>
[Flags]
public enum ReportingTriggerFlags : uint
{
    None = 0,
    /// <summary>Periodic reporting (Measurement Period).</summary>
    Perio = 1u << 0,
    /// <summary>Volume threshold reached.</summary>
    Volth = 1u << 1,
    /// <summary>Time threshold reached.</summary>
    Timth = 1u << 2,
    /// <summary>Quota holding time expired.</summary>
    Quhti = 1u << 3,
    /// <summary>Start of traffic.</summary>
    Start = 1u << 4,
    /// <summary>Stop of traffic.</summary>
    Stopt = 1u << 5,
    /// <summary>Dropped downlink traffic threshold.</summary>
    Droth = 1u << 6,
    /// <summary>Linked usage reporting.</summary>
    Liusa = 1u << 7,
    /// <summary>Volume quota exhausted.</summary>
    Volqu = 1u << 8,
    /// <summary>Time quota exhausted.</summary>
    Timqu = 1u << 9,
    /// <summary>Envelope closure.</summary>
    Envcl = 1u << 10,
    /// <summary>MAC addresses reporting.</summary>
    Macar = 1u << 11,
    /// <summary>Event threshold reached.</summary>
    Eveth = 1u << 12,
    /// <summary>Event quota exhausted.</summary>
    Evequ = 1u << 13,
    /// <summary>IP multicast join/leave.</summary>
    Ipmjl = 1u << 14,
    /// <summary>Quota validity time.</summary>
    Quvti = 1u << 15,
    /// <summary>Report the end marker reception.</summary>
    Reemr = 1u << 16,
    /// <summary>User plane inactivity timer.</summary>
    Upint = 1u << 17,
}

/// <summary>Usage Report Trigger (clause 8.2.41): why a usage report was sent.</summary>
[Flags]
public enum UsageReportTriggerFlags : uint
{
    None = 0,
    Perio = 1u << 0,
    Volth = 1u << 1,
    Timth = 1u << 2,
    Quhti = 1u << 3,
    Start = 1u << 4,
    Stopt = 1u << 5,
    Droth = 1u << 6,
    /// <summary>Immediate report (answer to Query URR).</summary>
    Immer = 1u << 7,
    Volqu = 1u << 8,
    Timqu = 1u << 9,
    Liusa = 1u << 10,
    /// <summary>Termination report (URR removed or session deleted).</summary>
    Termr = 1u << 11,
    /// <summary>Monitoring time reached.</summary>
    Monit = 1u << 12,
    Envcl = 1u << 13,
    Macar = 1u << 14,
    Eveth = 1u << 15,
    Evequ = 1u << 16,
    /// <summary>Termination by UP function report.</summary>
    Tebur = 1u << 17,
    Ipmjl = 1u << 18,
    Quvti = 1u << 19,
    /// <summary>End marker reception report.</summary>
    Emrre = 1u << 20,
    Upint = 1u << 21,
}

/// <summary>Reporting Triggers IE: 2 octets (Rel-15) or 3 (Rel-16+); <see cref="Octets"/> keeps the received form.</summary>
public sealed record ReportingTriggers(ReportingTriggerFlags Flags) : IIeValue
{
    public int Octets { get; init; } = Math.Max(2, FlagOctets.Needed((ulong)Flags));

    public bool Has(ReportingTriggerFlags flag) => (Flags & flag) == flag;

    public static ReportingTriggers Decode(ReadOnlySpan<byte> value)
    {
        var flags = (ReportingTriggerFlags)(uint)FlagOctets.Read(value, 1);
        // An SMF asks every URR for the same few triggers: recently decoded values are shared
        // (every held session keeps its URRs'), a miss only costs the object it always cost.
        var slot = (int)(((uint)flags * 2654435761u) >> 26);
        if (Volatile.Read(ref Recent[slot]) is { } cached && cached.Flags == flags && cached.Octets == value.Length)
            return cached;
        var triggers = new ReportingTriggers(flags) { Octets = value.Length };
        Volatile.Write(ref Recent[slot], triggers);
        return triggers;
    }

    private static readonly ReportingTriggers?[] Recent = new ReportingTriggers?[64];

    public void WriteValue(PfcpWriter writer) => FlagOctets.Write(writer, (ulong)Flags, Octets);

    public override string ToString() => Flags.ToString();
}

/// <summary>Usage Report Trigger IE: 3 octets since Rel-15; <see cref="Octets"/> keeps the received form.</summary>
public sealed record UsageReportTrigger(UsageReportTriggerFlags Flags) : IIeValue
{
    public int Octets { get; init; } = Math.Max(3, FlagOctets.Needed((ulong)Flags));

    public bool Has(UsageReportTriggerFlags flag) => (Flags & flag) == flag;

    public static UsageReportTrigger Decode(ReadOnlySpan<byte> value) =>
        new((UsageReportTriggerFlags)(uint)FlagOctets.Read(value, 1)) { Octets = value.Length };

    public void WriteValue(PfcpWriter writer) => FlagOctets.Write(writer, (ulong)Flags, Octets);

    public override string ToString() => Flags.ToString();
}

using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// Usage of one URR, measured from the per-PDR counters of the PDRs that name it (C# sums;
/// the datapath only counts per PDR). Volumes are IP bytes of the UE's packets, split by the
/// PDR's direction. Reports carry what was measured since the previous report.
/// </summary>
public sealed class UrrUsage
{
    public UrrUsage(CreateUrr rule, DateTime now)
    {
        Rule = rule;
        PeriodStart = now;
        LastReport = now;
        QuotaExhausted = ZeroQuota(rule);
    }

    public CreateUrr Rule { get; set; }
    public uint Sequence { get; private set; }
    public DateTime PeriodStart { get; private set; }
    public DateTime LastReport { get; private set; }

    /// <summary>Counter values (per PDR id) at the last report: the baseline of the next one.</summary>
    public Dictionary<ushort, Counter> Baseline { get; } = [];

    /// <summary>
    /// Counted against the volume quota up to the last report: since the URR was created or
    /// last given a new quota.
    /// </summary>
    public ulong TotalBytes { get; private set; }

    /// <summary>
    /// The volume quota is used up (or was granted as zero): the URR's PDRs take its FAR for
    /// the quota action, or drop, until the SMF sends a new quota (TS 29.244 5.2.2.2.1).
    /// </summary>
    public bool QuotaExhausted { get; private set; }

    private static bool ZeroQuota(CreateUrr rule) => rule.VolumeQuota?.Total == 0;

    /// <summary>True when the traffic since the last report uses up a quota that was not used up yet.</summary>
    public bool ReachesQuota(Dictionary<ushort, (Counter Counter, bool Uplink)> current)
    {
        if (QuotaExhausted || Rule.VolumeQuota?.Total is not { } quota)
            return false;
        var (ul, dl, _, _) = Delta(current);
        return TotalBytes + ul + dl >= quota;
    }

    public void MarkQuotaExhausted() => QuotaExhausted = true;

    /// <summary>
    /// A new Volume Quota from the SMF (Update URR): it counts the traffic from the last report
    /// on, and the PDRs forward again unless it is zero.
    /// </summary>
    public void GrantQuota()
    {
        TotalBytes = 0;
        QuotaExhausted = ZeroQuota(Rule);
    }

    /// <summary>
    /// Builds a report of the usage since the last one and moves the baseline. Returns the
    /// report; <paramref name="current"/> holds each linked PDR's counters now, with its direction.
    /// </summary>
    public UsageReport Report(UsageReportTriggerFlags trigger, Dictionary<ushort, (Counter Counter, bool Uplink)> current, DateTime now)
    {
        var (ul, dl, ulPackets, dlPackets) = Delta(current);
        TotalBytes += ul + dl;
        foreach (var (pdr, c) in current)
            Baseline[pdr] = c.Counter;
        var report = new UsageReport(Rule.UrrId, Sequence++, new UsageReportTrigger(trigger))
        {
            StartTime = LastReport,
            EndTime = now,
            VolumeMeasurement = new VolumeMeasurement
            {
                TotalVolume = ul + dl,
                UplinkVolume = ul,
                DownlinkVolume = dl,
                TotalPackets = ulPackets + dlPackets,
                UplinkPackets = ulPackets,
                DownlinkPackets = dlPackets,
            },
            DurationMeasurement = (uint)Math.Max(0, (now - LastReport).TotalSeconds),
        };
        LastReport = now;
        if ((trigger & UsageReportTriggerFlags.Perio) != 0)
            PeriodStart = now;
        if ((trigger & UsageReportTriggerFlags.Volqu) != 0)
            QuotaExhausted = true;
        return report;
    }

    /// <summary>What a restarted node needs to carry on exactly: the next UR-SEQN, the times, the quota total and the baseline.</summary>
    public UsageRecord ToRecord() => new(Rule.UrrId, Sequence, PeriodStart, LastReport, TotalBytes, QuotaExhausted,
        [.. Baseline.Select(b => new UsageBaseline(b.Key, b.Value.Packets, b.Value.Bytes))]);

    /// <summary>
    /// Takes over the state a previous node saved (the rule stays this one's). With
    /// <paramref name="exact"/> (the node had stopped) also the last report's time and
    /// baseline, so the next report covers everything since it; otherwise the measurement
    /// starts now from the counters as they are, and only what can only be too low is kept:
    /// UR-SEQN (a lower one than the truth, not 0 again), the quota total, the period.
    /// </summary>
    public void Restore(UsageRecord saved, bool exact)
    {
        Sequence = Math.Max(Sequence, saved.Sequence);
        PeriodStart = saved.PeriodStart;
        TotalBytes = saved.TotalBytes;
        QuotaExhausted = saved.QuotaReported || ZeroQuota(Rule);
        if (!exact)
            return;
        LastReport = saved.LastReport;
        Baseline.Clear();
        foreach (var b in saved.Baseline)
            Baseline[b.Pdr] = new Counter { Packets = b.Packets, Bytes = b.Bytes };
    }

    // The counters are a concrete Dictionary (not IReadOnlyDictionary) so that walking them,
    // for every URR of every session each second, does not box an enumerator.

    /// <summary>Bytes and packets since the last report, uplink and downlink.</summary>
    public (ulong Ul, ulong Dl, ulong UlPackets, ulong DlPackets) Delta(Dictionary<ushort, (Counter Counter, bool Uplink)> current)
    {
        ulong ul = 0, dl = 0, ulp = 0, dlp = 0;
        foreach (var (pdr, (c, uplink)) in current)
        {
            var b = Baseline.GetValueOrDefault(pdr);
            var bytes = c.Bytes >= b.Bytes ? c.Bytes - b.Bytes : c.Bytes; // counters reset with a new stats slot
            var packets = c.Packets >= b.Packets ? c.Packets - b.Packets : c.Packets;
            if (uplink)
            {
                ul += bytes;
                ulp += packets;
            }
            else
            {
                dl += bytes;
                dlp += packets;
            }
        }
        return (ul, dl, ulp, dlp);
    }

    /// <summary>
    /// The first instant a time-based trigger (periodic measurement, time threshold) can fire;
    /// DateTime.MaxValue when the URR has none. Until then only new traffic can make it due.
    /// </summary>
    public DateTime NextTimeDue()
    {
        var triggers = Rule.ReportingTriggers.Flags;
        var next = DateTime.MaxValue;
        if ((triggers & ReportingTriggerFlags.Perio) != 0 && Rule.MeasurementPeriod is { } period && period > 0)
            next = PeriodStart.AddSeconds(period);
        if ((triggers & ReportingTriggerFlags.Timth) != 0 && Rule.TimeThreshold is { } time && time > 0 && LastReport.AddSeconds(time) < next)
            next = LastReport.AddSeconds(time);
        return next;
    }

    /// <summary>Which reporting triggers fire now (none: nothing to report yet).</summary>
    public UsageReportTriggerFlags Due(Dictionary<ushort, (Counter Counter, bool Uplink)> current, DateTime now)
    {
        var triggers = Rule.ReportingTriggers.Flags;
        UsageReportTriggerFlags due = 0;
        var (ul, dl, _, _) = Delta(current);
        var volume = ul + dl;
        if ((triggers & ReportingTriggerFlags.Volth) != 0 && Rule.VolumeThreshold?.Total is { } threshold && threshold > 0 && volume >= threshold)
            due |= UsageReportTriggerFlags.Volth;
        if ((triggers & ReportingTriggerFlags.Volqu) != 0 && !QuotaExhausted && Rule.VolumeQuota?.Total is { } quota && TotalBytes + volume >= quota)
            due |= UsageReportTriggerFlags.Volqu;
        if ((triggers & ReportingTriggerFlags.Perio) != 0 && Rule.MeasurementPeriod is { } period && period > 0
            && (now - PeriodStart).TotalSeconds >= period)
            due |= UsageReportTriggerFlags.Perio;
        if ((triggers & ReportingTriggerFlags.Timth) != 0 && Rule.TimeThreshold is { } time && time > 0 && (now - LastReport).TotalSeconds >= time)
            due |= UsageReportTriggerFlags.Timth;
        return due;
    }
}

/// <summary>A URR's usage state as saved across a daemon restart (QuotaReported: the quota is used up).</summary>
public sealed record UsageRecord(uint UrrId, uint Sequence, DateTime PeriodStart, DateTime LastReport, ulong TotalBytes, bool QuotaReported,
    UsageBaseline[] Baseline);

/// <summary>A PDR's counters at the URR's last report.</summary>
public sealed record UsageBaseline(ushort Pdr, ulong Packets, ulong Bytes);

using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
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
    public UrrUsage(CreateUrr rule, DateTime now, TimeSpan? tick = null)
    {
        Rule = rule;
        _tick = tick ?? TimeSpan.FromSeconds(1);
        _accountedUntil = now;
        PeriodStart = now;
        LastReport = now;
        QuotaGranted = now;
        LastTraffic = now;
        VolumeExhausted = Stops(rule.VolumeQuota, 0, 0, 0);
        TimeQuotaUsedUp = rule.TimeQuota == 0;
        ValidFrom = now;
    }

    /// <summary>The reporting triggers this tracker fires; an SMF may ask for others (they are counted, never reported).</summary>
    public const ReportingTriggerFlags SupportedTriggers = ReportingTriggerFlags.Perio | ReportingTriggerFlags.Volth | ReportingTriggerFlags.Timth
        | ReportingTriggerFlags.Quhti | ReportingTriggerFlags.Volqu | ReportingTriggerFlags.Timqu | ReportingTriggerFlags.Quvti
        | ReportingTriggerFlags.Liusa;

    public CreateUrr Rule { get; set; }
    public uint Sequence { get; private set; }
    public DateTime PeriodStart { get; private set; }
    public DateTime LastReport { get; private set; }

    /// <summary>Counter values (per PDR id) at the last report: the baseline of the next one.</summary>
    internal SmallMap<ushort, Counter> Baseline { get; } = new();

    /// <summary>
    /// Counted against the volume quota up to the last report (total, uplink, downlink): since
    /// the URR was created or last given a new quota.
    /// </summary>
    public ulong TotalBytes { get; private set; }
    public ulong UplinkBytes { get; private set; }
    public ulong DownlinkBytes { get; private set; }

    /// <summary>
    /// The traffic a used-up volume quota stops (a zero quota stops it from the start): the
    /// URR's PDRs of that direction take its FAR for the quota action, or drop, until the SMF
    /// sends a new quota (TS 29.244 5.2.2.2.1). A used-up total stops both directions.
    /// </summary>
    public QuotaStop VolumeExhausted { get; private set; }

    /// <summary>
    /// The Time Quota has run out: counted in wall-clock seconds from its grant (the URR's
    /// creation, or an Update URR carrying a new one), it stops both directions.
    /// </summary>
    public bool TimeQuotaUsedUp { get; private set; }
    public DateTime QuotaGranted { get; private set; }

    /// <summary>What the used-up quotas stop.</summary>
    public QuotaStop Exhausted => VolumeExhausted | (TimeQuotaUsedUp ? QuotaStop.Both : QuotaStop.None);
    public bool QuotaExhausted => Exhausted != QuotaStop.None;

    /// <summary>
    /// Since when the granted quotas are valid (the URR's creation, or an Update URR with a new
    /// quota or validity time), and whether their Quota Validity Time running out was reported.
    /// It is reported once (QUVTI) and stops nothing: the SMF asks its charging function for
    /// a new grant and sends it. A validity time of 0 arms nothing.
    /// </summary>
    public DateTime ValidFrom { get; private set; }
    public bool ValidityReported { get; private set; }

    public void StartValidity(DateTime now)
    {
        ValidFrom = now;
        ValidityReported = false;
    }

    private bool ValidityRunsOut(DateTime now) =>
        !ValidityReported && Rule.QuotaValidityTime is { } seconds && seconds > 0 && now >= ValidFrom.AddSeconds(seconds);

    /// <summary>When the URR's traffic was last seen to move (for the Quota Holding Time), and whether that idle spell was reported.</summary>
    public DateTime LastTraffic { get; private set; }
    public bool HoldingReported { get; private set; }
    private ulong _packetsSeen;

    /// <summary>Notes traffic since the last check: it restarts the Quota Holding Time.</summary>
    public void Observe(Dictionary<ushort, (Counter Counter, bool Uplink)> current, DateTime now)
    {
        var (_, _, ulp, dlp) = Delta(current);
        var moved = ulp + dlp != _packetsSeen;
        Account(now, moved);
        if (!moved)
            return;
        _packetsSeen = ulp + dlp;
        LastTraffic = now;
        HoldingReported = false;
    }

    // ----- time measured with an Inactivity Detection Time (TS 29.244 5.2.2.2.1) -----
    //
    // With one, time counts only while the URR's traffic is active: from a packet until the
    // Inactivity Detection Time after the last one (the time quota and the duration reported
    // are of that active time, not of the wall clock). Packets are seen per usage check, so a
    // spell of traffic starts at most one check (UsageTick) before the check that saw it: the
    // measurement is exact to a tick per spell. Without one, time is the wall clock.

    private readonly TimeSpan _tick;
    private DateTime _accountedUntil;
    private DateTime? _lastActive; // the last check that saw traffic; null: none yet

    /// <summary>Active seconds since the last report and since the time quota was granted (with an Inactivity Detection Time).</summary>
    public double ActiveSinceReport { get; private set; }
    public double ActiveSinceGrant { get; private set; }

    private bool MeasuresActiveTime => Rule.InactivityDetectionTime is > 0;

    /// <summary>Adds the active time in (last accounted, now]: the tail of the last spell, and the tick before now when traffic moved.</summary>
    private void Account(DateTime now, bool moved)
    {
        if (!MeasuresActiveTime || now <= _accountedUntil)
        {
            if (moved)
                _lastActive = now;
            _accountedUntil = now > _accountedUntil ? now : _accountedUntil;
            return;
        }
        var from = _accountedUntil;
        var idle = TimeSpan.FromSeconds(Rule.InactivityDetectionTime!.Value);
        // [from, tailEnd): still within the inactivity time after the last traffic seen.
        var tailEnd = _lastActive is { } last ? Min(now, last + idle) : from;
        var tail = tailEnd > from ? tailEnd - from : TimeSpan.Zero;
        var active = tail;
        if (moved)
        {
            // [spellStart, now): the tick in which the packets came, less what the tail covers.
            var spellStart = Max(from, now - _tick);
            var covered = tailEnd > spellStart ? tailEnd - spellStart : TimeSpan.Zero;
            active += now - spellStart - covered;
            _lastActive = now;
        }
        ActiveSinceReport += active.TotalSeconds;
        ActiveSinceGrant += active.TotalSeconds;
        _accountedUntil = now;
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    /// <summary>Seconds measured since the last report: active time with an Inactivity Detection Time, else the wall clock.</summary>
    private double MeasuredSinceReport(DateTime now)
    {
        if (!MeasuresActiveTime)
            return Math.Max(0, (now - LastReport).TotalSeconds);
        Account(now, moved: false);
        return ActiveSinceReport;
    }

    /// <summary>What a quota stops once these volumes are counted against it.</summary>
    private static QuotaStop Stops(Volume? quota, ulong total, ulong uplink, ulong downlink)
    {
        var stop = QuotaStop.None;
        if (quota is null)
            return stop;
        if (quota.Total is { } t && total >= t)
            stop |= QuotaStop.Both;
        if (quota.Uplink is { } u && uplink >= u)
            stop |= QuotaStop.Uplink;
        if (quota.Downlink is { } d && downlink >= d)
            stop |= QuotaStop.Downlink;
        return stop;
    }

    /// <summary>What the traffic since the last report and the time now newly use up (nothing: the quotas last).</summary>
    public (QuotaStop Volume, bool Time) NewlyExhausted(Dictionary<ushort, (Counter Counter, bool Uplink)> current, DateTime now)
    {
        var volume = QuotaStop.None;
        if (Rule.VolumeQuota is { } quota && VolumeExhausted != QuotaStop.Both)
        {
            var (ul, dl, _, _) = Delta(current);
            volume = Stops(quota, TotalBytes + ul + dl, UplinkBytes + ul, DownlinkBytes + dl) & ~VolumeExhausted;
        }
        return (volume, TimeQuotaRunsOut(now));
    }

    private bool TimeQuotaRunsOut(DateTime now)
    {
        if (TimeQuotaUsedUp || Rule.TimeQuota is not { } seconds)
            return false;
        if (!MeasuresActiveTime)
            return now >= QuotaGranted.AddSeconds(seconds);
        Account(now, moved: false);
        return ActiveSinceGrant >= seconds;
    }

    public void MarkQuotaExhausted(QuotaStop volume, bool time)
    {
        VolumeExhausted |= volume;
        TimeQuotaUsedUp |= time;
    }

    /// <summary>
    /// A new Volume Quota from the SMF (Update URR): it counts the traffic from the last report
    /// on, and the PDRs forward again unless it is zero (or the time quota is used up).
    /// </summary>
    public void GrantVolumeQuota()
    {
        TotalBytes = UplinkBytes = DownlinkBytes = 0;
        VolumeExhausted = Stops(Rule.VolumeQuota, 0, 0, 0);
    }

    /// <summary>A new Time Quota from the SMF: it runs from now.</summary>
    public void GrantTimeQuota(DateTime now)
    {
        Account(now, moved: false);
        ActiveSinceGrant = 0;
        QuotaGranted = now;
        TimeQuotaUsedUp = Rule.TimeQuota == 0;
    }

    /// <summary>
    /// What a quota stops once granted afresh (a zero quota stops at once), for the rules a
    /// request is about to install.
    /// </summary>
    public static QuotaStop StopsWhenGranted(CreateUrr rule, bool volume, bool time) =>
        (volume ? Stops(rule.VolumeQuota, 0, 0, 0) : QuotaStop.None) | (time && rule.TimeQuota == 0 ? QuotaStop.Both : QuotaStop.None);

    /// <summary>
    /// Builds a report of the usage since the last one and moves the baseline. Returns the
    /// report; <paramref name="current"/> holds each linked PDR's counters now, with its direction.
    /// </summary>
    public UsageReport Report(UsageReportTriggerFlags trigger, Dictionary<ushort, (Counter Counter, bool Uplink)> current, DateTime now)
    {
        var (ul, dl, ulPackets, dlPackets) = Delta(current);
        var duration = MeasuredSinceReport(now);
        ActiveSinceReport = 0;
        TotalBytes += ul + dl;
        UplinkBytes += ul;
        DownlinkBytes += dl;
        foreach (var (pdr, c) in current)
            Baseline[pdr] = c.Counter;
        _sentUl = _sentDl = default;
        _packetsSeen = 0;
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
            DurationMeasurement = (uint)duration,
        };
        LastReport = now;
        if ((trigger & UsageReportTriggerFlags.Perio) != 0)
            PeriodStart = now;
        if ((trigger & UsageReportTriggerFlags.Volqu) != 0)
            VolumeExhausted |= Stops(Rule.VolumeQuota, TotalBytes, UplinkBytes, DownlinkBytes);
        if ((trigger & UsageReportTriggerFlags.Timqu) != 0)
            TimeQuotaUsedUp = true;
        if ((trigger & UsageReportTriggerFlags.Quhti) != 0)
            HoldingReported = true;
        if ((trigger & UsageReportTriggerFlags.Quvti) != 0)
            ValidityReported = true;
        return report;
    }

    /// <summary>What a restarted node needs to carry on exactly: the next UR-SEQN, the times, the quota total and the baseline.</summary>
    public UsageRecord ToRecord() => new(Rule.UrrId, Sequence, PeriodStart, LastReport, TotalBytes, VolumeExhausted != QuotaStop.None,
        [.. Baseline.Select(b => new UsageBaseline(b.Key, b.Value.Packets, b.Value.Bytes))], UplinkBytes, DownlinkBytes, VolumeExhausted,
        QuotaGranted, TimeQuotaUsedUp, ValidFrom, ValidityReported, ActiveSinceGrant, ActiveSinceReport,
        _sentUl.Packets == 0 && _sentDl.Packets == 0 ? null : [_sentUl.Packets, _sentUl.Bytes, _sentDl.Packets, _sentDl.Bytes]);

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
        UplinkBytes = saved.UplinkBytes;
        DownlinkBytes = saved.DownlinkBytes;
        // A state saved before quotas had directions says only "used up": both.
        VolumeExhausted = (saved.QuotaStops != QuotaStop.None ? saved.QuotaStops : saved.QuotaReported ? QuotaStop.Both : QuotaStop.None)
            | Stops(Rule.VolumeQuota, 0, 0, 0);
        if (saved.QuotaGranted is { } granted)
            QuotaGranted = granted;
        TimeQuotaUsedUp = saved.TimeQuotaUsedUp || Rule.TimeQuota == 0;
        if (saved.ValidFrom is { } validFrom)
            ValidFrom = validFrom;
        ValidityReported = saved.ValidityReported;
        ActiveSinceGrant = saved.ActiveSinceGrant; // time a stopped node did not see is not counted
        if (!exact)
            return;
        ActiveSinceReport = saved.ActiveSinceReport;
        LastReport = saved.LastReport;
        Baseline.Clear();
        foreach (var b in saved.Baseline)
            Baseline[b.Pdr] = new Counter { Packets = b.Packets, Bytes = b.Bytes };
        if (saved.Sent is [var ulp, var ul, var dlp, var dl])
            (_sentUl, _sentDl) = (new Counter { Packets = ulp, Bytes = ul }, new Counter { Packets = dlp, Bytes = dl });
    }

    /// <summary>
    /// Traffic the node itself sent for the URR's PDRs since the last report (downlink packets
    /// it held while the FAR buffered): not in the datapath's counters, so added here.
    /// </summary>
    private Counter _sentUl, _sentDl;

    public void AddSent(bool uplink, ulong packets, ulong bytes)
    {
        ref var c = ref uplink ? ref _sentUl : ref _sentDl;
        c.Packets += packets;
        c.Bytes += bytes;
    }

    // The counters are a concrete Dictionary (not IReadOnlyDictionary) so that walking them,
    // for every URR of every session each second, does not box an enumerator.

    /// <summary>Bytes and packets since the last report, uplink and downlink.</summary>
    public (ulong Ul, ulong Dl, ulong UlPackets, ulong DlPackets) Delta(Dictionary<ushort, (Counter Counter, bool Uplink)> current)
    {
        ulong ul = _sentUl.Bytes, dl = _sentDl.Bytes, ulp = _sentUl.Packets, dlp = _sentDl.Packets;
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
    /// The first instant a time-based trigger (periodic measurement, time threshold, time
    /// quota, quota holding time, quota validity time) can fire;
    /// DateTime.MaxValue when the URR has none. Until then only new traffic can make it due.
    /// </summary>
    public DateTime NextTimeDue()
    {
        var triggers = Rule.ReportingTriggers.Flags;
        var next = DateTime.MaxValue;
        if ((triggers & ReportingTriggerFlags.Perio) != 0 && Rule.MeasurementPeriod is { } period && period > 0)
            next = PeriodStart.AddSeconds(period);
        if ((triggers & ReportingTriggerFlags.Timth) != 0 && Rule.TimeThreshold is { } time && time > 0
            && ActiveDue(LastReport, time, ActiveSinceReport) is var timth && timth < next)
            next = timth;
        // The time quota is enforced whether or not TIMQU is asked for.
        if (!TimeQuotaUsedUp && Rule.TimeQuota is { } quota && ActiveDue(QuotaGranted, quota, ActiveSinceGrant) is var timqu && timqu < next)
            next = timqu;
        if ((triggers & ReportingTriggerFlags.Quhti) != 0 && !HoldingReported && Rule.QuotaHoldingTime is { } holding && holding > 0
            && LastTraffic.AddSeconds(holding) < next)
            next = LastTraffic.AddSeconds(holding);
        if ((triggers & ReportingTriggerFlags.Quvti) != 0 && !ValidityReported && Rule.QuotaValidityTime is { } validity && validity > 0
            && ValidFrom.AddSeconds(validity) < next)
            next = ValidFrom.AddSeconds(validity);
        return next;
    }

    /// <summary>
    /// When <paramref name="seconds"/> of measured time since <paramref name="since"/> are reached
    /// at the earliest: on the wall clock, or with an Inactivity Detection Time while the last
    /// spell of traffic lasts (after it, only new traffic, which brings a check, can add time).
    /// </summary>
    private DateTime ActiveDue(DateTime since, uint seconds, double measured)
    {
        if (!MeasuresActiveTime)
            return since.AddSeconds(seconds);
        if (_lastActive is not { } last || last.AddSeconds(Rule.InactivityDetectionTime!.Value) <= _accountedUntil)
            return DateTime.MaxValue;
        var at = _accountedUntil.AddSeconds(Math.Max(0, seconds - measured));
        var spellEnd = last.AddSeconds(Rule.InactivityDetectionTime.Value);
        return at <= spellEnd ? at : spellEnd; // at the spell's end, a check accounts it and looks again
    }

    /// <summary>A volume threshold (0: none) reached by the volume since the last report.</summary>
    private static bool Crossed(ulong? threshold, ulong volume) => threshold is { } t && t > 0 && volume >= t;

    /// <summary>Which reporting triggers fire now (none: nothing to report yet).</summary>
    public UsageReportTriggerFlags Due(Dictionary<ushort, (Counter Counter, bool Uplink)> current, DateTime now)
    {
        var triggers = Rule.ReportingTriggers.Flags;
        UsageReportTriggerFlags due = 0;
        var (ul, dl, _, _) = Delta(current);
        var volume = ul + dl;
        if ((triggers & ReportingTriggerFlags.Volth) != 0 && Rule.VolumeThreshold is { } threshold
            && (Crossed(threshold.Total, volume) || Crossed(threshold.Uplink, ul) || Crossed(threshold.Downlink, dl)))
            due |= UsageReportTriggerFlags.Volth;
        if ((triggers & ReportingTriggerFlags.Volqu) != 0 && Rule.VolumeQuota is { } quota
            && (Stops(quota, TotalBytes + volume, UplinkBytes + ul, DownlinkBytes + dl) & ~Exhausted) != QuotaStop.None)
            due |= UsageReportTriggerFlags.Volqu;
        if ((triggers & ReportingTriggerFlags.Perio) != 0 && Rule.MeasurementPeriod is { } period && period > 0
            && (now - PeriodStart).TotalSeconds >= period)
            due |= UsageReportTriggerFlags.Perio;
        if ((triggers & ReportingTriggerFlags.Timth) != 0 && Rule.TimeThreshold is { } time && time > 0 && MeasuredSinceReport(now) >= time)
            due |= UsageReportTriggerFlags.Timth;
        // A zero time quota stops traffic from the start and is not reported, as a zero volume quota.
        if ((triggers & ReportingTriggerFlags.Timqu) != 0 && Rule.TimeQuota > 0 && TimeQuotaRunsOut(now))
            due |= UsageReportTriggerFlags.Timqu;
        if ((triggers & ReportingTriggerFlags.Quhti) != 0 && !HoldingReported && Rule.QuotaHoldingTime is { } holding && holding > 0
            && now >= LastTraffic.AddSeconds(holding))
            due |= UsageReportTriggerFlags.Quhti;
        if ((triggers & ReportingTriggerFlags.Quvti) != 0 && ValidityRunsOut(now))
            due |= UsageReportTriggerFlags.Quvti;
        return due;
    }
}

/// <summary>
/// A URR's usage state as saved across a daemon restart (QuotaReported: the volume quota is
/// used up; Sent: uplink packets and bytes, downlink packets and bytes the node sent itself
/// since the last report).
/// </summary>
public sealed record UsageRecord(uint UrrId, uint Sequence, DateTime PeriodStart, DateTime LastReport, ulong TotalBytes, bool QuotaReported,
    UsageBaseline[] Baseline, ulong UplinkBytes = 0, ulong DownlinkBytes = 0, QuotaStop QuotaStops = QuotaStop.None,
    DateTime? QuotaGranted = null, bool TimeQuotaUsedUp = false, DateTime? ValidFrom = null, bool ValidityReported = false,
    double ActiveSinceGrant = 0, double ActiveSinceReport = 0, ulong[]? Sent = null);

/// <summary>Which traffic of a URR a used-up volume quota stops, by the direction of its PDRs.</summary>
[Flags]
public enum QuotaStop : byte
{
    None = 0,
    Uplink = 1,
    Downlink = 2,
    Both = Uplink | Downlink,
}

/// <summary>A PDR's counters at the URR's last report.</summary>
public sealed record UsageBaseline(ushort Pdr, ulong Packets, ulong Bytes);

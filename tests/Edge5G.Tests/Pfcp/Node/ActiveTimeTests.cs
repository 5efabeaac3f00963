using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// Time measured with an Inactivity Detection Time (TS 29.244 5.2.2.2.1): only while the URR's
/// traffic is active, from a packet until that long after the last one; the time quota and the
/// reported duration are of active time. Without one, the wall clock. Driven by hand: the
/// usage check's observations at given instants, one-second ticks.
/// </summary>
public class ActiveTimeTests
{
    private static readonly DateTime T0 = new(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);

    private static CreateUrr TimeQuotaUrr(uint quota, uint? inactivity) =>
        new(1, MeasurementMethod.Durat, new ReportingTriggers(ReportingTriggerFlags.Timqu))
        {
            TimeQuota = quota,
            InactivityDetectionTime = inactivity,
        };

    /// <summary>Counters of one uplink PDR with <paramref name="packets"/> packets so far.</summary>
    private static Dictionary<ushort, (Counter, bool)> Counted(ulong packets) =>
        new() { [1] = (new Counter { Packets = packets, Bytes = packets * 100 }, true) };

    [Fact]
    public void WithAnInactivityDetectionTime_OnlyTheActiveSpellsCount_TowardsTheTimeQuota()
    {
        var usage = new UrrUsage(TimeQuotaUrr(quota: 30, inactivity: 10), T0);

        // Nothing before the first packet counts, however long.
        usage.Observe(Counted(0), T0.AddSeconds(100));
        Assert.Equal(0, usage.ActiveSinceGrant);
        // Packets in the second before t=101, then an hour of silence: 1 s + the 10 s after.
        usage.Observe(Counted(5), T0.AddSeconds(101));
        usage.Observe(Counted(5), T0.AddSeconds(3700));
        Assert.Equal(11, usage.ActiveSinceGrant);
        Assert.Equal((QuotaStop.None, false), usage.NewlyExhausted(Counted(5), T0.AddSeconds(3700)));
        // A busy spell: traffic every second from t=3701 to t=3719 brings it to 30.
        for (int t = 3701; t <= 3719; t++)
            usage.Observe(Counted(5 + (ulong)t), T0.AddSeconds(t));
        Assert.Equal(30, usage.ActiveSinceGrant);
        Assert.True(usage.NewlyExhausted(Counted(3724), T0.AddSeconds(3719)).Time);
    }

    [Fact]
    public void WithoutOne_TheTimeQuotaIsWallClock()
    {
        var usage = new UrrUsage(TimeQuotaUrr(quota: 30, inactivity: null), T0);

        usage.Observe(Counted(0), T0.AddSeconds(29));
        Assert.False(usage.NewlyExhausted(Counted(0), T0.AddSeconds(29)).Time);
        Assert.True(usage.NewlyExhausted(Counted(0), T0.AddSeconds(30)).Time);
        Assert.Equal(T0.AddSeconds(30), usage.NextTimeDue());
    }

    [Fact]
    public void TheReportedDuration_IsActiveTime_SinceTheLastReport_AndTheNextDueTimeFollowsTheSpell()
    {
        var usage = new UrrUsage(TimeQuotaUrr(quota: 100, inactivity: 5), T0);

        usage.Observe(Counted(3), T0.AddSeconds(10));
        // Active since t=9 (the tick before), the spell lasts to t=15: 91 more seconds could
        // only come from more traffic, so the next due time is the spell's end, not t=100.
        Assert.Equal(T0.AddSeconds(15), usage.NextTimeDue());
        usage.Observe(Counted(3), T0.AddSeconds(15));
        Assert.Equal(DateTime.MaxValue, usage.NextTimeDue()); // idle: only traffic can bring the quota nearer

        var report = usage.Report(UsageReportTriggerFlags.Immer, Counted(3), T0.AddSeconds(60));
        Assert.Equal(6U, report.DurationMeasurement); // t=9..15, not the 60 s on the clock
        usage.Observe(Counted(4), T0.AddSeconds(70));
        var next = usage.Report(UsageReportTriggerFlags.Immer, Counted(4), T0.AddSeconds(72));
        Assert.Equal(3U, next.DurationMeasurement); // t=69..72, still within the 5 s after t=70
        Assert.Equal(9, usage.ActiveSinceGrant);
    }

    [Fact]
    public void ANewTimeQuota_StartsTheActiveTimeAgain()
    {
        var usage = new UrrUsage(TimeQuotaUrr(quota: 5, inactivity: 60), T0);
        for (int t = 1; t <= 5; t++)
            usage.Observe(Counted((ulong)t), T0.AddSeconds(t));
        Assert.True(usage.NewlyExhausted(Counted(5), T0.AddSeconds(5)).Time);
        usage.MarkQuotaExhausted(QuotaStop.None, time: true);

        usage.Rule = TimeQuotaUrr(quota: 5, inactivity: 60);
        usage.GrantTimeQuota(T0.AddSeconds(6));

        Assert.Equal(0, usage.ActiveSinceGrant);
        Assert.False(usage.TimeQuotaUsedUp);
        Assert.Equal(T0.AddSeconds(11), usage.NextTimeDue()); // the spell goes on: 5 s of it from t=6
    }
}

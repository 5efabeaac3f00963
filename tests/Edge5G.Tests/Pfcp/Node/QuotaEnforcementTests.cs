using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// Volume and time quotas (TS 29.244 5.2.2.2.1): once a URR's quota is used up the node
/// reports it (VOLQU, TIMQU) and its PDRs stop forwarding, or take the URR's FAR for the quota
/// action, until the SMF grants a new quota in Update URR. A zero quota blocks from the start.
/// The Quota Holding Time is reported (QUHTI) once per idle spell.
/// </summary>
public class QuotaEnforcementTests
{
    private static CreateUrr QuotaUrr(ulong quota, uint? quotaFar = null) =>
        new(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volqu))
        {
            VolumeQuota = new Volume(Total: quota),
            FarIdForQuotaAction = quotaFar,
        };

    private static ulong Establish(NodeUnderTest n, CreateUrr urr, params CreateFar[] extraFars)
    {
        var request = n.EstablishmentRequest(0x51) with { CreateUrrs = [urr] };
        request = request with { CreateFars = [.. request.CreateFars, .. extraFars] };
        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body).UpFSeid!.Seid;
        Assert.Equal(PfcpCause.RequestAccepted,
            Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x4000), seid).Body).Cause);
        return seid;
    }

    /// <summary>Each PDR's flags and FAR id as installed (the map entry and the model).</summary>
    private static Dictionary<ushort, (PdrFlags Flags, uint FarId)> Installed(NodeUnderTest n, ulong seid)
    {
        Assert.True(n.Table.TryGet(seid, out var compiled));
        return compiled.Session.Pdrs.ToDictionary(p => p.Id, p =>
        {
            Assert.True(n.Tables.Pdrs.TryGet(compiled.PdrSlotById[p.Id], out var entry));
            Assert.Equal(p.QuotaExhausted, (entry.Flags & PdrFlags.QuotaExhausted) != 0);
            return (entry.Flags, p.FarId);
        });
    }

    private static bool Blocked(NodeUnderTest n, ulong seid) =>
        Installed(n, seid).Values.All(v => v.Flags == PdrFlags.QuotaExhausted);

    [Fact]
    public void UsedUpQuota_IsReportedOnce_AndEveryPdrOfTheUrrDrops()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, QuotaUrr(1000));
        Assert.False(Blocked(n, seid));

        n.AddTraffic(seid, pdr: 1, packets: 4, bytes: 600);
        n.AddTraffic(seid, pdr: 2, packets: 5, bytes: 500);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no quota report in 3 s");
        var usage = Assert.Single(Assert.Single(n.UsageReports()).UsageReports);
        Assert.Equal(UsageReportTriggerFlags.Volqu, usage.Trigger.Flags & UsageReportTriggerFlags.Volqu);
        Assert.Equal(1100UL, usage.VolumeMeasurement!.TotalVolume);
        Assert.Equal(600UL, usage.VolumeMeasurement.UplinkVolume);
        Assert.True(SpinWait.SpinUntil(() => Blocked(n, seid), TimeSpan.FromSeconds(2)), "the PDRs still forward");
        Assert.Equal(1, n.Node.Counters.UserPlaneCount(PfcpCounters.QuotaEnforced));

        // Packets the datapath may still count before the rewrite do not bring a second report.
        n.AddTraffic(seid, pdr: 1, packets: 1, bytes: 100);
        Thread.Sleep(300);
        Assert.Single(n.UsageReports());

        // What an operator reads (REST /pfcp/sessions/{seid}/usage, `edge5g get pfcpusage`).
        var state = n.Node.Usage(seid)!;
        Assert.Equal(0x51UL, state.CpSeid);
        var urr = Assert.Single(state.Urrs);
        Assert.Equal((1U, 1U, 100UL, 0UL), (urr.UrrId, urr.NextUrSeqn, urr.UplinkSinceLastReport, urr.DownlinkSinceLastReport));
        Assert.Equal((1000UL, 1100UL, 600UL, 500UL), (urr.VolumeQuotaTotal!.Value, urr.QuotaCountedTotal, urr.QuotaCountedUplink, urr.QuotaCountedDownlink));
        Assert.Equal("both", urr.VolumeQuotaStops);
        Assert.Null(n.Node.Usage(seid + 1000));
    }

    [Fact]
    public void NewQuota_InUpdateUrr_ForwardsAgain_AndCountsFromTheLastReport()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, QuotaUrr(1000));
        n.AddTraffic(seid, pdr: 2, packets: 8, bytes: 1000);
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1 && Blocked(n, seid), TimeSpan.FromSeconds(3)), "quota not enforced");

        var renewed = n.Request(new SessionModificationRequest { UpdateUrrs = [new UpdateUrr(1) { VolumeQuota = new Volume(Total: 2000) }] }, seid);

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(renewed.Body).Cause);
        Assert.All(Installed(n, seid).Values, v => Assert.Equal((PdrFlags)0, v.Flags));
        n.AddTraffic(seid, pdr: 2, packets: 10, bytes: 1500);
        Thread.Sleep(300);
        Assert.Single(n.UsageReports()); // 1500 of 2000
        n.AddTraffic(seid, pdr: 1, packets: 5, bytes: 600);
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 2, TimeSpan.FromSeconds(3)), "the new quota's end was not reported");
        var second = Assert.Single(n.UsageReports()[1].UsageReports);
        Assert.True(second.Trigger.Has(UsageReportTriggerFlags.Volqu));
        Assert.Equal(2100UL, second.VolumeMeasurement!.TotalVolume);
        Assert.Equal(1U, second.UrSeqn);
        Assert.True(SpinWait.SpinUntil(() => Blocked(n, seid), TimeSpan.FromSeconds(2)), "the second quota was not enforced");
    }

    [Fact]
    public void DownlinkOnlyQuota_StopsTheDownlinkPdr_WhileTheUplinkForwards()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var urr = new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volqu)) { VolumeQuota = new Volume(Downlink: 1000) };
        var seid = Establish(n, urr);
        n.AddTraffic(seid, pdr: 1, packets: 20, bytes: 5000); // uplink: not counted against a downlink quota
        Thread.Sleep(300);
        Assert.Empty(n.UsageReports());

        n.AddTraffic(seid, pdr: 2, packets: 8, bytes: 1000);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no quota report");
        var usage = Assert.Single(Assert.Single(n.UsageReports()).UsageReports);
        Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Volqu));
        Assert.Equal(1000UL, usage.VolumeMeasurement!.DownlinkVolume);
        Assert.True(SpinWait.SpinUntil(() => Installed(n, seid)[2].Flags == PdrFlags.QuotaExhausted, TimeSpan.FromSeconds(2)), "the downlink still forwards");
        Assert.Equal((PdrFlags)0, Installed(n, seid)[1].Flags);
    }

    [Fact]
    public void TimeQuota_RunsOut_IsReported_StopsBothDirections_UntilANewTimeQuota()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var urr = new CreateUrr(1, MeasurementMethod.Durat | MeasurementMethod.Volum,
            new ReportingTriggers(ReportingTriggerFlags.Timqu | ReportingTriggerFlags.Volqu))
        {
            TimeQuota = 1,
            VolumeQuota = new Volume(Total: 1_000_000),
        };
        var seid = Establish(n, urr);
        Assert.False(Blocked(n, seid));

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no time quota report in 3 s");
        var usage = Assert.Single(Assert.Single(n.UsageReports()).UsageReports);
        Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Timqu));
        Assert.False(usage.Trigger.Has(UsageReportTriggerFlags.Volqu));
        Assert.True(SpinWait.SpinUntil(() => Blocked(n, seid), TimeSpan.FromSeconds(2)), "the PDRs still forward");

        // A new volume quota does not lift a used-up time quota; a new time quota does.
        n.Request(new SessionModificationRequest { UpdateUrrs = [new UpdateUrr(1) { VolumeQuota = new Volume(Total: 2_000_000) }] }, seid);
        Assert.True(Blocked(n, seid));
        n.Request(new SessionModificationRequest { UpdateUrrs = [new UpdateUrr(1) { TimeQuota = 60 }] }, seid);
        Assert.All(Installed(n, seid).Values, v => Assert.Equal((PdrFlags)0, v.Flags));
        Thread.Sleep(300);
        Assert.Single(n.UsageReports());
    }

    /// <summary>
    /// With an Inactivity Detection Time the time quota counts active time only: a session
    /// without traffic keeps its quota however long, and runs it out once traffic comes.
    /// </summary>
    [Fact]
    public void TimeQuota_WithAnInactivityDetectionTime_IsNotUsedWhileIdle_AndRunsOutWithTraffic()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var urr = new CreateUrr(1, MeasurementMethod.Durat, new ReportingTriggers(ReportingTriggerFlags.Timqu))
        {
            TimeQuota = 1,
            InactivityDetectionTime = 1,
        };
        var seid = Establish(n, urr);

        Thread.Sleep(2000); // twice the quota on the clock, no traffic
        Assert.Empty(n.UsageReports());
        Assert.False(Blocked(n, seid));

        n.AddTraffic(seid, pdr: 2, packets: 1, bytes: 100);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(4)), "the time quota did not run out with traffic");
        var usage = Assert.Single(Assert.Single(n.UsageReports()).UsageReports);
        Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Timqu));
        Assert.InRange(usage.DurationMeasurement!.Value, 1U, 2U); // active time, not the 3 s or more on the clock
        Assert.True(SpinWait.SpinUntil(() => Blocked(n, seid), TimeSpan.FromSeconds(2)), "the PDRs still forward");
    }

    /// <summary>
    /// Quota Validity Time (QUVTI): the grant's validity running out is reported once, with the
    /// usage since the last report, and stops nothing; a new validity time (or quota) in Update
    /// URR re-arms it from then.
    /// </summary>
    [Fact]
    public void QuotaValidityTime_RunsOut_IsReportedOnce_StopsNothing_AndANewOneRearmsIt()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var urr = new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Quvti | ReportingTriggerFlags.Volqu))
        {
            QuotaValidityTime = 1,
            VolumeQuota = new Volume(Total: 1_000_000),
        };
        var seid = Establish(n, urr);
        n.AddTraffic(seid, pdr: 2, packets: 3, bytes: 300);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no quota validity report in 3 s");
        var usage = Assert.Single(Assert.Single(n.UsageReports()).UsageReports);
        Assert.Equal(UsageReportTriggerFlags.Quvti, usage.Trigger.Flags);
        Assert.Equal(300UL, usage.VolumeMeasurement!.DownlinkVolume);
        Thread.Sleep(1300);
        Assert.Single(n.UsageReports()); // once per grant
        Assert.All(Installed(n, seid).Values, v => Assert.Equal((PdrFlags)0, v.Flags)); // the SMF decides

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(
            n.Request(new SessionModificationRequest { UpdateUrrs = [new UpdateUrr(1) { QuotaValidityTime = 1 }] }, seid).Body).Cause);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 2, TimeSpan.FromSeconds(3)), "no report after the new validity time");
        Assert.Equal(UsageReportTriggerFlags.Quvti, Assert.Single(n.UsageReports()[1].UsageReports).Trigger.Flags);
        Assert.Equal(1U, n.UsageReports()[1].UsageReports[0].UrSeqn);
    }

    [Fact]
    public void QuotaHoldingTime_WithoutTraffic_IsReportedOnce_AndAgainAfterTheNextIdleSpell()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var urr = new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Quhti | ReportingTriggerFlags.Volqu))
        {
            QuotaHoldingTime = 1,
            VolumeQuota = new Volume(Total: 1_000_000),
        };
        var seid = Establish(n, urr);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no quota holding time report in 3 s");
        Assert.True(Assert.Single(n.UsageReports()[0].UsageReports).Trigger.Has(UsageReportTriggerFlags.Quhti));
        Thread.Sleep(1300);
        Assert.Single(n.UsageReports()); // one report per idle spell
        Assert.False(Blocked(n, seid)); // holding time ends nothing by itself: the SMF decides

        n.AddTraffic(seid, pdr: 1, packets: 2, bytes: 200);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 2, TimeSpan.FromSeconds(4)), "no report after the second idle spell");
        var second = Assert.Single(n.UsageReports()[1].UsageReports);
        Assert.True(second.Trigger.Has(UsageReportTriggerFlags.Quhti));
        Assert.Equal(200UL, second.VolumeMeasurement!.UplinkVolume);
    }

    [Fact]
    public void FarIdForQuotaAction_ReplacesThePdrsFar_InsteadOfDropping()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var redirect = new CreateFar(3, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.CpFunction) };
        var seid = Establish(n, QuotaUrr(500, quotaFar: 3), redirect);
        Assert.Equal([1U, 2U], Installed(n, seid).OrderBy(p => p.Key).Select(p => p.Value.FarId));

        n.AddTraffic(seid, pdr: 1, packets: 5, bytes: 700);

        Assert.True(SpinWait.SpinUntil(() => Installed(n, seid).Values.All(v => v.FarId == 3), TimeSpan.FromSeconds(3)), "the quota FAR was not applied");
        Assert.All(Installed(n, seid).Values, v => Assert.Equal((PdrFlags)0, v.Flags));
        // The report went out before the rewrite; it reaches the SMF's socket in its own time.
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no quota report");
        Assert.True(Assert.Single(n.UsageReports()[0].UsageReports).Trigger.Has(UsageReportTriggerFlags.Volqu));
    }

    [Fact]
    public void ZeroQuota_BlocksFromTheEstablishment_WithoutAReport()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, QuotaUrr(0));

        Assert.True(Blocked(n, seid));
        Thread.Sleep(300);
        Assert.Empty(n.UsageReports());
    }

    [Fact]
    public void FarIdForQuotaAction_NamingNoFar_IsRefused_AndNothingIsInstalled()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var request = n.EstablishmentRequest(0x52) with { CreateUrrs = [QuotaUrr(500, quotaFar: 9)] };

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Urr, 1), response.FailedRuleId);
        Assert.Equal((ushort)IeType.FarId, response.OffendingIe);
        Assert.Equal(0, n.Table.Count);
    }

    [Fact]
    public void UsedUpQuota_StaysEnforced_AcrossARestart_WithoutASecondReport()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, QuotaUrr(1000));
        n.AddTraffic(seid, pdr: 2, packets: 8, bytes: 1200);
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1 && Blocked(n, seid), TimeSpan.FromSeconds(3)), "quota not enforced");

        var saved = n.Restart();

        Assert.True(Assert.Single(Assert.Single(saved.Sessions).Usage!).QuotaReported);
        Thread.Sleep(300);
        Assert.True(Blocked(n, seid));
        Assert.Single(n.UsageReports());
    }

    [Fact]
    public void AfterACrash_TheSavedTrackersDecide_ADatapathBlockedSinceTheSaveIsLifted_AndTheQuotaIsFoundAgain()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, QuotaUrr(1000));
        var beforeTheQuotaRanOut = n.Save();
        n.AddTraffic(seid, pdr: 2, packets: 8, bytes: 1200);
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1 && Blocked(n, seid), TimeSpan.FromSeconds(3)), "quota not enforced");

        n.Restart(crash: true, savedEarlier: beforeTheQuotaRanOut);

        Assert.All(Installed(n, seid).Values, v => Assert.Equal((PdrFlags)0, v.Flags));
        // Usage restarts from the counters as they are: another 1000 bytes use the quota up again.
        n.AddTraffic(seid, pdr: 2, packets: 8, bytes: 1000);
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 2, TimeSpan.FromSeconds(3)), "the quota was not found used up again");
        Assert.True(SpinWait.SpinUntil(() => Blocked(n, seid), TimeSpan.FromSeconds(2)), "not enforced again");
    }

    [Fact]
    public void FarIdForQuotaAction_IsAFarIdIe_InsideCreateUrr() =>
        PfcpAssert.RoundTrip(IeType.CreateUrr, QuotaUrr(0x0102, quotaFar: 7), CreateUrr.Decode,
            [
                0x00, 0x06, 0x00, 0x28,                                     // Create URR, 40 octets
                0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,             //   URR ID 1
                0x00, 0x3e, 0x00, 0x01, 0x02,                               //   Measurement Method VOLUM
                0x00, 0x25, 0x00, 0x02, 0x00, 0x01,                         //   Reporting Triggers VOLQU
                0x00, 0x49, 0x00, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0x01, 0x02, //   Volume Quota, total 0x0102
                0x00, 0x6c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,             //   FAR ID (for Quota Action) 7
            ]);
}

/// <summary>Update URR merged into the URR: the holding and validity times it carries replace the old ones, the rest stays.</summary>
public class UpdateUrrMergeTests
{
    [Fact]
    public void UpdateUrr_ReplacesTheHoldingAndValidityTimes_AndKeepsWhatItDoesNotCarry()
    {
        var current = new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Quhti | ReportingTriggerFlags.Quvti))
        {
            QuotaHoldingTime = 30, QuotaValidityTime = 600, VolumeQuota = new Volume(Total: 5000),
        };

        var merged = PfcpRuleSet.Apply(current, new UpdateUrr(1) { QuotaHoldingTime = 10, QuotaValidityTime = 60 });

        Assert.Equal((10U, 60U), (merged.QuotaHoldingTime, merged.QuotaValidityTime));
        Assert.Equal(new Volume(Total: 5000), merged.VolumeQuota);
        Assert.Equal((30U, 600U), (PfcpRuleSet.Apply(current, new UpdateUrr(1)).QuotaHoldingTime, PfcpRuleSet.Apply(current, new UpdateUrr(1)).QuotaValidityTime));
    }
}

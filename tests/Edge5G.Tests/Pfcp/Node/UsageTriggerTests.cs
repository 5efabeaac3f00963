using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// The per-second usage check skips a session whose counters have not moved until a time
/// trigger can fire: time triggers still fire on an idle session, and traffic after idle
/// checks is still seen.
/// </summary>
public class UsageTriggerTests
{
    private static ulong Establish(NodeUnderTest n, CreateUrr urr)
    {
        var request = n.EstablishmentRequest(0x77) with { CreateUrrs = [urr] };
        return Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body).UpFSeid!.Seid;
    }

    private static CreateUrr VolumeThresholdUrr(Volume threshold, ReportingTriggerFlags more = 0) =>
        new(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volth | more)) { VolumeThreshold = threshold };

    /// <summary>The one usage report the node sent, waited for: a VOLTH one.</summary>
    private static UsageReport SingleThresholdReport(NodeUnderTest n, string missing)
    {
        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), missing);
        var usage = Assert.Single(n.UsageReports()[0].UsageReports);
        Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Volth));
        return usage;
    }

    [Fact]
    public void PeriodicMeasurement_OnAnIdleSession_IsReportedEveryPeriod_WithUrSeqnCounting()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        Establish(n, new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Perio)) { MeasurementPeriod = 1 });

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 2, TimeSpan.FromSeconds(4)), "fewer than two periodic reports in 4 s");
        var reports = n.UsageReports().Select(r => Assert.Single(r.UsageReports)).ToArray();
        Assert.All(reports, r => Assert.True(r.Trigger.Has(UsageReportTriggerFlags.Perio)));
        Assert.All(reports, r => Assert.Equal(0UL, r.VolumeMeasurement!.TotalVolume));
        Assert.Equal([0U, 1U], reports[..2].Select(r => r.UrSeqn));
    }

    [Fact]
    public void TimeThreshold_OnAnIdleSession_IsReported()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        Establish(n, new CreateUrr(1, MeasurementMethod.Durat | MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Timth)) { TimeThreshold = 1 });

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no time-threshold report in 3 s");
        Assert.True(Assert.Single(n.UsageReports()[0].UsageReports).Trigger.Has(UsageReportTriggerFlags.Timth));
    }

    /// <summary>
    /// A session of three PDRs (more than the two whose stats slots a checked session keeps in
    /// itself): traffic counted, after idle checks, on the third alone is still seen, through the
    /// datapath's stamp on that PDR.
    /// </summary>
    [Fact]
    public void VolumeThreshold_CrossedOnTheThirdOfThreePdrs_AfterIdleChecks_IsReported()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var request = n.EstablishmentRequest(0x77) with { CreateUrrs = [VolumeThresholdUrr(new Volume(Total: 1000))] };
        var third = request.CreatePdrs[1] with { PdrId = 3, Precedence = 300 };
        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(request with { CreatePdrs = [.. request.CreatePdrs, third] }).Body).UpFSeid!.Seid;
        var idleBefore = n.Node.Counters.UsageChecksIdle;
        Assert.True(SpinWait.SpinUntil(() => n.Node.Counters.UsageChecksIdle >= idleBefore + 3, TimeSpan.FromSeconds(3)), "no idle checks");

        n.AddTraffic(seid, 3, packets: 2, bytes: 1200);
        var usage = SingleThresholdReport(n, "the third PDR's traffic was not seen");
        Assert.Equal(1200UL, usage.VolumeMeasurement!.DownlinkVolume);
    }

    [Fact]
    public void VolumeThreshold_CrossedAfterManyIdleChecks_IsStillReported()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, VolumeThresholdUrr(new Volume(Total: 1000)));
        Thread.Sleep(400); // several checks of an idle session, all skipped
        Assert.Empty(n.UsageReports());

        n.AddTraffic(seid, pdr: 2, packets: 3, bytes: 1200);

        var usage = SingleThresholdReport(n, "the threshold crossed after idle checks was not reported");
        Assert.Equal(1200UL, usage.VolumeMeasurement!.DownlinkVolume);
    }

    [Fact]
    public void AUrrAskingForATriggerTheNodeNeverFires_IsCounted()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        Establish(n, VolumeThresholdUrr(new Volume(Total: 1000)));
        Assert.Equal(0, n.Node.Counters.UserPlaneCount(PfcpCounters.UrrTriggerUnsupported));

        var request = n.EstablishmentRequest(0x78) with
        {
            CreateUrrs = [VolumeThresholdUrr(new Volume(Total: 1000), ReportingTriggerFlags.Start)],
        };
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body).Cause);

        Assert.Equal(1, n.Node.Counters.UserPlaneCount(PfcpCounters.UrrTriggerUnsupported));
    }

    [Fact]
    public void UplinkOnlyVolumeThreshold_IsReported_WhenTheUplinkReachesIt_NotTheTotal()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, VolumeThresholdUrr(new Volume(Uplink: 1000)));
        n.AddTraffic(seid, pdr: 2, packets: 10, bytes: 3000);
        Thread.Sleep(300);
        Assert.Empty(n.UsageReports());

        n.AddTraffic(seid, pdr: 1, packets: 4, bytes: 1000);

        var usage = SingleThresholdReport(n, "the uplink threshold was not reported");
        Assert.Equal(1000UL, usage.VolumeMeasurement!.UplinkVolume);
        Assert.Equal(3000UL, usage.VolumeMeasurement.DownlinkVolume);
    }

    [Fact]
    public void AHandoverModification_LeavesTheUsageChecksAsTheyWere_AndTheThresholdIsStillSeen()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, VolumeThresholdUrr(new Volume(Total: 1000)));
        n.AddTraffic(seid, pdr: 2, packets: 2, bytes: 600);
        Thread.Sleep(200); // checked: under the threshold
        Assert.Empty(n.UsageReports());

        // A new gNB F-TEID: a FAR changes, the URR and the PDRs' counters do not.
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x5151), seid).Body).Cause);
        Thread.Sleep(200);
        Assert.Empty(n.UsageReports());
        n.AddTraffic(seid, pdr: 2, packets: 2, bytes: 600);

        var usage = SingleThresholdReport(n, "the threshold crossed after a handover was not reported");
        Assert.Equal(1200UL, usage.VolumeMeasurement!.DownlinkVolume);
    }

    [Fact]
    public void AModificationLoweringTheThreshold_BelowWhatWasAlreadyCounted_IsReportedWithoutNewTraffic()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, VolumeThresholdUrr(new Volume(Total: 1000)));
        n.AddTraffic(seid, pdr: 2, packets: 2, bytes: 600);
        Thread.Sleep(200); // checked, and idle from then on
        Assert.Empty(n.UsageReports());

        var lowered = new SessionModificationRequest { UpdateUrrs = [new UpdateUrr(1) { VolumeThreshold = new Volume(Total: 500) }] };
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(n.Request(lowered, seid).Body).Cause);

        var usage = SingleThresholdReport(n, "a threshold lowered under the counted volume was not reported");
        Assert.Equal(600UL, usage.VolumeMeasurement!.DownlinkVolume);
    }
}

/// <summary>
/// Linked usage reporting (LIUSA, TS 29.244 5.2.2.4): a URR asking for it reports whenever a
/// URR it names as a Linked URR ID reports, with its own usage since its own last report.
/// </summary>
public class LinkedUsageReportingTests
{
    /// <summary>URR 1: a volume threshold of 1000 bytes; URR 2: LIUSA, linked to URR 1; both on both PDRs.</summary>
    private static ulong Establish(NodeUnderTest n)
    {
        var request = n.EstablishmentRequest(0x78);
        request = request with
        {
            CreatePdrs = [.. request.CreatePdrs.Select(p => p with { UrrIds = [1, 2] })],
            CreateUrrs =
            [
                new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volth)) { VolumeThreshold = new Volume(Total: 1000) },
                new CreateUrr(2, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Liusa)) { LinkedUrrIds = [1] },
            ],
        };
        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body).UpFSeid!.Seid;
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x4100), seid).Body).Cause);
        return seid;
    }

    [Fact]
    public void AReportOfTheLinkedUrr_BringsOneOfTheLinkingUrr_WithItsOwnUsage()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n);

        n.AddTraffic(seid, pdr: 1, packets: 4, bytes: 400);
        n.AddTraffic(seid, pdr: 2, packets: 6, bytes: 700);

        Assert.True(n.WaitFor(_ => n.UsageReports().Length >= 1, TimeSpan.FromSeconds(3)), "no usage report in 3 s");
        var reports = Assert.Single(n.UsageReports()).UsageReports.ToDictionary(r => r.UrrId);
        Assert.Equal([1U, 2U], reports.Keys.Order());
        Assert.Equal(UsageReportTriggerFlags.Volth, reports[1].Trigger.Flags);
        Assert.Equal(UsageReportTriggerFlags.Liusa, reports[2].Trigger.Flags);
        Assert.Equal((1100UL, 400UL, 700UL), (reports[2].VolumeMeasurement!.TotalVolume, reports[2].VolumeMeasurement!.UplinkVolume, reports[2].VolumeMeasurement!.DownlinkVolume));

        // Querying URR 1 brings URR 2 too (with nothing since its last report); querying URR 2 alone does not bring URR 1.
        var query = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { QueryUrrs = [1] }, seid).Body);
        Assert.Equal([(1U, UsageReportTriggerFlags.Immer), (2U, UsageReportTriggerFlags.Liusa)], query.UsageReports.Select(r => (r.UrrId, r.Trigger.Flags)));
        Assert.Equal(0UL, query.UsageReports[1].VolumeMeasurement!.TotalVolume);
        var alone = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { QueryUrrs = [2] }, seid).Body);
        Assert.Equal([(2U, UsageReportTriggerFlags.Immer)], alone.UsageReports.Select(r => (r.UrrId, r.Trigger.Flags)));
    }
}

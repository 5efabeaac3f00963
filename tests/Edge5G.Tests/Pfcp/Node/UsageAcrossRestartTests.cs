using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// A restarted daemon keeps the Recovery Time Stamp, so the SMF expects every URR to carry on:
/// after a clean stop the new node reports exactly what was counted since the last report
/// (also while no daemon ran) and UR-SEQN goes on; after a crash it cannot know what the dead
/// node reported after its last save, so it loses that usage rather than reporting it twice,
/// and continues UR-SEQN from the save (never from 0 again).
/// </summary>
public class UsageAcrossRestartTests
{
    [Theory]
    [InlineData(false, 700UL, 1U)]
    [InlineData(true, 0UL, 1U)] // the periodic save had seen the first report: UR-SEQN does not repeat
    public void DeletionReport_AfterARestart_CarriesOnFromTheLastReport_WhenTheStopWasClean(bool crash, ulong expectedUplink, uint expectedSequence)
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x99, volumeThreshold: 1000)).Body);
        var seid = est.UpFSeid!.Seid;
        n.AddTraffic(seid, pdr: 1, packets: 10, bytes: 1500);
        Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)));
        var first = Assert.Single(((SessionReportRequest)n.NodeRequests.First(d => d.Body is SessionReportRequest).Body).UsageReports);
        Assert.Equal((1500UL, 0U), (first.VolumeMeasurement!.UplinkVolume!.Value, first.UrSeqn));
        n.AddTraffic(seid, pdr: 1, packets: 5, bytes: 700); // below the threshold: not reported yet

        var saved = n.Restart(crash);

        Assert.Equal(!crash, saved.Clean);
        var deleted = Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), seid).Body);
        Assert.Equal(PfcpCause.RequestAccepted, deleted.Cause);
        var last = Assert.Single(deleted.UsageReports);
        Assert.Equal(expectedUplink, last.VolumeMeasurement!.UplinkVolume);
        Assert.Equal(expectedSequence, last.UrSeqn);
        Assert.True(last.Trigger.Has(UsageReportTriggerFlags.Termr));
    }
}

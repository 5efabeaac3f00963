using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// A request refused after its usage was measured (a URR removed, the session deleted) leaves
/// the usage as it was: the report that goes out later carries the same volume and the
/// UR-SEQN the refused one would have had, so nothing is lost for charging.
/// </summary>
public class RefusedRequestUsageTests
{
    private static ulong Establish(NodeUnderTest n) =>
        Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x91)).Body).UpFSeid!.Seid;

    private static UsageReport FinalReport(NodeUnderTest n, ulong seid)
    {
        var deleted = Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), seid).Body);
        Assert.Equal(PfcpCause.RequestAccepted, deleted.Cause);
        return Assert.Single(deleted.UsageReports);
    }

    [Fact]
    public void ARefusedModificationRemovingAUrr_LeavesItsUsageAndUrSeqnForTheNextReport()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var seid = Establish(n);
        n.AddTraffic(seid, pdr: 2, packets: 3, bytes: 1200);

        // Both PDRs still refer to URR 1: the compiler refuses, after the URR's usage was measured.
        var refused = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { RemoveUrrs = [1] }, seid).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, refused.Cause);
        Assert.Empty(refused.UsageReports);
        var final = FinalReport(n, seid);
        Assert.Equal(1U, final.UrrId);
        Assert.Equal(0U, final.UrSeqn);
        Assert.Equal(1200UL, final.VolumeMeasurement!.DownlinkVolume);
        Assert.Equal(3UL, final.VolumeMeasurement.DownlinkPackets);
    }

    [Fact]
    public void AModificationTheKernelRefuses_LeavesTheUsageOfTheUrrItRemoved()
    {
        var refuse = false;
        var inner = DatapathTables.InMemory();
        using var n = new NodeUnderTest(tables: inner with { Pdrs = new RefusingTable<uint, PdrEntry>(inner.Pdrs, (_, _) => refuse) });
        n.Associate();
        var seid = Establish(n);
        n.AddTraffic(seid, pdr: 2, packets: 3, bytes: 1200);

        // A valid removal (the PDRs let go of URR 1 in the same request), refused by the maps.
        refuse = true;
        var refused = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest
        {
            RemoveUrrs = [1],
            UpdatePdrs = [new UpdatePdr(1) { UrrIds = [2] }, new UpdatePdr(2) { UrrIds = [2] }],
            CreateUrrs = [new CreateUrr(2, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volth)) { VolumeThreshold = new Volume(Total: 1UL << 40) }],
        }, seid).Body);
        refuse = false;

        Assert.Equal(PfcpCause.SystemFailure, refused.Cause);
        var final = FinalReport(n, seid);
        Assert.Equal(1U, final.UrrId);
        Assert.Equal(0U, final.UrSeqn);
        Assert.Equal(1200UL, final.VolumeMeasurement!.DownlinkVolume);
    }

    [Fact]
    public void ARefusedDeletion_LeavesTheUsageAndUrSeqnForTheDeletionThatSucceeds()
    {
        var refuse = false;
        var inner = DatapathTables.InMemory();
        using var n = new NodeUnderTest(tables: inner with { Ue4 = new RefusingTable<uint, MatchEntry>(inner.Ue4, (_, _) => false, _ => refuse) });
        n.Associate();
        var seid = Establish(n);
        n.AddTraffic(seid, pdr: 2, packets: 3, bytes: 1200);

        refuse = true;
        var refused = Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), seid).Body);
        refuse = false;
        n.AddTraffic(seid, pdr: 2, packets: 1, bytes: 100);

        Assert.Equal(PfcpCause.SystemFailure, refused.Cause);
        Assert.Empty(refused.UsageReports);
        var final = FinalReport(n, seid);
        Assert.Equal(0U, final.UrSeqn);
        Assert.Equal(1300UL, final.VolumeMeasurement!.DownlinkVolume);
        Assert.Equal(4UL, final.VolumeMeasurement.DownlinkPackets);
    }
}

using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// Usage checks on the kernel maps: with enough sessions the node reads the PDR counters of a
/// chunk of sessions with one batch lookup over their slot range; the reports must be what
/// single lookups gave.
/// </summary>
public class UsageOnKernelMapsTests
{
    [SkippableFact]
    public void VolumeThreshold_OfOneOfTwelveSessions_ReadInABatch_SendsItsReportOnly()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        using var stats = h.Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        var n = new NodeUnderTest(s => s with { UsageTick = TimeSpan.FromMilliseconds(50) }, tables: h.Datapath.Tables);
        var slots = new List<uint>();
        try
        {
            n.Associate();
            // 12 sessions, 24 PDRs in neighbouring stats slots: above the batch threshold.
            var seids = new List<ulong>();
            for (ulong cp = 0x100; cp < 0x10c; cp++)
            {
                var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(cp, volumeThreshold: 1000)).Body);
                Assert.Equal(PfcpCause.RequestAccepted, est.Cause);
                seids.Add(est.UpFSeid!.Seid);
            }
            Assert.True(n.Table.TryGet(seids[6], out var seventh));
            var slot = seventh.PdrStats[1];
            slots.Add(slot);
            var perCpu = new Counter[stats.Lookup(slot).Length];
            perCpu[^1] = new Counter { Packets = 10, Bytes = 1500 }; // the last CPU: the sum must cover every CPU
            stats.Update(slot, perCpu);

            Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)));
            Thread.Sleep(200); // a few more ticks: no other session may report
            var reports = n.NodeRequests.Where(d => d.Body is SessionReportRequest).ToArray();
            var report = Assert.Single(reports);
            Assert.Equal(0x106UL, report.Header.Seid);
            var usage = Assert.Single(((SessionReportRequest)report.Body).UsageReports);
            Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Volth));
            Assert.Equal(1500UL, usage.VolumeMeasurement!.UplinkVolume);
            Assert.Equal(10UL, usage.VolumeMeasurement.UplinkPackets);
        }
        finally
        {
            n.Dispose();
            foreach (var s in n.Table.Sessions)
                n.Table.Delete(s.Seid);
            foreach (var s in slots)
                h.Datapath.Tables.PdrStats.Reset(s);
        }
    }
}

using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
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
            h.CountOnStatsSlot(slot, perCpu);

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

    [SkippableFact]
    public void UsedUpVolumeQuota_IsEnforcedInTheKernelProgram_AsDropQuota()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        using var stats = h.Datapath.Object.PerCpuMap<uint, Counter>("pdr_stats");
        var n = new NodeUnderTest(s => s with { UsageTick = TimeSpan.FromMilliseconds(50) }, tables: h.Datapath.Tables);
        uint? slot = null;
        try
        {
            n.Associate();
            var request = n.EstablishmentRequest(0x200) with
            {
                CreateUrrs = [new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volqu)) { VolumeQuota = new Volume(Total: 1000) }],
            };
            var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);
            var uplink = est.CreatedPdrs.Single(p => p.PdrId == 1);
            var ue = uplink.UeIpAddresses.Single().Ipv4!;
            var frame = GtpFrames.Uplink(uplink.LocalFTeid!.Teid, GtpFrames.InnerUdp4(ue, GtpFrames.LocalServer, 2, 1), qfi: 9);
            Assert.NotEqual(XdpAction.Drop, h.Run(frame).Verdict);
            Assert.Equal(0UL, h.StatPackets(DatapathStat.DropQuota));

            // The uplink PDR has counted the quota (as if 10 packets of 100 bytes had gone by).
            Assert.True(n.Table.TryGet(est.UpFSeid!.Seid, out var compiled));
            slot = compiled.PdrStats[1];
            var perCpu = stats.Lookup(slot.Value);
            perCpu[0] = new Counter { Packets = perCpu[0].Packets + 10, Bytes = perCpu[0].Bytes + 1000 };
            h.CountOnStatsSlot(slot.Value, perCpu);

            Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)), "no quota report");
            Assert.True(SpinWait.SpinUntil(() => h.Run(frame).Verdict == XdpAction.Drop, TimeSpan.FromSeconds(2)), "the program still forwards");
            Assert.True(h.StatPackets(DatapathStat.DropQuota) >= 1);
            var countedBefore = h.PdrCounter(est.UpFSeid.Seid, 1).Packets;
            Assert.Equal(XdpAction.Drop, h.Run(frame).Verdict);
            Assert.Equal(countedBefore, h.PdrCounter(est.UpFSeid.Seid, 1).Packets); // dropped, not usage
        }
        finally
        {
            n.Dispose();
            foreach (var s in n.Table.Sessions)
                n.Table.Delete(s.Seid);
            if (slot is { } s2)
                h.Datapath.Tables.PdrStats.Reset(s2);
        }
    }
}

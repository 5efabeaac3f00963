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

    /// <summary>
    /// Ten held sessions, idle: no tick reads a counter (the program stamped none of their
    /// PDRs, and a new session's counters start at zero). Traffic through the program on one of them gets it read
    /// (in the next tick, and in the one after for the epoch margin) and its threshold reported;
    /// then it is passed over again.
    /// </summary>
    [SkippableFact]
    public void IdleSessions_AreNotRead_TheOneWithTraffic_IsRead_AndReported()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var n = new NodeUnderTest(s => s with { UsageTick = TimeSpan.FromMilliseconds(50) }, tables: h.Datapath.Tables, nextHops: h.NextHops);
        var activity = h.Datapath.Tables.UsageActivity!;
        try
        {
            n.Associate();
            var created = new List<SessionEstablishmentResponse>();
            for (ulong cp = 0x300; cp < 0x30a; cp++)
            {
                var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(cp, volumeThreshold: 1000)).Body);
                Assert.Equal(PfcpCause.RequestAccepted, est.Cause);
                created.Add(est);
            }
            // A new session's counters start at zero: it is not read until it counts.
            WaitForTicks(activity, 3);
            var read = n.Node.Counters.UsageChecksRead;
            var idle = n.Node.Counters.UsageChecksIdle;
            Assert.Equal(0, read);
            WaitForTicks(activity, 3);
            Assert.Equal(0, n.Node.Counters.UsageChecksRead);
            Assert.True(n.Node.Counters.UsageChecksIdle >= idle + 20, "the idle sessions were passed over");

            // 8 uplink packets of 148 octets through the program on the fifth session: 1,184 > 1,000.
            var fifth = created[4];
            var uplink = fifth.CreatedPdrs.Single(p => p.PdrId == 1);
            var ue = uplink.UeIpAddresses.Single().Ipv4!;
            var frame = GtpFrames.Uplink(uplink.LocalFTeid!.Teid, GtpFrames.InnerUdp4(ue, GtpFrames.LocalServer, 40000, 5001, payload: 120), qfi: 9);
            for (int i = 0; i < 8; i++)
                Assert.Equal(XdpAction.Tx, h.Run(frame).Verdict); // decapsulated towards the data network
            Assert.True(n.Table.TryGet(fifth.UpFSeid!.Seid, out var compiled));
            var counted = Counter.Sum(h.Datapath.Tables.PdrStats.Read(compiled.PdrStats[1]));
            Assert.Equal(8UL, counted.Packets);

            Assert.True(n.WaitFor(r => r.Any(d => d.Body is SessionReportRequest), TimeSpan.FromSeconds(3)), "no usage report");
            var report = Assert.Single(n.NodeRequests, d => d.Body is SessionReportRequest);
            Assert.Equal(0x304UL, report.Header.Seid);
            var usage = Assert.Single(((SessionReportRequest)report.Body).UsageReports);
            Assert.True(usage.Trigger.Has(UsageReportTriggerFlags.Volth));
            Assert.Equal(counted.Bytes, usage.VolumeMeasurement!.UplinkVolume);
            Assert.Equal(8UL, usage.VolumeMeasurement.UplinkPackets);

            // Read in the tick after the traffic and, for the margin, the one after that (the
            // traffic may have fallen in either of two epochs, so two or three reads): then idle.
            WaitForTicks(activity, 3);
            var readAfter = n.Node.Counters.UsageChecksRead - read;
            Assert.InRange(readAfter, 2, 3);
            WaitForTicks(activity, 3);
            Assert.Equal(read + readAfter, n.Node.Counters.UsageChecksRead);
        }
        finally
        {
            n.Dispose();
            foreach (var s in n.Table.Sessions)
                n.Table.Delete(s.Seid);
        }
    }

    /// <summary>Waits until the node's usage check has started <paramref name="ticks"/> more times, and finished the last but one.</summary>
    private static void WaitForTicks(LoxiLb.Edge5G.Datapath.Tables.IUsageActivity activity, int ticks)
    {
        var target = activity.Epoch + (ulong)ticks;
        Assert.True(SpinWait.SpinUntil(() => activity.Epoch >= target, TimeSpan.FromSeconds(5)), "the usage check stopped ticking");
    }
}

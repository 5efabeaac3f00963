using System.Collections.Immutable;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>QERs (gates, MBR token buckets) and FAR actions other than forwarding.</summary>
public class GtpQosTests
{
    [SkippableFact]
    public void ClosedDownlinkGate_DropsDownlink_AndCountsItOnTheQer_WhileUplinkFlows()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var session = Basic(qers: [new Qer(1, DownlinkGate: GateStatus.Closed, Qfi: 9)]);
        h.Sessions.Establish(session);

        Assert.Equal(XdpAction.Drop, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 1, 2))).Verdict);
        Assert.Equal(XdpAction.Tx, h.Run(Uplink(UplinkTeid, InnerUdp4(Ue, LocalServer, 2, 1), qfi: 9)).Verdict);

        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropGateClosed));
        Assert.Equal(1UL, QerDrops(h, 0).GateDrops);
    }

    [SkippableFact]
    public void DownlinkMbr_PassesTheBurstThenDropsWhatExceedsIt()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        // 1 kbit/s = 125 bytes/s: the bucket holds its minimum of two full frames (3028 bytes) and
        // refills by less than one packet in the time the 40 runs take, even on a loaded machine.
        h.Sessions.Establish(Basic(qers: [new Qer(1, DownlinkMbrKbps: 1, Qfi: 9)]));
        var packet = InnerUdp4(LocalServer, Ue, 1, 2, payload: 72); // 100-byte IP packets
        var frame = Ethernet(RouterMac, GatewayMac, packet);

        var verdicts = Enumerable.Range(0, 40).Select(_ => h.Run(frame).Verdict).ToArray();

        Assert.Equal(3028UL, SessionTable.Burst(125));
        Assert.All(verdicts.Take(30), v => Assert.Equal(XdpAction.Tx, v));
        Assert.All(verdicts.Skip(31), v => Assert.Equal(XdpAction.Drop, v));
        Assert.InRange(h.StatPackets(DatapathStat.DropMbr), 9UL, 10UL);
        Assert.Equal(h.StatPackets(DatapathStat.DropMbr), QerDrops(h, 0).MbrDrops);
    }

    [SkippableFact]
    public void FarDrop_DropsAndCounts()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var basic = Basic();
        h.Sessions.Establish(basic with { Fars = [basic.Fars[0], new Far(2, ApplyAction.Drop)] });

        Assert.Equal(XdpAction.Drop, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 1, 2))).Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropFar));
    }

    [SkippableFact]
    public void QuotaExhaustedPdr_DropsBothDirections_CountsDropQuota_AndNoUsage()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        var basic = Basic();
        var blocked = basic with { Pdrs = [.. basic.Pdrs.Select(p => p with { QuotaExhausted = true })] };
        var compiled = h.Sessions.Establish(blocked);

        Assert.Equal(XdpAction.Drop, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 1, 2))).Verdict);
        Assert.Equal(XdpAction.Drop, h.Run(Uplink(UplinkTeid, InnerUdp4(Ue, LocalServer, 2, 1), qfi: 9)).Verdict);

        Assert.Equal(2UL, h.StatPackets(DatapathStat.DropQuota));
        Assert.Equal(0UL, h.StatPackets(DatapathStat.DropFar));
        foreach (var pdr in basic.Pdrs)
        {
            Assert.True(h.Datapath.Tables.Pdrs.TryGet(compiled.PdrSlotById[pdr.Id], out var entry));
            Assert.Equal(PdrFlags.QuotaExhausted, entry.Flags);
            Assert.Equal(0UL, h.PdrCounter(basic.Seid, pdr.Id).Packets);
        }

        // The SMF's new quota: the same session without the flag forwards again.
        h.Sessions.Modify(basic);
        Assert.Equal(XdpAction.Tx, h.Run(Uplink(UplinkTeid, InnerUdp4(Ue, LocalServer, 2, 1), qfi: 9)).Verdict);
        Assert.Equal(2UL, h.StatPackets(DatapathStat.DropQuota));
    }

    /// <summary>
    /// FAR BUFF with NOCP: each packet goes to the control side to be held (slow_packets, with
    /// its PDR's stats slot), none is counted on the PDR (not forwarded yet), and one downlink
    /// data event a second tells the SMF. With the buffer rate at 0 they are only dropped.
    /// </summary>
    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void FarBufferWithNotify_HandsThePacketsOverToBeHeld_AndRaisesOneDownlinkDataEventPerSecond(bool buffering)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        if (!buffering)
            h.Datapath.SetBufferRate(0);
        var basic = Basic();
        var compiled = h.Sessions.Establish(basic with { Fars = [basic.Fars[0], new Far(2, ApplyAction.Buffer | ApplyAction.NotifyCp)] });
        var events = new List<EventRecord>();
        var held = new List<SlowPacketRecord>();
        using var ring = new BpfRingBuffer<EventRecord>(h.Datapath.Object.MapDescriptor("events"), e => events.Add(e));
        using var slow = new BpfRingBuffer<SlowPacketRecord>(h.Datapath.Object.MapDescriptor("slow_packets"), held.Add);
        var packets = Enumerable.Range(0, 3).Select(i => InnerUdp4(LocalServer, Ue, 1, (ushort)(2 + i))).ToArray();

        foreach (var p in packets)
            Assert.Equal(XdpAction.Drop, h.Run(Ethernet(RouterMac, GatewayMac, p)).Verdict);
        ring.Poll(TimeSpan.Zero);
        slow.Poll(TimeSpan.Zero);

        Assert.Equal(buffering ? 3UL : 0UL, h.StatPackets(DatapathStat.Buffered));
        Assert.Equal(buffering ? 0UL : 3UL, h.StatPackets(DatapathStat.DropBuffered));
        Assert.Equal(new Counter(), h.PdrCounter(1, 2));
        Assert.Equal(buffering ? 3 : 0, held.Count);
        Assert.All(held, r => Assert.Equal((SlowPacketKind.Buffer, compiled.PdrStats[2], 0u), (r.Kind, r.Stats, r.Teid)));
        unsafe
        {
            Assert.Equal(buffering ? packets.Select(p => Convert.ToHexString(p.Bytes)) : [],
                held.Select(r => Convert.ToHexString(new ReadOnlySpan<byte>(r.Packet, r.Len))));
        }
        var only = Assert.Single(events);
        Assert.Equal(EventKind.DownlinkData, only.Kind);
        Assert.Equal(compiled.PdrStats[2], only.Index);
        Assert.Equal(9, only.Qfi);
    }

    private static QerStats QerDrops(GtpHarness h, uint qerSlot)
    {
        // The harness installs one session with one QER set: its slot is 0.
        var perCpu = h.Datapath.Tables.QerStats.Read(qerSlot);
        return new QerStats { GateDrops = (ulong)perCpu.Sum(q => (long)q.GateDrops), MbrDrops = (ulong)perCpu.Sum(q => (long)q.MbrDrops) };
    }
}

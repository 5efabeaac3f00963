using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// The program stamps each PDR it counts on with the usage epoch (map pdr_seen), which the
/// control side reads in place through an mmap of the array.
/// </summary>
public class UsageActivityTests
{
    [SkippableFact]
    public void ACountedPacket_StampsItsPdrWithTheCurrentEpoch_AndOnlyThatPdr()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        Assert.True(h.Sessions.TryGet(1, out var session));
        uint uplink = session.PdrStats[1], downlink = session.PdrStats[2];
        var activity = Assert.IsType<BpfUsageActivity>(h.Datapath.Tables.UsageActivity);

        var first = activity.Advance();
        Assert.Equal(XdpAction.Tx, h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 5001, 40000))).Verdict);
        Assert.Equal(first, activity.LastCounted(downlink));
        Assert.True(activity.LastCounted(uplink) < first, "the uplink PDR counted nothing in this epoch");

        // The next epoch: stamped again by the next packet, not before.
        var second = activity.Advance();
        Assert.Equal(first + 1, second);
        Assert.Equal(first, activity.LastCounted(downlink));
        h.Run(Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 5001, 40000)));
        Assert.Equal(second, activity.LastCounted(downlink));

        // What the mapping reads is what the map holds.
        using var seen = h.Datapath.Object.Map<uint, ulong>("pdr_seen");
        Assert.Equal(seen.Lookup(downlink), activity.LastCounted(downlink));
        using var epoch = h.Datapath.Object.Map<uint, ulong>("usage_epoch");
        Assert.Equal(second, epoch.Lookup(0));
    }

    [SkippableFact]
    public void ADroppedPacket_ThatNoPdrCounts_StampsNothing()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        Assert.True(h.Sessions.TryGet(1, out var session));
        var activity = h.Datapath.Tables.UsageActivity!;
        var now = activity.Advance();

        // An uplink G-PDU to a TEID nobody owns: answered with an Error Indication, no PDR counts it.
        h.Run(Uplink(UplinkTeid + 1, InnerUdp4(Ue, LocalServer, 40000, 5001), qfi: 9));
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ErrorIndicationSent));
        Assert.Equal(0UL, h.PdrCounter(1, 1).Packets);
        Assert.True(activity.LastCounted(session.PdrStats[1]) < now);
        Assert.True(activity.LastCounted(session.PdrStats[2]) < now);
    }

    [SkippableFact]
    public void ADatapathAdoptingTheMaps_GoesOnFromTheirEpoch_NeverBack()
    {
        Privileged.Require();
        var pins = $"/sys/fs/bpf/e5g-test-epoch-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(pins);
        try
        {
            ulong reached;
            using (var first = GtpDatapath.Load(GtpHarness.DefaultOptions))
            {
                var a = first.Tables.UsageActivity!;
                a.Advance();
                a.Advance();
                reached = a.Advance();
                first.PinMaps(pins);
            }
            using var second = GtpDatapath.Load(GtpHarness.DefaultOptions, adoptMapsFrom: pins);
            var b = second.Tables.UsageActivity!;
            Assert.Equal(reached, b.Epoch);
            Assert.Equal(reached + 1, b.Advance());
        }
        finally
        {
            BpfPins.RemoveTree(pins);
        }
    }

    [SkippableFact]
    public void AMapWithoutMmapable_IsRefusedWithTheReason()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        using var notMmapable = h.Datapath.Object.Map<uint, ulong>("pdr_notified");
        var e = Assert.Throws<BpfException>(() => notMmapable.MapMemory());
        Assert.Contains("pdr_notified", e.Operation);
        Assert.Contains("BPF_F_MMAPABLE", e.Message);
        Assert.NotEqual(0, e.Errno);
    }

    [Fact]
    public void InMemory_AnAdvancedEpoch_IsWhatTheNextCountCarries()
    {
        var activity = new MemoryUsageActivity(8);
        Assert.Equal(1UL, activity.Epoch); // from 1: a stamp of 0 is "never counted"
        Assert.Equal(0UL, activity.LastCounted(3));
        activity.Advance();
        activity.Count(3);
        Assert.Equal(2UL, activity.LastCounted(3));
        Assert.Equal(3UL, activity.Advance());
        Assert.Equal(2UL, activity.LastCounted(3));
        activity.Forget([3]);
        Assert.Equal(0UL, activity.LastCounted(3));
        Assert.Equal(ulong.MaxValue, activity.LastCounted(8)); // outside the table: always read
    }
}

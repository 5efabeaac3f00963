using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Bpf;

/// <summary>The program-test runner: verdict, exact output bytes and context through BPF_PROG_TEST_RUN.</summary>
public class ProgramTestRunTests
{
    private const int Loopback = 1;

    [SkippableFact]
    public void CounterProgram_PassesTheFrameUnchanged_AndCountsItOnTheIngressInterface()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        var frame = TestPackets.Udp4("192.0.2.10", "203.0.113.200", 40000, 5001, new byte[64]);

        var run = ProgramTestRun.RunXdp(obj.Program("xdp_ifcount"), frame, ingressIfindex: Loopback);

        Assert.Equal(XdpAction.Pass, run.Verdict);
        PacketAssert.Equal(frame, run.Output);
        using var counters = obj.PerCpuMap<uint, IfCounters>("if_counters");
        var perCpu = counters.Lookup(Loopback);
        Assert.Equal(1UL, perCpu.Sum(c => (long)c.Packets) is var p ? (ulong)p : 0);
        Assert.Equal((ulong)frame.Length, (ulong)perCpu.Sum(c => (long)c.Bytes));
    }

    [SkippableFact]
    public void CounterProgram_ThreeFrames_AddUpPacketsAndBytes()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        var program = obj.Program("xdp_ifcount");
        int[] sizes = [18, 64, 1000];
        foreach (var size in sizes)
            ProgramTestRun.RunXdp(program, TestPackets.Udp4("192.0.2.10", "203.0.113.200", 1, 2, new byte[size]), Loopback);

        using var counters = obj.PerCpuMap<uint, IfCounters>("if_counters");
        var perCpu = counters.Lookup(Loopback);
        Assert.Equal(3L, perCpu.Sum(c => (long)c.Packets));
        Assert.Equal(sizes.Sum(s => 14 + 20 + 8 + s), perCpu.Sum(c => (long)c.Bytes));
    }

    [SkippableFact]
    public void FrameShorterThanEthernet_IsRefused_BeforeTheKernel()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        var e = Assert.Throws<BpfException>(() => ProgramTestRun.RunXdp(obj.Program("xdp_ifcount"), new byte[10]));
        Assert.Contains("at least an Ethernet header", e.Message);
    }

    [Fact]
    public void PacketDiff_PointsAtTheFirstDifferingByte()
    {
        var expected = TestPackets.Udp4("192.0.2.10", "203.0.113.200", 1, 2, new byte[4], ttl: 64);
        var actual = TestPackets.Udp4("192.0.2.10", "203.0.113.200", 1, 2, new byte[4], ttl: 63);
        var diff = LoxiLb.Edge5G.Replay.PacketDiff.Describe(expected, actual);
        Assert.NotNull(diff);
        Assert.Contains("first difference at byte 22 (0x16)", diff); // IPv4 TTL: 14 + 8
        Assert.Null(LoxiLb.Edge5G.Replay.PacketDiff.Describe(expected, expected));
    }
}

using LoxiLb.Edge5G.Bench;
using LoxiLb.Edge5G.Cli;
using LoxiLb.Edge5G.Tests.Support;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Bench;

/// <summary>
/// `edge5g bench` on a small load through the real programs: every frame of every case gets its
/// expected verdict and reaches the receiving veth, and a spread run reaches every sampled
/// session. Not timed (the numbers are the benchmark's business, docs/benchmarks.md).
/// </summary>
public class DatapathBenchSmokeTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Bench_SingleFlowAndSpread_EveryFrameForwardedAndEverySessionReached()
    {
        Privileged.Require();
        var options = new BenchOptions
        {
            Runs = 1,
            // 40 rounds of the 100 sessions per run: every session counts packets.
            Packets = 4000,
            SessionCounts = [1, 100],
            PacketDirectory = Path.Combine(RepoPaths.Shared, "bench"),
            Cases = ["uplink", "downlink", "echo", "uplink-spread", "downlink-spread"],
        };
        var log = new StringWriter();
        var report = new DatapathBench(options, log).Run();
        output.WriteLine(log.ToString());
        var table = BenchCommand.Format(report, options);
        output.WriteLine(table);

        // Spread rows only where there are sessions to spread over.
        Assert.Equal(
            [
                ("uplink decap", 1), ("uplink decap", 100), ("downlink encap", 1), ("downlink encap", 100),
                ("echo reply", 1), ("echo reply", 100), ("uplink decap, spread", 100), ("downlink encap, spread", 100),
            ],
            report.Rows.Select(r => (r.Case, r.Sessions)));
        Assert.All(report.Rows, r =>
        {
            Assert.Equal(1.0, r.VerdictShare);
            Assert.Equal(1.0, r.DeliveredShare);
            Assert.True(r.ProgramNs > 0 && r.TrivialProgramNs > 0, $"{r.Case}: no program time");
        });
        Assert.All(report.Rows.Where(r => r.SpreadOf is not null), r => Assert.Equal(1.0, r.SessionsReached));
        Assert.All(report.Rows.Where(r => r.SpreadOf is null), r => Assert.Null(r.SessionsReached));

        // Spread rows name no target (the targets are for one flow) and compare with their single flow.
        var spreadLine = table.Split('\n').Single(l => l.StartsWith("| uplink decap, spread | 100 |", StringComparison.Ordinal));
        var cells = spreadLine.Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal("-", cells[8]);
        var one = report.Rows.Single(r => r.Case == "uplink decap" && r.Sessions == 1);
        var spread = report.Rows.Single(r => r.Case == "uplink decap, spread");
        Assert.Equal($"{spread.ProgramAboveTrivial / one.ProgramAboveTrivial:0.00}x", cells[9]);
        Assert.Contains("uplink decap, spread at 100: 100.0 %", table, StringComparison.Ordinal);
    }
}

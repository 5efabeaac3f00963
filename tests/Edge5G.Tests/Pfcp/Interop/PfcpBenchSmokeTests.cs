using LoxiLb.Edge5G.Bench;
using LoxiLb.Edge5G.Cli;
using LoxiLb.Edge5G.Tests.Support;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>
/// The bench measures the managed heap of the whole process (a forced compacting collection
/// before and after establishment). Run beside other tests, any of them may free more than
/// these 2,000 sessions hold between the two readings (CI saw it once), so these run in a
/// collection of their own, after the parallel ones and alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessHeapCollection
{
    public const string Name = "Process-wide heap measurement";
}

/// <summary>
/// The bench-pfcp code path on a small load: every request accepted, the counts add up, the
/// maps end empty. Not timed (the numbers are the benchmark's business, docs/pfcp-bench.md).
/// </summary>
[Collection(ProcessHeapCollection.Name)]
public class PfcpBenchSmokeTests(ITestOutputHelper output)
{
    private const int Sessions = 2000;

    [SkippableFact]
    public void BenchPfcp_OnTheKernelMaps_EstablishesModifiesAndDeletesEverySession()
    {
        Privileged.Require();
        var report = Run(new PfcpBenchOptions { Sessions = Sessions, Window = 32, MeasureSteadyHeap = false, Warmup = 500, IdleWindow = TimeSpan.Zero });
        Assert.True(report.MapMemory > 0, "the kernel maps' memory was not measured");
        Assert.True(report.MapSessions >= Sessions);
    }

    [Fact]
    public void BenchPfcp_OnInMemoryTables_EstablishesModifiesAndDeletesEverySession()
    {
        Run(new PfcpBenchOptions { Sessions = Sessions, Window = 8, InMemory = true, MeasureSteadyHeap = false, Warmup = 0, IdleWindow = TimeSpan.Zero });
    }

    private PfcpBenchReport Run(PfcpBenchOptions options)
    {
        var log = new StringWriter();
        var report = new PfcpBench(options, log).Run();
        output.WriteLine(log.ToString());
        var table = PfcpBenchCommand.Format([report]);
        output.WriteLine(table);
        Assert.Equal([PfcpBench.FloorPhase, "establishment", "modification", "deletion"], report.Phases.Select(p => p.Name));
        // The floor row compares with itself; every other row names its ratio to it.
        var floorRow = table.Split('\n').Single(l => l.Contains($"| {PfcpBench.FloorPhase} |", StringComparison.Ordinal));
        Assert.Contains("| 1.00x |", floorRow, StringComparison.Ordinal);
        Assert.All(report.Phases, p =>
        {
            Assert.Equal(Sessions, p.Requests);
            Assert.Equal(Sessions, p.Accepted);
            Assert.Empty(p.Refused);
            Assert.True(p.P50Ms <= p.P99Ms && p.P99Ms <= p.P999Ms && p.P999Ms <= p.MaxMs, $"{p.Name}: percentiles out of order");
        });
        Assert.Equal(Sessions, report.NodeSessionsAtPeak);
        Assert.Equal(Sessions, report.InstalledAtPeak);
        Assert.Equal(0, report.InstalledAtEnd);
        Assert.True(report.AllAccepted);
        Assert.True(report.HeapAtPeak > report.HeapBaseline, "holding the sessions should show in the heap");
        return report;
    }
}

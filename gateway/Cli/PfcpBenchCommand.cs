using System.CommandLine;
using System.Globalization;
using LoxiLb.Edge5G.Bench;

namespace LoxiLb.Edge5G.Cli;

/// <summary>edge5g bench-pfcp: PFCP establishments, modifications and deletions per second against the N4 node on the real maps.</summary>
public static class PfcpBenchCommand
{
    public static Command Create()
    {
        var sessions = new Option<int>("--sessions") { Description = "PDU sessions established (held at once), then modified, then deleted", DefaultValueFactory = _ => 100_000 };
        var window = new Option<string>("--window") { Description = "requests kept outstanding; comma-separated for a sweep", DefaultValueFactory = _ => "16" };
        var inMemory = new Option<bool>("--in-memory") { Description = "in-memory datapath tables instead of the kernel maps (no BPF)" };
        var noSteady = new Option<bool>("--no-steady-heap") { Description = "skip waiting for the response cache to expire before measuring the heap again" };
        var warmup = new Option<int>("--warmup") { Description = "sessions established, modified and deleted once before measuring (JIT tiers settle); 0 for a cold start", DefaultValueFactory = _ => 20_000 };
        var usageTick = new Option<double>("--usage-tick") { Description = "seconds between the node's usage checks (3600: see what the checks cost)", DefaultValueFactory = _ => 1 };
        var allocations = new Option<bool>("--allocations") { Description = "sample what each phase allocates, by type (runtime events; slows the run)" };
        usageTick.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (> 0 and <= 86_400))
                r.AddError("--usage-tick: a number of seconds, more than 0 and at most 86400");
        });
        var command = new Command("bench-pfcp", "Measure the PFCP N4 node: session establishment/modification/deletion rate and latency, memory per session")
        {
            sessions, window, inMemory, noSteady, warmup, usageTick, allocations,
        };
        command.SetAction(parse =>
        {
            var reports = new List<PfcpBenchReport>();
            foreach (var w in parse.GetValue(window)!.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var options = new PfcpBenchOptions
                {
                    Sessions = parse.GetValue(sessions),
                    Window = int.Parse(w, CultureInfo.InvariantCulture),
                    InMemory = parse.GetValue(inMemory),
                    MeasureSteadyHeap = !parse.GetValue(noSteady),
                    Warmup = parse.GetValue(warmup),
                    UsageTick = TimeSpan.FromSeconds(parse.GetValue(usageTick)),
                    Allocations = parse.GetValue(allocations),
                };
                reports.Add(new PfcpBench(options, Console.Error).Run());
            }
            Console.Out.Write(Format(reports));
            return reports.All(r => r.AllAccepted && r.InstalledAtEnd == 0) ? 0 : 1;
        });
        return command;
    }

    public static string Format(IReadOnlyList<PfcpBenchReport> reports)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        var first = reports[0];
        w.WriteLine($"{first.Options.Sessions:N0} PDU sessions (2 PDRs, 2 FARs, 1 QER, 1 URR; CHOOSE F-TEID and UE IPv4), {(first.Options.InMemory ? "in-memory tables" : "kernel maps")}, {Environment.ProcessorCount} CPUs.");
        w.WriteLine();
        w.WriteLine("| window | request | per second | p50 ms | p99 ms | p99.9 ms | max ms | CPU us/request | CPU / floor | allocated/request | GC pause | accepted | retransmitted |");
        w.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in reports)
        {
            // The Heartbeat phase of the same run: loopback, decode, encode, no session work.
            var floor = r.Phases.FirstOrDefault(p => p.Name == PfcpBench.FloorPhase);
            foreach (var p in r.Phases)
                w.WriteLine($"| {r.Options.Window} | {p.Name} | {p.PerSecond:N0} | {p.P50Ms:0.000} | {p.P99Ms:0.000} | {p.P999Ms:0.000} | {p.MaxMs:0.0} | " +
                    $"{p.CpuMicrosecondsPerRequest:N0} | {(floor is { CpuMicrosecondsPerRequest: > 0 } f ? $"{p.CpuMicrosecondsPerRequest / f.CpuMicrosecondsPerRequest:0.00}x" : "-")} | " +
                    $"{p.AllocatedPerRequest / 1024:N1} KiB | {p.GcPause.TotalMilliseconds:N0} ms ({p.GcPause.TotalSeconds / p.Elapsed.TotalSeconds:P0}) | " +
                    $"{p.Accepted:N0}/{p.Requests:N0} | {p.Retransmissions} |");
        }
        w.WriteLine();
        w.WriteLine("| window | sessions held | managed heap / session (peak, incl. response cache) | managed heap / session (steady) | GC heap at peak | kernel maps | kernel maps / session | idle CPU (sessions held) |");
        w.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in reports)
            w.WriteLine($"| {r.Options.Window} | {r.InstalledAtPeak:N0} | {r.HeapPerSessionAtPeak:N0} B | {(r.HeapPerSessionSteady is { } s ? $"{s:N0} B" : "-")} | " +
                $"{r.GcAtPeak.HeapSizeBytes / 1048576.0:N1} MiB (committed {r.GcAtPeak.TotalCommittedBytes / 1048576.0:N1} MiB) | " +
                $"{(r.Options.InMemory ? "-" : $"{r.MapMemory / 1048576.0:N1} MiB for {r.MapSessions:N0}")} | {(r.Options.InMemory ? "-" : $"{r.MapMemoryPerSession:N0} B")} | " +
                $"{r.IdleCpuPercent:N1} % of a core |");
        return w.ToString();
    }
}

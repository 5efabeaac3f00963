using System.CommandLine;
using System.Globalization;
using LoxiLb.Edge5G.Bench;

namespace LoxiLb.Edge5G.Cli;

/// <summary>edge5g bench: per-packet cost of the GTP-U datapath against a trivial XDP_TX program.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var runs = new Option<int>("--runs") { Description = "runs per case (the median is reported)", DefaultValueFactory = _ => 21 };
        var packets = new Option<int>("--packets") { Description = "packets per run", DefaultValueFactory = _ => 2_000_000 };
        var sessions = new Option<string>("--sessions") { Description = "comma-separated session counts", DefaultValueFactory = _ => "1,10000,1000000" };
        var dir = new Option<string>("--packets-dir") { Description = "folder with the benchmark pcaps", DefaultValueFactory = _ => DefaultPacketDirectory() };
        var cases = new Option<string>("--cases") { Description = $"comma-separated cases to run ({string.Join(", ", BenchOptions.CaseKeys)}); default: {string.Join(",", BenchOptions.DefaultCaseKeys)}. " +
            "The spread cases send each frame to another installed session, in shuffled order" };
        var command = new Command("bench", "Measure the GTP-U datapath per packet (live frames, baseline trivial XDP_TX)") { runs, packets, sessions, dir, cases };
        command.SetAction(parse =>
        {
            var caseList = (parse.GetValue(cases) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (caseList.FirstOrDefault(c => !BenchOptions.CaseKeys.Contains(c)) is { } unknown)
            {
                Console.Error.WriteLine($"edge5g bench: unknown case '{unknown}'; known: {string.Join(", ", BenchOptions.CaseKeys)}");
                return 2;
            }
            var options = new BenchOptions
            {
                Runs = parse.GetValue(runs),
                Packets = parse.GetValue(packets),
                SessionCounts = parse.GetValue(sessions)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
                PacketDirectory = parse.GetValue(dir),
                Cases = caseList,
            };
            var report = new DatapathBench(options, Console.Error).Run();
            Console.Out.Write(Format(report, options));
            return 0;
        });
        return command;
    }

    private static string DefaultPacketDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "LoxiLb.Edge5G.sln")))
                return Path.Combine(d.FullName, "..", "shared", "bench");
        return "../shared/bench";
    }

    // Figures to beat (../shared/bench/README.md): the peer's cost above trivial XDP_TX, live.
    private static readonly Dictionary<string, double> Peer = new()
    {
        ["uplink decap"] = 162,
        ["downlink encap"] = 181,
        ["echo reply"] = 25,
    };

    public static string Format(BenchReport report, BenchOptions options)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine($"Per-packet cost above a trivial XDP_TX behind the same restore wrapper; medians of {options.Runs} runs of {options.Packets:N0} packets.");
        w.WriteLine();
        w.WriteLine("| case | sessions | live ns/packet | trivial | above trivial (live) | program ns | above trivial (program) | target | vs 1 session | verdicts | delivered |");
        w.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in report.Rows)
        {
            // A spread row is compared with its case's single flow at the fewest sessions.
            var baseCase = row.SpreadOf ?? row.Case;
            var one = report.Rows.Where(r => r.Case == baseCase).MinBy(r => r.Sessions);
            var target = row.SpreadOf is null && Peer.TryGetValue(row.Case, out var peer) ? (row.Case == "echo reply" ? $"<= {peer:0}" : $"<= {peer / 2:0.#}") : "-";
            var ratio = one is null || one.ProgramAboveTrivial <= 0 ? "-" : $"{row.ProgramAboveTrivial / one.ProgramAboveTrivial:0.00}x";
            w.WriteLine($"| {row.Case} | {row.Sessions:N0} | {row.MedianNs:0.0} | {row.TrivialNs:0.0} | {BenchRow.Signed(row.AboveTrivial)} | {row.ProgramNs:0.0} | {BenchRow.Signed(row.ProgramAboveTrivial)} | {target} | {ratio} | {row.VerdictShare:P1} | {row.DeliveredShare:P1} |");
        }
        var spread = report.Rows.Where(r => r.SessionsReached is not null).ToArray();
        if (spread.Length > 0)
        {
            w.WriteLine();
            w.WriteLine("Spread rows: each frame goes to another installed session (shuffled order, every session once per round); " +
                        "\"vs 1 session\" compares with the single flow at the fewest sessions. Sampled sessions whose PDR counted packets: " +
                        string.Join("; ", spread.Select(r => $"{r.Case} at {r.Sessions:N0}: {r.SessionsReached:P1}")) + ".");
        }
        w.WriteLine();
        w.WriteLine("| sessions | kernel map memory per session | install time |");
        w.WriteLine("| ---: | ---: | ---: |");
        foreach (var (sessions, bytes) in report.MapBytesPerSession.OrderBy(kv => kv.Key))
            w.WriteLine($"| {sessions:N0} | {bytes:N0} B | {report.InstallTime[sessions].TotalSeconds:0.0} s |");
        return w.ToString();
    }
}

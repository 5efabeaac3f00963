using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Netlink;
using LoxiLb.Edge5G.Replay;

namespace LoxiLb.Edge5G.Bench;

public sealed record BenchOptions
{
    public int Runs { get; init; } = 21;
    public int Packets { get; init; } = 2_000_000;
    public IReadOnlyList<int> SessionCounts { get; init; } = [1, 10_000, 1_000_000];
    /// <summary>Folder with the benchmark packets (../shared/bench); built in code when absent.</summary>
    public string? PacketDirectory { get; init; }
    /// <summary>Cases to run, by key (<see cref="CaseKeys"/>); empty: <see cref="DefaultCaseKeys"/>.</summary>
    public IReadOnlyList<string> Cases { get; init; } = [];

    /// <summary>Every case; the spread ones (each frame to another session) run only when asked for.</summary>
    public static readonly string[] CaseKeys = ["uplink", "downlink", "echo", "ulcl", "uplink-spread", "downlink-spread"];
    public static readonly string[] DefaultCaseKeys = ["uplink", "downlink", "echo", "ulcl"];
}

/// <summary>
/// One measured case. Wall: per-packet time of the live run (program, transmit and the
/// receiving veth). Program: the wrapper's run time from the kernel's BPF statistics (the
/// program alone, the tail-called one included, no transmit). Both against the trivial XDP_TX.
/// The "above trivial" figures are medians of the per-run differences (each run measures the
/// trivial program and the case back to back), which cancels most of a shared VM's drift.
/// </summary>
public sealed record BenchRow(string Case, int Sessions, double MedianNs, double TrivialNs, double ProgramNs, double TrivialProgramNs,
    double AboveTrivial, double ProgramAboveTrivial, double VerdictShare, double DeliveredShare)
{
    /// <summary>Spread rows: the share of sampled sessions whose PDR counted packets (null for one flow).</summary>
    public double? SessionsReached { get; init; }

    /// <summary>Spread rows: the single-flow case they are compared with ("uplink decap").</summary>
    public string? SpreadOf { get; init; }

    /// <summary>A difference with its sign, to one decimal: "+12.3", "-4.0", "+0.0" (never "-+0.0" or "+-4.0").</summary>
    public static string Signed(double ns)
    {
        var r = Math.Round(ns, 1);
        return (r < 0 ? "-" : "+") + Math.Abs(r).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed record BenchReport(IReadOnlyList<BenchRow> Rows, IReadOnlyDictionary<int, double> MapBytesPerSession, IReadOnlyDictionary<int, TimeSpan> InstallTime);

/// <summary>
/// Per-packet cost of the GTP-U program with the live-frames method of KERNEL.md: a wrapper
/// restores the original frame and tail-calls the program; the trivial XDP_TX program runs
/// behind the same wrapper with the same frame in the same run; verdicts are checked with the
/// datapath's counters and the receiving veth's counter. Topology "on a stick" as in
/// ../shared/bench: N3 198.51.100.1/24 and N6 203.0.113.1/25 on one veth, gNB 198.51.100.2,
/// N6 router 203.0.113.2 and central UPF 198.51.100.3 as static neighbours.
/// </summary>
public sealed class DatapathBench
{
    private static readonly IPAddress N3 = IPAddress.Parse("198.51.100.1");
    private static readonly IPAddress Gnb = IPAddress.Parse("198.51.100.2");
    private static readonly IPAddress CentralUpf = IPAddress.Parse("198.51.100.3");
    private static readonly IPAddress Ue = IPAddress.Parse("192.0.2.10");
    private const uint UlTeid = 0x12345678, DlTeid = 0x87654321, UlclTeid = 0x12345677, CentralTeid = 0x00c0ffee;

    private readonly BenchOptions _options;
    private readonly TextWriter _log;

    public DatapathBench(BenchOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
        // Developer knob for cost breakdowns: EDGE5G_BENCH_TARGET=/path/obj.o:program replaces the program under test.
        if (Environment.GetEnvironmentVariable("EDGE5G_BENCH_TARGET") is { Length: > 0 } t)
        {
            var parts = t.Split(':');
            using var spec = BpfObjectSpec.OpenFile(parts[0]);
            _experiment = spec.Load();
            _experimentProgram = parts[1];
        }
    }

    private readonly BpfObject? _experiment;
    private readonly string? _experimentProgram;

    /// <summary>
    /// One measured case. Spread cases patch every frame to reach another of the subject's
    /// sessions (<see cref="SpreadPlan"/>); Pdr is the PDR id each session's packets count on.
    /// </summary>
    private sealed record Case(string Name, byte[] Frame, DatapathStat Expected, Func<int, SpreadPlan>? Spread = null, ushort Pdr = 0)
    {
        public string? SpreadOf { get; init; }
    }

    public BenchReport Run()
    {
        var frames = BenchFrames.Load(_options.PacketDirectory, _log);
        Case[] cases =
        [
            new("uplink decap", frames.Uplink, DatapathStat.ForwardUplink),
            new("downlink encap", frames.Downlink, DatapathStat.ForwardDownlink),
            new("echo reply", frames.Echo, DatapathStat.EchoReplied),
            new("ULCL N9 re-encap", BenchFrames.WithTeid(frames.Uplink, UlclTeid), DatapathStat.ForwardN9),
            new("uplink decap, spread", frames.Uplink, DatapathStat.ForwardUplink,
                n =>
                {
                    var all = SpreadSessions(n);
                    return SpreadPlan.Uplink(frames.Uplink, [.. all.Select(s => s.Teid)], [.. all.Select(s => s.Ue)]);
                },
                Pdr: 1) { SpreadOf = "uplink decap" },
            new("downlink encap, spread", frames.Downlink, DatapathStat.ForwardDownlink,
                n => SpreadPlan.Downlink(frames.Downlink, SpreadSessions(n).Select(s => s.Ue).ToArray()),
                Pdr: 2) { SpreadOf = "downlink encap" },
        ];
        var keys = _options.Cases.Count > 0 ? _options.Cases : BenchOptions.DefaultCaseKeys;
        cases = cases.Where((_, i) => keys.Contains(BenchOptions.CaseKeys[i])).ToArray();
        var rows = new List<BenchRow>();
        var memory = new Dictionary<int, double>();
        var install = new Dictionary<int, TimeSpan>();

        using var lab = new LabNetwork();
        var ns = lab.AddNamespace("bench");
        lab.AddVeth(ns, "b0", ns, "b1", ["198.51.100.1/24", "203.0.113.1/25"], []);
        ns.Run("ip", "link", "set", "b0", "address", "02:00:00:00:00:01");
        ns.Run("sysctl", "-q", "-w", "net.ipv6.conf.b0.disable_ipv6=1");
        ns.Run("sysctl", "-q", "-w", "net.ipv6.conf.b1.disable_ipv6=1");
        ns.Run("ip", "neigh", "replace", "198.51.100.2", "lladdr", "02:00:00:00:00:02", "dev", "b0", "nud", "permanent");
        ns.Run("ip", "neigh", "replace", "203.0.113.2", "lladdr", "02:00:00:00:00:03", "dev", "b0", "nud", "permanent");
        ns.Run("ip", "neigh", "replace", "198.51.100.3", "lladdr", "02:00:00:00:00:04", "dev", "b0", "nud", "permanent");
        ns.Run("ip", "route", "add", "203.0.113.128/25", "via", "203.0.113.2");
        var b0 = ns.InterfaceIndex("b0");
        var b1 = ns.InterfaceIndex("b1");

        // The receiving side counts and drops what the program under test transmits.
        using var sinkSpec = BpfObjectSpec.OpenEmbedded("common/ifcount.bpf.o");
        sinkSpec.SetConstant("verdict", (uint)XdpAction.Drop);
        var sink = lab.Own(sinkSpec.Load());
        lab.AttachXdp(ns, "b1", sink.Program("xdp_ifcount"));
        using var received = sink.PerCpuMap<uint, Counter>("if_counters");

        // Every session count is installed in its own datapath first, and each run measures all
        // of them (and the trivial program) back to back: the comparison across session counts
        // is as paired as the one with the trivial program, whatever the machine does meanwhile.
        var loaded = new List<IDisposable>();
        var subjects = new List<Subject>();
        try
        {
            // A datapath of its own with every session installed: the build under test, or (label
            // " [B]") another build with maps of its own, for A/B of map layouts.
            Subject Install(int sessions, string? objectFile, string label)
            {
                var datapath = GtpDatapath.Load(new GtpDatapathOptions
                {
                    Sessions = (uint)sessions + 2,
                    RulesPerSession = 2,
                    // TEIDs from the bench packet on, as the PFCP node allocates them: array lookups.
                    TeidBase = UlclTeid,
                    Ue4Pool = "192.0.2.0/24",
                    ObjectFile = objectFile,
                    RuleLists = 16,
                    SdfFilters = 64,
                    NextHops = 16,
                });
                loaded.Add(datapath);
                datapath.SetInterface(b0, InterfaceRoles.Access | InterfaceRoles.Core);
                datapath.AddLocalAddress(N3);
                KernelNextHops nextHops;
                using (ns.Enter())
                    nextHops = new KernelNextHops(NextHopTable.Create(16), datapath.Tables.Nexthops, IPAddress.Parse("203.0.113.200"));
                loaded.Add(nextHops);
                var table = new SessionTable(datapath.Tables, new GtpAddresses(N3), nextHops);

                var clock = Stopwatch.StartNew();
                table.Establish(BenchSession());
                table.Establish(UlclSession());
                for (int i = 1; i < sessions; i++)
                    table.Establish(FillerSession(i));
                _log.WriteLine($"[bench] {sessions} sessions installed{label} in {clock.Elapsed.TotalSeconds:0.0} s; maps {datapath.MapMemory() / 1024.0 / 1024.0:0.0} MiB");
                if (label.Length == 0)
                {
                    install[sessions] = clock.Elapsed;
                    memory[sessions] = (double)datapath.MapMemory() / sessions;
                }
                return new Subject(label, sessions, datapath, label.Length == 0 ? _experiment?.Program(_experimentProgram!) ?? datapath.Program : datapath.Program, table);
            }

            foreach (var sessions in _options.SessionCounts)
            {
                var subject = Install(sessions, Environment.GetEnvironmentVariable("EDGE5G_BENCH_GTP_OBJECT"), "");
                subjects.Add(subject);

                // Developer A/B: EDGE5G_BENCH_COMPARE=/path/gtp.bpf.o loads a second build of the
                // program over the same (pinned) maps and measures it in the same runs.
                if (LoadComparison(subject.Datapath, sessions) is { } compare)
                {
                    loaded.Add(compare);
                    subjects.Add(new Subject(" [B]", sessions, compare, compare.Program, subject.Table));
                }
                // EDGE5G_BENCH_COMPARE_MAPS=/path/gtp.bpf.o: a second build with maps of its own
                // (map flags or sizes differ; the entries' layout must be this build's), the same
                // sessions installed, measured in the same runs.
                else if (Environment.GetEnvironmentVariable("EDGE5G_BENCH_COMPARE_MAPS") is { Length: > 0 } other)
                {
                    subjects.Add(Install(sessions, other, " [B]"));
                }
            }
            foreach (var c in cases)
                rows.AddRange(Measure(c, subjects, ns, b0, b1, received));
        }
        finally
        {
            for (int i = loaded.Count - 1; i >= 0; i--)
                loaded[i].Dispose();
            foreach (var sessions in _options.SessionCounts)
                if (Directory.Exists(ComparePins(sessions)))
                    BpfPins.RemoveTree(ComparePins(sessions));
        }
        return new BenchReport(rows, memory, install);
    }

    /// <summary>A program measured: the datapath holding the sessions, and the build that runs over its maps.</summary>
    private sealed record Subject(string Label, int Sessions, GtpDatapath Datapath, BpfProgram Program, SessionTable Table);

    private static string ComparePins(int sessions) => $"/sys/fs/bpf/e5g-bench-{Environment.ProcessId}-{sessions}";

    private static GtpDatapath? LoadComparison(GtpDatapath datapath, int sessions)
    {
        if (Environment.GetEnvironmentVariable("EDGE5G_BENCH_COMPARE") is not { Length: > 0 } file)
            return null;
        Directory.CreateDirectory(ComparePins(sessions));
        datapath.PinMaps(ComparePins(sessions));
        return GtpDatapath.Load(datapath.Options with { ObjectFile = file }, adoptMapsFrom: ComparePins(sessions));
    }

    private sealed class Series
    {
        public readonly List<double> Wall = [], Program = [], TrivialWall = [], TrivialProgram = [], WallAbove = [], ProgramAbove = [];
        public long Expected, Counted, Delivered;
    }

    /// <summary>
    /// A wrapper instance: the restore wrapper, the trivial program behind it and the slot the
    /// program under test goes in. Spread cases load one per session count, with that count's
    /// patches, and measure the trivial program behind each (the patching cancels too).
    /// </summary>
    private sealed class Harness : IDisposable
    {
        private readonly BpfObject _wrapper;
        public BpfMap<uint, uint> Target { get; }
        public BpfProgram Bench { get; }
        public BpfProgram Trivial { get; }
        public List<int> Subjects { get; } = [];

        public Harness(byte[] frame, SpreadPlan? plan)
        {
            using var spec = BpfObjectSpec.OpenEmbedded("common/bench.bpf.o");
            spec.SetConstant("frame_len", (uint)frame.Length);
            if (plan is not null)
            {
                spec.SetMaxEntries("bench_spread", (uint)plan.Patches.Length);
                spec.SetConstant("spread_count", (uint)plan.Patches.Length);
                spec.SetConstant("spread_off", (uint)plan.Offset);
                spec.SetConstant("spread_len", (uint)plan.Length);
            }
            _wrapper = spec.Load();
            using (var frameMap = _wrapper.Map<uint, BenchFrameValue>("bench_frame"))
                frameMap.Update(0, BenchFrameValue.From(frame));
            if (plan is not null)
            {
                using var patches = _wrapper.Map<uint, BenchPatch>("bench_spread");
                var keys = Enumerable.Range(0, plan.Patches.Length).Select(i => (uint)i).ToArray();
                const int chunk = 65_536;
                for (int i = 0; i < keys.Length; i += chunk)
                {
                    int n = Math.Min(chunk, keys.Length - i);
                    patches.UpdateBatch(keys.AsSpan(i, n), plan.Patches.AsSpan(i, n));
                }
            }
            Target = _wrapper.Map<uint, uint>("bench_target");
            Bench = _wrapper.Program("xdp_bench");
            Trivial = _wrapper.Program("xdp_trivial_tx");
        }

        public void Dispose()
        {
            Target.Dispose();
            _wrapper.Dispose();
        }
    }

    private List<BenchRow> Measure(Case c, List<Subject> subjects, NetworkNamespace ns, int ingress, int receiver, BpfPerCpuMap<uint, Counter> received)
    {
        // A spread needs sessions to spread over.
        var measured = c.Spread is null ? subjects : subjects.Where(s => s.Sessions > 1).ToList();
        if (measured.Count == 0)
            return [];
        var harnesses = new List<Harness>();
        try
        {
            if (c.Spread is null)
            {
                harnesses.Add(new Harness(c.Frame, null));
                harnesses[0].Subjects.AddRange(Enumerable.Range(0, measured.Count));
            }
            else
            {
                foreach (var group in measured.Select((s, i) => (s, i)).GroupBy(x => x.s.Sessions))
                {
                    var harness = new Harness(c.Frame, c.Spread(group.Key));
                    harnesses.Add(harness);
                    harness.Subjects.AddRange(group.Select(x => x.i));
                }
            }
            return Measure(c, measured, harnesses, ns, ingress, receiver, received);
        }
        finally
        {
            foreach (var h in harnesses)
                h.Dispose();
        }
    }

    private List<BenchRow> Measure(Case c, List<Subject> subjects, List<Harness> harnesses, NetworkNamespace ns, int ingress, int receiver,
        BpfPerCpuMap<uint, Counter> received)
    {
        // The slots of a run: each harness's trivial program (subject -1), then its subjects.
        var slots = harnesses.SelectMany(h => new[] { (Harness: h, Subject: -1) }.Concat(h.Subjects.Select(i => (Harness: h, Subject: i)))).ToArray();
        var series = subjects.Select(_ => new Series()).ToArray();
        var spreadFrom = subjects.Select(s => ReachedBefore(c, s)).ToArray();
        // One unmeasured run of each first: page pools, caches and the CPU's clock warm up
        // (the first case of a bench otherwise reads slower than the same case later).
        foreach (var (h, i) in slots)
        {
            h.Target.Update(0, (uint)(i < 0 ? h.Trivial : subjects[i].Program).Fd);
            Time(h.Bench, c.Frame, ns, ingress);
        }
        for (int run = 0; run < _options.Runs; run++)
        {
            // Each run measures every trivial program and every subject back to back, starting
            // with a different one each run, so drift within a run favours none of them.
            var trivial = new Dictionary<Harness, (double Wall, double Program)>();
            var results = new (double Wall, double Program)[subjects.Count];
            for (int k = 0; k < slots.Length; k++)
            {
                var (h, i) = slots[(run + k) % slots.Length];
                if (i < 0)
                {
                    h.Target.Update(0, (uint)h.Trivial.Fd);
                    trivial[h] = Time(h.Bench, c.Frame, ns, ingress);
                    continue;
                }
                var s = series[i];
                var subject = subjects[i];
                h.Target.Update(0, (uint)subject.Program.Fd);
                var statBefore = subject.Datapath.Stat(c.Expected).Packets;
                var receivedBefore = Total(received, receiver);
                results[i] = Time(h.Bench, c.Frame, ns, ingress);
                s.Expected += _options.Packets;
                s.Counted += (long)(subject.Datapath.Stat(c.Expected).Packets - statBefore);
                s.Delivered += (long)(Total(received, receiver) - receivedBefore);
            }
            foreach (var h in harnesses)
                foreach (var i in h.Subjects)
                {
                    var s = series[i];
                    var (trivialWall, trivialProg) = trivial[h];
                    s.TrivialWall.Add(trivialWall);
                    s.TrivialProgram.Add(trivialProg);
                    s.Wall.Add(results[i].Wall);
                    s.Program.Add(results[i].Program);
                    s.WallAbove.Add(results[i].Wall - trivialWall);
                    s.ProgramAbove.Add(results[i].Program - trivialProg);
                }
        }
        var rows = new List<BenchRow>();
        for (int i = 0; i < subjects.Count; i++)
        {
            var s = series[i];
            var sessions = subjects[i].Sessions;
            var row = new BenchRow(c.Name + subjects[i].Label, sessions, Median(s.Wall), Median(s.TrivialWall), Median(s.Program),
                Median(s.TrivialProgram), Median(s.WallAbove), Median(s.ProgramAbove), (double)s.Counted / s.Expected,
                (double)s.Delivered / s.Expected)
            {
                SpreadOf = c.SpreadOf,
                SessionsReached = c.Spread is null ? null : Reached(c, subjects[i], spreadFrom[i]),
            };
            var reached = row.SessionsReached is { } r ? $", sessions reached {r:P1} of {spreadFrom[i].Length} sampled" : "";
            _log.WriteLine($"[bench] {row.Case,-22} {sessions,9} sessions: wall {row.MedianNs,6:0.0} ns (trivial {row.TrivialNs,6:0.0}, {BenchRow.Signed(row.AboveTrivial)}); " +
                           $"program {row.ProgramNs,5:0.0} ns (trivial {row.TrivialProgramNs,4:0.0}, {BenchRow.Signed(row.ProgramAboveTrivial)}); verdicts {row.VerdictShare:P1}, delivered {row.DeliveredShare:P1}{reached}");
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Sessions sampled to show a spread run reached them (up to 256, evenly over all).</summary>
    private const int SpreadSample = 256;

    /// <summary>The sampled sessions' packet counts on the case's PDR before the runs (none for one flow).</summary>
    private static (ulong Seid, ulong Packets)[] ReachedBefore(Case c, Subject subject)
    {
        if (c.Spread is null)
            return [];
        int n = subject.Sessions, step = Math.Max(1, n / SpreadSample);
        return Enumerable.Range(0, n).Where(i => i % step == 0).Take(SpreadSample)
            .Select(i => SpreadSeid(i)).Select(seid => (seid, PdrPackets(subject, seid, c.Pdr))).ToArray();
    }

    /// <summary>The share of the sampled sessions whose PDR counted packets during the runs.</summary>
    private static double Reached(Case c, Subject subject, (ulong Seid, ulong Packets)[] before) =>
        before.Length == 0 ? 0 : (double)before.Count(b => PdrPackets(subject, b.Seid, c.Pdr) > b.Packets) / before.Length;

    private static ulong PdrPackets(Subject subject, ulong seid, ushort pdr)
    {
        if (!subject.Table.TryGet(seid, out var session) || !session.PdrStats.TryGetValue(pdr, out var index))
            throw new InvalidOperationException($"session {seid} has no PDR {pdr}");
        return Counter.Sum(subject.Datapath.Tables.PdrStats.Read(index)).Packets;
    }

    /// <summary>Wall nanoseconds per packet of a live run, and the program's own run time per packet.</summary>
    private (double Wall, double Program) Time(BpfProgram program, byte[] frame, NetworkNamespace ns, int ingress)
    {
        using (ns.Enter())
        {
            using var stats = new BpfRunStats();
            var before = program.RunStats();
            var clock = Stopwatch.StartNew();
            ProgramTestRun.RunLive(program, frame, ingress, _options.Packets);
            var wall = clock.Elapsed.TotalNanoseconds / _options.Packets;
            var after = program.RunStats();
            var runs = after.RunCount - before.RunCount;
            return (wall, runs == 0 ? double.NaN : (double)(after.RunTimeNs - before.RunTimeNs) / runs);
        }
    }

    private static ulong Total(BpfPerCpuMap<uint, Counter> map, int ifindex) =>
        map.TryLookup((uint)ifindex, out var perCpu) ? Counter.Sum(perCpu).Packets : 0;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The session of ../shared/bench: TEID 0x12345678 up, 0x87654321 down with QFI 9.</summary>
    private static Session BenchSession() => new(1,
        [
            new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(UlTeid, N3), UeIpv4: Ue), FarId: 1, RemoveOuterHeader: true, QerIds: [1]),
            new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv4: Ue), FarId: 2, QerIds: [1]),
        ],
        [
            new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
            new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(DlTeid, Gnb))),
        ],
        [new Qer(1, Qfi: 9)]);

    /// <summary>An uplink classifier: the local network is 203.0.113.0/25, the rest goes over N9.</summary>
    private static Session UlclSession() => new(2,
        [
            new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(UlclTeid, N3), UeIpv4: Ue,
                SdfFilters: [new SdfFilter("permit out ip from 203.0.113.0/25 to assigned")]), FarId: 1, RemoveOuterHeader: true),
            new Pdr(2, 200, new Pdi(InterfaceType.Access, new FTeid(UlclTeid, N3), UeIpv4: Ue), FarId: 2, RemoveOuterHeader: true),
        ],
        [
            new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
            new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core, new OuterHeaderCreation(CentralTeid, CentralUpf))),
        ]);

    /// <summary>Session i of a spread over n: the bench session, then the fillers.</summary>
    private static ulong SpreadSeid(int i) => i == 0 ? 1UL : 1000UL + (ulong)i;

    /// <summary>The uplink TEID and UE address of every session a spread over n reaches, in SpreadSeid order.</summary>
    private static (uint Teid, IPAddress Ue)[] SpreadSessions(int n) =>
        Enumerable.Range(0, n).Select(i => i == 0 ? (UlTeid, Ue) : (FillerTeid(i), FillerUe(i))).ToArray();

    private static uint FillerTeid(int i) => UlTeid + 1 + (uint)i;

    private static IPAddress FillerUe(int i) => new(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i });

    /// <summary>Other sessions: their UE addresses (10.x) and TEIDs exist only in the maps; single-flow runs send them nothing, spread runs all of them.</summary>
    private static Session FillerSession(int i)
    {
        var ue = FillerUe(i);
        return new Session(SpreadSeid(i),
            [
                new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(FillerTeid(i), N3), UeIpv4: ue), FarId: 1, RemoveOuterHeader: true, QerIds: [1]),
                new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv4: ue), FarId: 2, QerIds: [1]),
            ],
            [
                new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core)),
                new Far(2, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Access, new OuterHeaderCreation(0x40000000u + (uint)i, Gnb))),
            ],
            [new Qer(1, Qfi: 9)]);
    }
}

/// <summary>Value of the wrapper's bench_frame map: up to 2048 bytes of frame.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
public unsafe struct BenchFrameValue
{
    public fixed byte Bytes[2048];

    public static BenchFrameValue From(ReadOnlySpan<byte> frame)
    {
        var v = new BenchFrameValue();
        frame.CopyTo(new Span<byte>(v.Bytes, 2048));
        return v;
    }
}

/// <summary>The benchmark packets of ../shared/bench, or the same frames built here.</summary>
public sealed record BenchFrames(byte[] Uplink, byte[] Downlink, byte[] Echo)
{
    public static BenchFrames Load(string? directory, TextWriter log)
    {
        if (directory is not null && File.Exists(Path.Combine(directory, "ul-gtpu-psc-qfi9-udp64.pcap")))
        {
            log.WriteLine($"[bench] packets from {Path.GetFullPath(directory)}");
            byte[] One(string file) => PcapFile.Read(Path.Combine(directory, file)).Single().Data;
            return new BenchFrames(One("ul-gtpu-psc-qfi9-udp64.pcap"), One("dl-ipv4-udp64.pcap"), One("echo-req.pcap"));
        }
        throw new FileNotFoundException($"benchmark packets not found in '{directory}' (expected ul-gtpu-psc-qfi9-udp64.pcap, dl-ipv4-udp64.pcap, echo-req.pcap)");
    }

    /// <summary>The uplink frame with another TEID and its UDP checksum redone.</summary>
    public static byte[] WithTeid(byte[] uplink, uint teid)
    {
        var frame = uplink.ToArray();
        const int udp = 14 + 20, gtp = udp + 8;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(gtp + 4), teid);
        var length = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(udp + 4));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(udp + 6), 0);
        var pseudo = new byte[12 + length];
        frame.AsSpan(14 + 12, 8).CopyTo(pseudo);
        pseudo[9] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), length);
        frame.AsSpan(udp, length).CopyTo(pseudo.AsSpan(12));
        var sum = Gtpu.InetChecksum.Compute(pseudo);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(udp + 6), sum == 0 ? (ushort)0xffff : sum);
        return frame;
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Pfcp.Rules;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoxiLb.Edge5G.Bench;

public sealed record PfcpBenchOptions
{
    /// <summary>PDU sessions established (all held at once), then modified, then deleted.</summary>
    public int Sessions { get; init; } = 100_000;
    /// <summary>Requests the SMF keeps outstanding (pipelining).</summary>
    public int Window { get; init; } = 16;
    /// <summary>In-memory datapath tables instead of the kernel maps (no BPF needed; for tests).</summary>
    public bool InMemory { get; init; }
    /// <summary>The generator retransmits a request unanswered for this long (its T1).</summary>
    public TimeSpan T1 { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long the node keeps answers for retransmissions; the steady heap is measured after it.</summary>
    public TimeSpan ResponseCacheTime { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Wait for the response cache to expire and measure the heap again (seconds of idle time).</summary>
    public bool MeasureSteadyHeap { get; init; } = true;
    /// <summary>Sessions established, modified and deleted once before measuring, so the JIT's tiers
    /// (instrumented, then optimised code) have settled as in a gateway that has run for a while.
    /// 0: measure from a cold start.</summary>
    public int Warmup { get; init; } = 20_000;
    /// <summary>How long the held sessions are watched with no request, for the idle CPU (zero: not measured).</summary>
    public TimeSpan IdleWindow { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>The node's usage check period (its default, 1 s); a long one shows what the checks cost.</summary>
    public TimeSpan UsageTick { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Sample what each phase allocates, by type (verbose runtime events: slows the run).</summary>
    public bool Allocations { get; init; }
}

/// <summary>One phase: every request of one type, pipelined.</summary>
public sealed record PfcpPhaseResult(string Name, int Requests, int Accepted, IReadOnlyDictionary<byte, int> Refused, TimeSpan Elapsed,
    double P50Ms, double P99Ms, double P999Ms, double MaxMs, int Retransmissions)
{
    /// <summary>Bytes allocated per request in the whole process (node and generator).</summary>
    public double AllocatedPerRequest { get; init; }
    public int Gen0 { get; init; }
    public int Gen1 { get; init; }
    public int Gen2 { get; init; }
    public TimeSpan GcPause { get; init; }
    /// <summary>The collections by generation, kind and trigger, as the runtime reported them.</summary>
    public string GcTriggers { get; init; } = "";
    /// <summary>Sampled allocations by type (only with <see cref="PfcpBenchOptions.Allocations"/>).</summary>
    public string? AllocationsByType { get; init; }
    /// <summary>CPU time (user + system) of the whole process per request: node, generator, GC.</summary>
    public double CpuMicrosecondsPerRequest { get; init; }

    public double PerSecond => Requests / Elapsed.TotalSeconds;
}

public sealed record PfcpBenchReport(
    PfcpBenchOptions Options,
    IReadOnlyList<PfcpPhaseResult> Phases,
    int NodeSessionsAtPeak,
    int InstalledAtPeak,
    int InstalledAtEnd,
    long HeapBaseline,
    long HeapAtPeak,
    long? HeapSteady,
    GCMemoryInfo GcAtPeak,
    long MapMemory,
    uint MapSessions,
    IReadOnlyDictionary<string, long> NodeDropped)
{
    /// <summary>CPU of the whole process while the sessions are held and no request arrives (usage checks,
    /// timers), in percent of one core, over <see cref="PfcpBenchOptions.IdleWindow"/>.</summary>
    public double IdleCpuPercent { get; init; }

    public double HeapPerSessionAtPeak => (double)(HeapAtPeak - HeapBaseline) / Options.Sessions;
    public double? HeapPerSessionSteady => HeapSteady is { } s ? (double)(s - HeapBaseline) / Options.Sessions : null;
    public double MapMemoryPerSession => (double)MapMemory / Options.Sessions;
    public bool AllAccepted => Phases.All(p => p.Accepted == p.Requests);
}

/// <summary>
/// PFCP load on the N4 node: the node runs over the real datapath maps (GtpDatapath.Load, no
/// interfaces attached) and listens on 127.0.0.1; an SMF load generator over loopback UDP
/// associates, establishes N PDU sessions like an SMF does (CHOOSE F-TEID with a CHOOSE ID,
/// CHOOSE UE IPv4, 2 PDRs, 2 FARs, 1 QER, 1 URR with a volume threshold), modifies each one
/// (the gNB's F-TEID: FAR 2 from BUFF to FORW with GTP-U) and deletes them, keeping a window
/// of requests outstanding. Requests are encoded once with the codec and patched per session
/// (sequence number, SEIDs, gNB TEID) so the generator stays cheap; answers are read with a
/// small TLV walk (Cause, F-SEID).
/// </summary>
public sealed class PfcpBench(PfcpBenchOptions options, TextWriter log)
{
    private const string SmfName = "smf.bench.edge5g";
    private static readonly IPAddress N3 = IPAddress.Parse("198.51.100.1");
    private static readonly IPAddress Gnb = IPAddress.Parse("198.51.100.2");
    private const ulong SeidMarker = 0x5eed_5eed_5eed_5eedUL;
    private const uint TeidMarker = 0x7e1d7e1d;

    /// <summary>Name of the Heartbeat phase every other phase is compared with.</summary>
    public const string FloorPhase = "heartbeat (floor)";

    public PfcpBenchReport Run()
    {
        if (options.Sessions is < 1 or > 4_000_000)
            throw new ArgumentOutOfRangeException(nameof(options), options.Sessions, "sessions: 1 to 4,000,000");
        if (options.Warmup < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Warmup, "warmup: 0 or more sessions");
        if (options.Window < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Window, "window: at least 1");
        var n = options.Sessions;
        // Room for the slots a modification writes while the old ones sit in quarantine.
        var mapSessions = (uint)(n + Math.Max(n / 4, 8192));
        GtpDatapath? datapath = null;
        DatapathTables tables;
        if (options.InMemory)
        {
            tables = DatapathTables.InMemory(mapSessions, ruleLists: mapSessions, sdfFilters: mapSessions);
        }
        else
        {
            // An uplink PDR with a QFI in its PDI (every real SMF sends one) is matched through a
            // rule list with a UE-source filter, not directly: one rule list and one SDF filter per session.
            datapath = GtpDatapath.Load(new GtpDatapathOptions { Sessions = mapSessions, RuleLists = mapSessions, SdfFilters = mapSessions, NextHops = 64 });
            tables = datapath.Tables;
        }
        try
        {
            var table = new SessionTable(tables, new GtpAddresses(N3));
            var settings = new PfcpNodeSettings
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                NodeId = NodeId.FromFqdn("upf.bench.edge5g"),
                Peers = [Cidr.Parse("127.0.0.0/8")],
                UePools = [Cidr.Parse("10.0.0.0/8")],
                HeartbeatInterval = TimeSpan.FromHours(1),
                ResponseCacheTime = options.ResponseCacheTime,
                UsageTick = options.UsageTick,
            };
            using var node = new PfcpNode(settings, table, tables, NullLogger.Instance);
            node.Start();
            using var smf = new Generator(node.LocalEndpoint!, options);
            log.WriteLine($"[bench-pfcp] node on {node.LocalEndpoint}, {(datapath is null ? "in-memory tables" : $"kernel maps sized for {mapSessions:N0} sessions")}, {n:N0} sessions, window {options.Window}");

            smf.Associate();
            if (options.Warmup > 0)
            {
                // One whole cycle on the first sessions' identities; they are all deleted again.
                var w = Math.Min(options.Warmup, n);
                var cycle = new[] { smf.Phase("warm-up establishment", w, smf.Establishment, expectSeid: true),
                    smf.Phase("warm-up modification", w, smf.Modification, expectSeid: false),
                    smf.Phase("warm-up deletion", w, smf.Deletion, expectSeid: false) };
                foreach (var p in cycle)
                    log.WriteLine($"[bench-pfcp] {Line(p)}");
                if (cycle.Any(p => p.Accepted != p.Requests) || table.Count != 0)
                    throw new InvalidOperationException($"warm-up: {string.Join(", ", cycle.Select(p => $"{p.Name} {p.Accepted:N0}/{p.Requests:N0}"))}, {table.Count:N0} sessions left installed");
            }
            // The floor: the same loopback round trip, decode and encode with no session work
            // (Heartbeat Request/Response), so each phase's cost reads against it.
            var floor = smf.Phase(FloorPhase, n, smf.Heartbeat, expectSeid: false, causeless: true);
            log.WriteLine($"[bench-pfcp] {Line(floor)}");
            var heapBaseline = Heap();

            var establish = smf.Phase("establishment", n, smf.Establishment, expectSeid: true);
            log.WriteLine($"[bench-pfcp] {Line(establish)}");
            var heapAtPeak = Heap();
            var gc = GC.GetGCMemoryInfo(GCKind.Any);
            var nodeSessions = node.Sessions().Count;
            var installed = table.Count;
            var mapMemory = datapath?.MapMemory() ?? 0;
            long? heapSteady = null;
            if (options.MeasureSteadyHeap)
            {
                Thread.Sleep(options.ResponseCacheTime + TimeSpan.FromSeconds(1.5));
                heapSteady = Heap();
            }
            // What holding the sessions costs with no request coming: the per-second usage checks
            // (after the answer cache has expired when the steady heap was measured; otherwise its
            // expiry falls in the window too).
            double idleCpu = 0;
            if (options.IdleWindow > TimeSpan.Zero)
            {
                var idleFrom = Process.GetCurrentProcess().TotalProcessorTime;
                var (ticksFrom, tickTimeFrom) = (node.Counters.UsageTicks, node.Counters.UsageTickTime);
                node.Counters.TakeLongestUsageTick();
                Thread.Sleep(options.IdleWindow);
                idleCpu = (Process.GetCurrentProcess().TotalProcessorTime - idleFrom) / options.IdleWindow * 100;
                var ticks = node.Counters.UsageTicks - ticksFrom;
                var tickTime = node.Counters.UsageTickTime - tickTimeFrom;
                log.WriteLine($"[bench-pfcp] idle with {n:N0} sessions held: {idleCpu:N1} % of one core; " +
                    $"{ticks} usage checks of {(ticks == 0 ? 0 : tickTime.TotalMilliseconds / ticks):N1} ms on average, the longest {node.Counters.TakeLongestUsageTick().TotalMilliseconds:N1} ms");
            }
            log.WriteLine($"[bench-pfcp] {nodeSessions:N0} sessions in the node, {installed:N0} installed; heap +{(heapAtPeak - heapBaseline) / (double)n:N0} B/session at peak" +
                (heapSteady is { } s ? $", +{(s - heapBaseline) / (double)n:N0} B/session steady" : "") + (datapath is null ? "" : $"; maps {mapMemory / 1048576.0:N1} MiB"));

            var modify = smf.Phase("modification", n, smf.Modification, expectSeid: false);
            log.WriteLine($"[bench-pfcp] {Line(modify)}");
            var delete = smf.Phase("deletion", n, smf.Deletion, expectSeid: false);
            log.WriteLine($"[bench-pfcp] {Line(delete)}");

            return new PfcpBenchReport(options, [floor, establish, modify, delete], nodeSessions, installed, table.Count,
                heapBaseline, heapAtPeak, heapSteady, gc, mapMemory, mapSessions,
                node.Counters.DroppedByReason.ToDictionary(p => p.Key, p => p.Value))
            {
                IdleCpuPercent = idleCpu,
            };
        }
        finally
        {
            datapath?.Dispose();
        }
    }

    private static string Line(PfcpPhaseResult p) =>
        $"{p.Name}: {p.Requests:N0} in {p.Elapsed.TotalSeconds:0.00} s = {p.PerSecond:N0}/s, p50 {p.P50Ms:0.000} ms, p99 {p.P99Ms:0.000} ms, p99.9 {p.P999Ms:0.000} ms, max {p.MaxMs:0.0} ms, " +
        $"CPU {p.CpuMicrosecondsPerRequest:N0} us/request, GC {p.Gen0}/{p.Gen1}/{p.Gen2} pause {p.GcPause.TotalMilliseconds:N0} ms, {p.AllocatedPerRequest:N0} B allocated/request, " +
        $"accepted {p.Accepted:N0}{string.Concat(p.Refused.Select(r => $", cause {r.Key} x{r.Value}"))}{(p.Retransmissions > 0 ? $", {p.Retransmissions} retransmitted" : "")}; " +
        $"collections: {p.GcTriggers}" + (p.AllocationsByType is { } a ? $"; allocated by type: {a}" : "");

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The SMF: one connected UDP socket, request templates, per-session state in arrays.</summary>
    private sealed class Generator : IDisposable
    {
        private readonly Socket _socket;
        private readonly PfcpBenchOptions _options;
        private readonly byte[] _buffer = new byte[65536];
        private readonly ulong[] _upSeids;
        private readonly long[] _firstSent;
        private readonly long[] _lastSent;
        private readonly long[] _latency;
        private readonly bool[] _done;
        private readonly byte[] _establishment, _modification, _deletion, _heartbeat;
        /// <summary>Our Recovery Time Stamp: the association's, repeated in every Heartbeat so none purges.</summary>
        private readonly DateTime _recovery = DateTime.UtcNow.AddTicks(-(DateTime.UtcNow.Ticks % TimeSpan.TicksPerSecond));
        private readonly int _cpSeidAt, _teidAt;
        private uint _sequenceBase = 1;
        private readonly GcTriggers _gcTriggers = new();
        private readonly AllocationSampler? _allocations;

        public Generator(IPEndPoint node, PfcpBenchOptions options)
        {
            _options = options;
            _allocations = options.Allocations ? new AllocationSampler() : null;
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _socket.Connect(node);
            _socket.ReceiveBufferSize = 8 << 20;
            _socket.SendBufferSize = 8 << 20;
            _socket.ReceiveTimeout = 50;
            var n = options.Sessions;
            _upSeids = new ulong[n];
            _firstSent = new long[n];
            _lastSent = new long[n];
            _latency = new long[n];
            _done = new bool[n];

            _establishment = PfcpCodec.Encode(EstablishmentTemplate(), 0, seid: 0);
            _cpSeidAt = Find(_establishment, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(SeidMarker) : SeidMarker);
            _modification = PfcpCodec.Encode(ModificationTemplate(), 0, seid: 0);
            _teidAt = Find(_modification, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(TeidMarker) : TeidMarker);
            _deletion = PfcpCodec.Encode(new SessionDeletionRequest(), 0, seid: 0);
            _heartbeat = PfcpCodec.Encode(new HeartbeatRequest(_recovery), 0);
        }

        private static int Find<T>(byte[] message, T marker) where T : unmanaged
        {
            var pattern = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in marker));
            var at = message.AsSpan().IndexOf(pattern);
            if (at < 0)
                throw new InvalidOperationException("marker not found in the encoded template");
            return at;
        }

        /// <summary>A PDU session as SMFs set it up before the gNB is known.</summary>
        private static SessionEstablishmentRequest EstablishmentTemplate() =>
            new(NodeId.FromFqdn(SmfName), new FSeid(SeidMarker, IPAddress.Loopback),
                [
                    new CreatePdr(1, new Pdi(SourceInterface.Access)
                    {
                        LocalFTeid = FTeid.ChooseByUp(chooseId: 1),
                        NetworkInstance = DnsName.FromLabels("internet"),
                        UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true }],
                        Qfis = [9],
                    })
                    {
                        Precedence = 255, FarId = 1, QerIds = [1], UrrIds = [1],
                        OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
                    },
                    new CreatePdr(2, new Pdi(SourceInterface.Core)
                    {
                        NetworkInstance = DnsName.FromLabels("internet"),
                        UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true, IsDestination = true }],
                    })
                    {
                        Precedence = 255, FarId = 2, QerIds = [1], UrrIds = [1],
                    },
                ],
                [
                    new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) { NetworkInstance = DnsName.FromLabels("internet") } },
                    new CreateFar(2, ApplyActionFlags.Buff | ApplyActionFlags.Nocp),
                ])
            {
                CreateQers = [new CreateQer(1, GateStatus.Open) { Mbr = new BitRate(1_000_000, 2_000_000), Qfi = 9 }],
                CreateUrrs = [new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volth))
                {
                    VolumeThreshold = new Volume(Total: 100UL << 20),
                }],
                PdnType = Pfcp.Ies.PdnType.Ipv4,
            };

        private static SessionModificationRequest ModificationTemplate() => new()
        {
            UpdateFars = [new UpdateFar(2)
            {
                ApplyAction = ApplyActionFlags.Forw,
                UpdateForwardingParameters = new UpdateForwardingParameters
                {
                    DestinationInterface = DestinationInterface.Access,
                    NetworkInstance = DnsName.FromLabels("internet"),
                    OuterHeaderCreation = OuterHeaderCreation.GtpuIpv4(TeidMarker, Gnb),
                },
            }],
        };

        public void Associate()
        {
            var request = PfcpCodec.Encode(new AssociationSetupRequest(NodeId.FromFqdn(SmfName), _recovery), 0xfffff0);
            for (var attempt = 0; attempt < 3; attempt++)
            {
                _socket.Send(request);
                var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    if (Receive() is not { } n)
                        continue;
                    if (PfcpCodec.Decode(_buffer.AsSpan(0, n)) is PfcpDecoded { Body: AssociationSetupResponse r })
                    {
                        if (r.Cause != PfcpCause.RequestAccepted)
                            throw new InvalidOperationException($"association refused: {r.Cause}");
                        return;
                    }
                }
            }
            throw new TimeoutException("the node did not answer the Association Setup Request");
        }

        private int? Receive()
        {
            try
            {
                return _socket.Receive(_buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                return null;
            }
        }

        public int Establishment(int i, uint sequence, Span<byte> into)
        {
            _establishment.CopyTo(into);
            BinaryPrimitives.WriteUInt64BigEndian(into[_cpSeidAt..], (ulong)i + 1);
            Header(into, 0, sequence);
            return _establishment.Length;
        }

        public int Modification(int i, uint sequence, Span<byte> into)
        {
            _modification.CopyTo(into);
            BinaryPrimitives.WriteUInt32BigEndian(into[_teidAt..], (uint)i + 1);
            Header(into, _upSeids[i], sequence);
            return _modification.Length;
        }

        public int Deletion(int i, uint sequence, Span<byte> into)
        {
            _deletion.CopyTo(into);
            Header(into, _upSeids[i], sequence);
            return _deletion.Length;
        }

        public int Heartbeat(int i, uint sequence, Span<byte> into)
        {
            _heartbeat.CopyTo(into);
            Sequence(into[4..], sequence); // no SEID: the sequence number follows the length
            return _heartbeat.Length;
        }

        private static void Header(Span<byte> message, ulong seid, uint sequence)
        {
            BinaryPrimitives.WriteUInt64BigEndian(message[4..], seid);
            Sequence(message[12..], sequence);
        }

        /// <summary>The 24-bit sequence number, big-endian.</summary>
        private static void Sequence(Span<byte> at, uint sequence)
        {
            at[0] = (byte)(sequence >> 16);
            at[1] = (byte)(sequence >> 8);
            at[2] = (byte)sequence;
        }

        public delegate int Builder(int session, uint sequence, Span<byte> into);

        /// <summary>
        /// Sends request i for every session with at most Window outstanding; collects the answers.
        /// A <paramref name="causeless"/> answer (Heartbeat Response) counts as accepted by its type.
        /// </summary>
        public PfcpPhaseResult Phase(string name, int n, Builder build, bool expectSeid, bool causeless = false)
        {
            Array.Clear(_done);
            Array.Clear(_latency);
            var sequenceBase = _sequenceBase;
            _sequenceBase += (uint)n + 16;
            var send = new byte[4096];
            var outstanding = new Queue<int>();
            var refused = new Dictionary<byte, int>();
            int next = 0, completed = 0, accepted = 0, retransmissions = 0;
            var t1 = (long)(_options.T1.TotalSeconds * Stopwatch.Frequency);
            _gcTriggers.TakeSummary();
            _allocations?.TakeSummary(1);
            var allocated = GC.GetTotalAllocatedBytes(precise: false);
            var (gen0, gen1, gen2, pause) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            var lastProgress = started;
            while (completed < n)
            {
                while (next < n && outstanding.Count < _options.Window)
                {
                    var length = build(next, sequenceBase + (uint)next, send);
                    var now = Stopwatch.GetTimestamp();
                    _firstSent[next] = _lastSent[next] = now;
                    _socket.Send(send.AsSpan(0, length));
                    outstanding.Enqueue(next++);
                }
                if (Receive() is { } got)
                {
                    var received = Stopwatch.GetTimestamp();
                    var answer = _buffer.AsSpan(0, got);
                    if (!Parse(answer, out var type, out var sequence, out var cause, out var upSeid))
                        continue;
                    if (((PfcpMessageType)type).IsRequest())
                        continue; // the node's own requests (none expected: heartbeats are hours apart)
                    var i = (long)sequence - sequenceBase;
                    if (i < 0 || i >= n || _done[i])
                        continue; // a late duplicate
                    _done[i] = true;
                    _latency[i] = received - _firstSent[i];
                    completed++;
                    lastProgress = received;
                    if (causeless ? type == (byte)PfcpMessageType.HeartbeatResponse : cause == (byte)PfcpCause.RequestAccepted)
                    {
                        accepted++;
                        if (expectSeid)
                            _upSeids[i] = upSeid;
                    }
                    else
                    {
                        refused[cause] = refused.GetValueOrDefault(cause) + 1;
                    }
                    while (outstanding.TryPeek(out var head) && _done[head])
                        outstanding.Dequeue();
                    continue;
                }
                // Nothing arrived for a while: retransmit what is older than T1, as an SMF would.
                var at = Stopwatch.GetTimestamp();
                foreach (var i in outstanding)
                {
                    if (_done[i] || at - _lastSent[i] < t1)
                        continue;
                    var length = build(i, sequenceBase + (uint)i, send);
                    _lastSent[i] = at;
                    _socket.Send(send.AsSpan(0, length));
                    retransmissions++;
                }
                if (Stopwatch.GetElapsedTime(lastProgress) > TimeSpan.FromSeconds(30))
                    throw new TimeoutException($"{name}: no answer for 30 s ({completed:N0} of {n:N0} answered)");
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            var sorted = _latency[..n];
            Array.Sort(sorted);
            double Ms(double q) => sorted[Math.Min(n - 1, (int)Math.Ceiling(q * n) - 1)] * 1000.0 / Stopwatch.Frequency;
            return new PfcpPhaseResult(name, n, accepted, refused, elapsed, Ms(0.50), Ms(0.99), Ms(0.999), Ms(1.0), retransmissions)
            {
                AllocatedPerRequest = (GC.GetTotalAllocatedBytes(precise: false) - allocated) / (double)n,
                Gen0 = GC.CollectionCount(0) - gen0,
                Gen1 = GC.CollectionCount(1) - gen1,
                Gen2 = GC.CollectionCount(2) - gen2,
                GcPause = GC.GetTotalPauseDuration() - pause,
                CpuMicrosecondsPerRequest = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / n,
                GcTriggers = _gcTriggers.TakeSummary(),
                AllocationsByType = _allocations?.TakeSummary(n),
            };
        }

        /// <summary>Header fields and, at the top level, Cause (19) and the F-SEID's SEID (57).</summary>
        private static bool Parse(ReadOnlySpan<byte> m, out byte type, out uint sequence, out byte cause, out ulong seid)
        {
            type = 0;
            sequence = 0;
            cause = 0;
            seid = 0;
            if (m.Length < 8)
                return false;
            type = m[1];
            var hasSeid = (m[0] & 0x01) != 0;
            var at = hasSeid ? 12 : 4;
            if (m.Length < at + 4)
                return false;
            sequence = (uint)(m[at] << 16 | m[at + 1] << 8 | m[at + 2]);
            var end = Math.Min(m.Length, 4 + BinaryPrimitives.ReadUInt16BigEndian(m[2..]));
            for (var p = at + 4; p + 4 <= end;)
            {
                var ie = BinaryPrimitives.ReadUInt16BigEndian(m[p..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(m[(p + 2)..]);
                var value = p + 4;
                if (value + length > end)
                    return false;
                if (ie == (ushort)IeType.Cause && length >= 1)
                    cause = m[value];
                else if (ie == (ushort)IeType.FSeid && length >= 9)
                    seid = BinaryPrimitives.ReadUInt64BigEndian(m[(value + 1)..]);
                p = value + length;
            }
            return true;
        }

        public void Dispose()
        {
            _socket.Dispose();
            _gcTriggers.Dispose();
            _allocations?.Dispose();
        }
    }
}

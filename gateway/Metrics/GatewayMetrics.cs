using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Replay;
using Prometheus;
using Counter = Prometheus.Counter;
using Gauge = Prometheus.Gauge;

namespace LoxiLb.Edge5G.Metrics;

/// <summary>
/// /metrics for the gateway. Datapath counters are read from the per-CPU maps at scrape time
/// (nothing per packet reaches managed code); counters the kernel keeps are exported with
/// IncTo. Labels are bounded: reasons, interfaces, roles, verdicts, message types, causes —
/// never TEIDs, SEIDs or UE addresses.
/// </summary>
public sealed class GatewayMetrics
{
    private readonly GatewayRuntime _runtime;
    private readonly PfcpService _pfcp;
    private readonly GtpuPathService _paths;
    private readonly Counter _packets, _bytes, _ifPackets, _ifBytes, _ifReasonPackets, _ifReasonBytes, _qerDrops, _pfcpMessages, _pfcpDropped, _userPlane, _usageChecks;
    private readonly Gauge _gtpuPaths, _sessions, _pfcpSessions, _associations, _tableUsed, _tableCapacity, _attached, _programLoaded, _build;

    public GatewayMetrics(GatewayRuntime runtime, PfcpService pfcp, GtpuPathService paths, CollectorRegistry registry)
    {
        _runtime = runtime;
        _pfcp = pfcp;
        _paths = paths;
        Registry = registry;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        _packets = f.CreateCounter("edge5g_datapath_packets_total", "Packets by what the GTP-U datapath did with them (forward, pass to the stack, drop) and why.", "reason", "verdict");
        _bytes = f.CreateCounter("edge5g_datapath_bytes_total", "Bytes by what the GTP-U datapath did with them and why.", "reason", "verdict");
        _ifPackets = f.CreateCounter("edge5g_interface_packets_total", "Packets received per interface and XDP verdict.", "interface", "role", "verdict");
        _ifBytes = f.CreateCounter("edge5g_interface_bytes_total", "Bytes received per interface and XDP verdict.", "interface", "role", "verdict");
        _ifReasonPackets = f.CreateCounter("edge5g_interface_reason_packets_total",
            "Packets received per interface by what the GTP-U datapath did with them and why (edge5g_datapath_packets_total per interface): where malformed or unknown-TEID traffic comes in.", "interface", "role", "reason");
        _ifReasonBytes = f.CreateCounter("edge5g_interface_reason_bytes_total", "Bytes received per interface by reason.", "interface", "role", "reason");
        _qerDrops = f.CreateCounter("edge5g_qer_drops_total", "Packets QERs dropped, by cause (closed gate, MBR exceeded), summed over QERs.", "cause");
        _pfcpMessages = f.CreateCounter("edge5g_pfcp_messages_total", "PFCP messages received (in) and sent (out), by type and cause.", "direction", "type", "cause");
        _pfcpDropped = f.CreateCounter("edge5g_pfcp_dropped_total", "PFCP datagrams not processed as new requests, by reason.", "reason");
        _userPlane = f.CreateCounter("edge5g_control_user_plane_total",
            "GTP-U the control side handles or sends itself: end-marker-sent, router-advertisement-sent (answering a solicitation), router-advertisement-unsolicited (when a session's IPv6 downlink gets its tunnel), router-solicitation-unanswered, quota enforcement, unsupported URR triggers, gtpu-path-failed and gtpu-path-recovered (Echo Requests to a peer unanswered / answered again), fragments-sent and fragment-refused (downlink IPv4 without DF too big for the tunnel, fragmented by the gateway; refused: lost).", "event");
        foreach (var e in Pfcp.Node.PfcpCounters.UserPlaneEventNames.Concat(["fragments-sent", "fragment-refused"]))
            _userPlane.WithLabels(e); // a fixed set: exported from the start, at 0
        _usageChecks = f.CreateCounter("edge5g_pfcp_usage_checks_total",
            "Per-session usage checks (every UsageTick): read (the session's counters were read: it counted packets since its last check, was due or changed) or idle (passed over on the datapath's activity marks).", "outcome");
        _usageChecks.WithLabels("read");
        _usageChecks.WithLabels("idle");
        _gtpuPaths = f.CreateGauge("edge5g_gtpu_paths", "GTP-U peers of the sessions watched with Echo Requests, by state (up, failed).", "state");
        _sessions = f.CreateGauge("edge5g_sessions", "Sessions installed in the datapath (PFCP, REST and LoxiLB front ends).");
        _pfcpSessions = f.CreateGauge("edge5g_pfcp_sessions", "PFCP sessions.");
        _associations = f.CreateGauge("edge5g_pfcp_associations", "PFCP associations with SMFs.");
        _tableUsed = f.CreateGauge("edge5g_table_entries", "Entries in use per datapath table.", "table");
        _tableCapacity = f.CreateGauge("edge5g_table_capacity", "Capacity per datapath table.", "table");
        _attached = f.CreateGauge("edge5g_interface_attached", "1 when the XDP program is attached to the interface.", "interface", "role", "mode");
        _programLoaded = f.CreateGauge("edge5g_program_loaded", "1 when the GTP-U program is loaded; adopted says whether it took over pinned state.", "adopted");
        _build = f.CreateGauge("edge5g_build_info", "Build information.", "version");
        registry.AddBeforeCollectCallback(Collect);
    }

    public CollectorRegistry Registry { get; }

    private void Collect()
    {
        _build.WithLabels(GatewayRuntime.Version).Set(1);
        var paths = _paths.Monitor?.Paths() ?? [];
        _gtpuPaths.WithLabels("up").Set(paths.Count(p => !p.Failed));
        _gtpuPaths.WithLabels("failed").Set(paths.Count(p => p.Failed));
        if (!_runtime.Started)
        {
            _programLoaded.WithLabels("false").Set(0);
            return;
        }
        _programLoaded.WithLabels(_runtime.Adopted ? "true" : "false").Set(1);
        if (_runtime.Fragmenter is { } fragmenter)
        {
            _userPlane.WithLabels("fragments-sent").IncTo(fragmenter.Fragments);
            _userPlane.WithLabels("fragment-refused").IncTo(fragmenter.Refused);
        }
        foreach (var (stat, counter) in _runtime.Datapath.Stats())
        {
            if (stat == DatapathStat.Count)
                continue;
            var reason = ReplayRunner.Kebab(stat);
            var verdict = reason.StartsWith("pass", StringComparison.Ordinal) ? "pass"
                : reason.StartsWith("drop", StringComparison.Ordinal) || stat is DatapathStat.ErrorIndication or DatapathStat.RouterSolicitation ? "drop" : "forward";
            _packets.WithLabels(reason, verdict).IncTo(counter.Packets);
            _bytes.WithLabels(reason, verdict).IncTo(counter.Bytes);
        }
        foreach (var i in _runtime.Status().Interfaces)
        {
            _attached.WithLabels(i.Name, i.Role, i.Mode).Set(i.Attached ? 1 : 0);
            foreach (var action in Enum.GetValues<XdpAction>())
            {
                var c = _runtime.Datapath.InterfaceStat(i.Ifindex, action);
                var verdict = action.ToString().ToLowerInvariant();
                _ifPackets.WithLabels(i.Name, i.Role, verdict).IncTo(c.Packets);
                _ifBytes.WithLabels(i.Name, i.Role, verdict).IncTo(c.Bytes);
            }
            var reasons = _runtime.Datapath.InterfaceReasons(i.Ifindex);
            for (int r = 0; r < reasons.Length; r++)
            {
                var reason = ReplayRunner.Kebab((DatapathStat)r);
                _ifReasonPackets.WithLabels(i.Name, i.Role, reason).IncTo(reasons[r].Packets);
                _ifReasonBytes.WithLabels(i.Name, i.Role, reason).IncTo(reasons[r].Bytes);
            }
        }
        ulong gate = 0, mbr = 0;
        foreach (var slot in _runtime.Sessions.QerSlots())
            foreach (var q in _runtime.Datapath.Tables.QerStats.Read(slot))
            {
                gate += q.GateDrops;
                mbr += q.MbrDrops;
            }
        _qerDrops.WithLabels("gate-closed").IncTo(gate);
        _qerDrops.WithLabels("mbr-exceeded").IncTo(mbr);
        _sessions.Set(_runtime.Sessions.Count);
        foreach (var (table, used, capacity) in _runtime.Sessions.Occupancy())
        {
            _tableUsed.WithLabels(table).Set(used);
            _tableCapacity.WithLabels(table).Set(capacity);
        }
        if (_pfcp.Node is { } node)
        {
            _associations.Set(node.Associations().Count);
            _pfcpSessions.Set(node.Sessions().Count);
            foreach (var ((direction, type, cause), value) in node.Counters.Messages)
                _pfcpMessages.WithLabels(direction, type, cause).IncTo(value);
            foreach (var (reason, value) in node.Counters.DroppedByReason)
                _pfcpDropped.WithLabels(reason).IncTo(value);
            foreach (var (what, value) in node.Counters.UserPlaneEvents)
                _userPlane.WithLabels(what).IncTo(value);
            _usageChecks.WithLabels("read").IncTo(node.Counters.UsageChecksRead);
            _usageChecks.WithLabels("idle").IncTo(node.Counters.UsageChecksIdle);
        }
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>One sample of a parsed exposition.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>One family of a parsed exposition.</summary>
public sealed record MetricFamily(string Name, string Type, IReadOnlyList<MetricSample> Samples);

/// <summary>
/// The Prometheus text exposition parsed by an independent parser: Debian's
/// python3-prometheus-client (prometheus_client.parser.text_string_to_metric_families) under
/// the system python. A parse error fails the test with the parser's message.
/// </summary>
public static class PrometheusParser
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
        out = []
        for fam in text_string_to_metric_families(text):
            out.append({"name": fam.name, "type": fam.type,
                        "samples": [{"name": s.name, "labels": s.labels, "value": repr(float(s.value))} for s in fam.samples]})
        print(json.dumps(out))
        """;

    /// <summary>Skips (outside CI) or fails (in CI) when the parser is not installed; scripts/setup.sh installs it.</summary>
    public static void Require()
    {
        var probe = File.Exists(Python)
            ? LabDaemon.RunToCompletion(Python, ["-c", "import prometheus_client.parser"], timeout: TimeSpan.FromSeconds(20))
            : new CliResult(127, "", "no " + Python);
        if (probe.ExitCode == 0)
            return;
        if (Privileged.InCi)
            throw new InvalidOperationException($"CI=true and python3-prometheus-client is missing ({probe.Stderr.Trim()}); scripts/setup.sh installs it");
        Skip.If(true, "needs python3-prometheus-client (scripts/setup.sh installs it)");
    }

    public static IReadOnlyDictionary<string, MetricFamily> Parse(string exposition)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, exposition);
            var r = LabDaemon.RunToCompletion(Python, ["-c", Script, file], timeout: TimeSpan.FromSeconds(20));
            Assert.True(r.ExitCode == 0, $"prometheus_client could not parse /metrics:\n{r.Stderr}\n--- exposition\n{exposition}");
            using var doc = JsonDocument.Parse(r.Stdout);
            return doc.RootElement.EnumerateArray().Select(f => new MetricFamily(
                f.GetProperty("name").GetString()!, f.GetProperty("type").GetString()!,
                f.GetProperty("samples").EnumerateArray().Select(s => new MetricSample(
                    s.GetProperty("name").GetString()!,
                    s.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
                    double.Parse(s.GetProperty("value").GetString()!, CultureInfo.InvariantCulture))).ToArray()))
                .ToDictionary(f => f.Name);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>
/// /metrics of a running daemon through an independent exposition parser: it parses, the
/// families and their labels are the documented ones with bounded values, gauges follow
/// sessions from the LoxiLB, rule and PFCP front ends, and no label carries a TEID, SEID or
/// UE address.
/// </summary>
public class MetricsTests(LoopbackDaemonFixture fixture) : IClassFixture<LoopbackDaemonFixture>
{
    /// <summary>Family (counters without _total, as the parser names them), type, label names.</summary>
    private static readonly Dictionary<string, (string Type, string[] Labels)> Expected = new()
    {
        ["edge5g_datapath_packets"] = ("counter", ["reason", "verdict"]),
        ["edge5g_datapath_bytes"] = ("counter", ["reason", "verdict"]),
        ["edge5g_interface_packets"] = ("counter", ["interface", "role", "verdict"]),
        ["edge5g_interface_bytes"] = ("counter", ["interface", "role", "verdict"]),
        ["edge5g_interface_reason_packets"] = ("counter", ["interface", "role", "reason"]),
        ["edge5g_interface_reason_bytes"] = ("counter", ["interface", "role", "reason"]),
        ["edge5g_qer_drops"] = ("counter", ["cause"]),
        ["edge5g_pfcp_messages"] = ("counter", ["direction", "type", "cause"]),
        ["edge5g_pfcp_dropped"] = ("counter", ["reason"]),
        ["edge5g_control_user_plane"] = ("counter", ["event"]),
        ["edge5g_pfcp_usage_checks"] = ("counter", ["outcome"]),
        ["edge5g_gtpu_paths"] = ("gauge", ["state"]),
        ["edge5g_sessions"] = ("gauge", []),
        ["edge5g_pfcp_sessions"] = ("gauge", []),
        ["edge5g_pfcp_associations"] = ("gauge", []),
        ["edge5g_table_entries"] = ("gauge", ["table"]),
        ["edge5g_table_capacity"] = ("gauge", ["table"]),
        ["edge5g_interface_attached"] = ("gauge", ["interface", "role", "mode"]),
        ["edge5g_program_loaded"] = ("gauge", ["adopted"]),
        ["edge5g_build_info"] = ("gauge", ["version"]),
    };

    private static readonly string[] Reasons = Enum.GetValues<DatapathStat>().Where(s => s != DatapathStat.Count).Select(ReplayRunner.Kebab).ToArray();
    private static readonly string[] Tables = ["fteids", "ue4", "ue6", "framed_routes", "pdrs", "fars", "qers", "sdf_filters", "rule_lists", "matches"];

    private (LabDaemon Daemon, HttpClient Http) Start()
    {
        Privileged.Require();
        PrometheusParser.Require();
        var d = fixture.Daemon;
        return (d, d.Client());
    }

    private static IReadOnlyDictionary<string, MetricFamily> Scrape(HttpClient http) => PrometheusParser.Parse(Exposition(http));

    private static string Exposition(HttpClient http)
    {
        using var response = http.GetAsync("metrics").GetAwaiter().GetResult();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
    }

    private static double Value(IReadOnlyDictionary<string, MetricFamily> families, string family, params (string Label, string Value)[] labels) =>
        Assert.Single(families[family].Samples, s => labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).Value;

    [SkippableFact]
    public void Exposition_Parses_WithTheDocumentedFamilies_AndBoundedLabels()
    {
        var (d, http) = Start();
        using var scope = http;
        var exposition = Exposition(http);
        var families = PrometheusParser.Parse(exposition);
        var version = http.Get("/api/v1/status").Json.GetProperty("version").GetString()!;

        // Prometheus' own linter, where installed (scripts/setup.sh installs it): no problems.
        if (File.Exists("/usr/bin/promtool"))
        {
            var file = Path.GetTempFileName();
            try
            {
                File.WriteAllText(file, exposition);
                var lint = LabDaemon.RunToCompletion("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \"$1\"", "sh", file]);
                Assert.True(lint.ExitCode == 0 && lint.Stdout.Trim().Length == 0 && lint.Stderr.Trim().Length == 0, "promtool check metrics: " + lint);
            }
            finally
            {
                File.Delete(file);
            }
        }

        foreach (var (name, (type, labels)) in Expected)
        {
            Assert.True(families.TryGetValue(name, out var family), $"/metrics has no family {name}");
            Assert.Equal(type, family!.Type);
            Assert.All(family.Samples, s =>
            {
                Assert.Equal(type == "counter" ? name + "_total" : name, s.Name);
                Assert.Equal(labels.Order(), s.Labels.Keys.Order());
                Assert.True(s.Value >= 0 && !double.IsNaN(s.Value), $"{s.Name} = {s.Value}");
            });
        }
        Assert.Empty(families.Keys.Where(k => k.StartsWith("edge5g_", StringComparison.Ordinal)).Except(Expected.Keys));

        // No session yet: no GTP-U peer is watched.
        Assert.Equal((0.0, 0.0), (Value(families, "edge5g_gtpu_paths", ("state", "up")), Value(families, "edge5g_gtpu_paths", ("state", "failed"))));

        // Every label value comes from a small fixed set.
        Assert.Equal(Reasons.Order(), families["edge5g_datapath_packets"].Samples.Select(s => s.Labels["reason"]).Order());
        Assert.All(families["edge5g_datapath_packets"].Samples, s => Assert.Contains(s.Labels["verdict"], new[] { "forward", "pass", "drop" }));
        Assert.Equal(10, families["edge5g_interface_packets"].Samples.Count);
        Assert.All(families["edge5g_interface_packets"].Samples, s =>
        {
            Assert.Contains((s.Labels["interface"], s.Labels["role"]), new[] { ("n3", "access"), ("n6", "core") });
            Assert.Contains(s.Labels["verdict"], new[] { "aborted", "drop", "pass", "tx", "redirect" });
        });
        // Per interface, every reason (the datapath's totals are their sums over interfaces).
        foreach (var (iface, role) in new[] { ("n3", "access"), ("n6", "core") })
            Assert.Equal(Reasons.Order(), families["edge5g_interface_reason_packets"].Samples
                .Where(s => s.Labels["interface"] == iface && s.Labels["role"] == role).Select(s => s.Labels["reason"]).Order());
        Assert.Equal(2 * Reasons.Length, families["edge5g_interface_reason_packets"].Samples.Count);
        Assert.Equal(["gate-closed", "mbr-exceeded"], families["edge5g_qer_drops"].Samples.Select(s => s.Labels["cause"]).Order());
        Assert.Equal(["idle", "read"], families["edge5g_pfcp_usage_checks"].Samples.Select(s => s.Labels["outcome"]).Order());
        Assert.Equal(Tables.Order(), families["edge5g_table_entries"].Samples.Select(s => s.Labels["table"]).Order());
        Assert.Equal(Tables.Order(), families["edge5g_table_capacity"].Samples.Select(s => s.Labels["table"]).Order());
        Assert.All(families["edge5g_table_capacity"].Samples, s => Assert.True(s.Value > 0));
        Assert.Equal(1, Value(families, "edge5g_interface_attached", ("interface", "n3"), ("role", "access"), ("mode", "native")));
        Assert.Equal(1, Value(families, "edge5g_interface_attached", ("interface", "n6"), ("role", "core"), ("mode", "native")));
        Assert.Equal(1, Value(families, "edge5g_program_loaded", ("adopted", "false")));
        Assert.Equal(1, Value(families, "edge5g_build_info", ("version", version)));
        // The kernel's counters: the veths' own traffic (router solicitations, ARP) reached the stack.
        Assert.True(families["edge5g_interface_packets"].Samples.Sum(s => s.Value) >= 0);
    }

    [SkippableFact]
    public void Sessions_FromEveryFrontEnd_MoveTheGauges_AndNoLabelCarriesAnIdentifier()
    {
        var (d, http) = Start();
        using var scope = http;
        var before = Scrape(http);
        double Entries(IReadOnlyDictionary<string, MetricFamily> f, string table) => Value(f, "edge5g_table_entries", ("table", table));

        const uint accessTeid = 0x0badcafe, coreTeid = 0x0d15ea5e;
        const ulong ruleSeid = 0x0123456789abcdef, cpSeid = 0x00c0ffee00c0ffee;
        const string loxiUe = "192.0.2.77", ruleUe = "192.0.2.78";
        http.Post("/api/v1/config/session", $$$"""{"ident":"metrics-user","sessionIp":"{{{loxiUe}}}","accessNetworkTunnel":{"teId":{{{accessTeid}}},"tunnelIp":"{{{LabDaemon.Gnb}}}"},"coreNetworkTunnel":{"teId":{{{coreTeid}}},"tunnelIp":"{{{LabDaemon.N3}}}"}}""")
            .AssertStatus(HttpStatusCode.Created);
        http.Post("/api/v1/rules/sessions", $$"""
            { "seid": {{ruleSeid}}, "pdrs": [
                { "id": 1, "precedence": 10, "sourceInterface": "access", "farId": 1, "fteid": { "teid": 3735928559, "ipv4": "{{LabDaemon.N3}}" }, "ueIpv4": "{{ruleUe}}", "removeOuterHeader": true },
                { "id": 2, "precedence": 10, "sourceInterface": "core", "farId": 2, "ueIpv4": "{{ruleUe}}" } ],
              "fars": [
                { "id": 1, "action": ["forward"], "destinationInterface": "core" },
                { "id": 2, "action": ["forward"], "destinationInterface": "access", "outerHeader": { "teid": 3405691582, "peer": "{{LabDaemon.Gnb}}" } } ] }
            """).AssertStatus(HttpStatusCode.Created);

        using var smf = new PfcpPeer(d.Peer, IPAddress.Parse(LabDaemon.Gnb), new IPEndPoint(IPAddress.Parse(LabDaemon.N3), 8805));
        Assert.Equal(PfcpCause.RequestAccepted, smf.Associate().Cause);
        var established = smf.Establish(cpSeid, IPAddress.Parse(LabDaemon.Gnb));
        Assert.Equal(PfcpCause.RequestAccepted, established.Cause);
        var upSeid = established.UpFSeid!.Seid;
        var pfcpTeid = established.CreatedPdrs.Single(p => p.PdrId == 1).LocalFTeid!.Teid;
        var pfcpUe = established.CreatedPdrs.Single(p => p.PdrId == 1).UeIpAddresses[0].Ipv4!.ToString();

        var after = Scrape(http);
        Assert.Equal(Value(before, "edge5g_sessions") + 3, Value(after, "edge5g_sessions"));
        Assert.Equal(1, Value(after, "edge5g_pfcp_sessions"));
        Assert.Equal(1, Value(after, "edge5g_pfcp_associations"));
        Assert.Equal(Entries(before, "fteids") + 3, Entries(after, "fteids"));
        Assert.Equal(Entries(before, "ue4") + 3, Entries(after, "ue4"));
        Assert.Equal(Entries(before, "pdrs") + 6, Entries(after, "pdrs"));
        Assert.Equal(Entries(before, "fars") + 6, Entries(after, "fars"));
        Assert.True(Entries(after, "qers") > Entries(before, "qers"), "the PFCP session's QER is installed");
        var messages = after["edge5g_pfcp_messages"].Samples;
        Assert.Contains(messages, s => s.Labels["direction"] == "in" && s.Value >= 1);
        Assert.Contains(messages, s => s.Labels["direction"] == "out" && s.Value >= 1);
        Assert.All(messages, s =>
        {
            Assert.Contains(s.Labels["direction"], new[] { "in", "out" });
            Assert.Matches("^[A-Z][A-Za-z]*$", s.Labels["type"]); // PfcpMessageType names
            Assert.Matches("^([A-Z][A-Za-z]*)?$", s.Labels["cause"]); // PfcpCause names, empty for requests
        });

        // The identifiers just installed, in every spelling, appear in no label value; no label
        // value is an address or a bare number at all.
        var identifiers = new[] { accessTeid, coreTeid, 3735928559u, 3405691582u, pfcpTeid }.SelectMany(t => new[] { t.ToString(CultureInfo.InvariantCulture), $"{t:x}", $"0x{t:x8}" })
            .Concat(new[] { ruleSeid, cpSeid, upSeid }.SelectMany(s => new[] { s.ToString(CultureInfo.InvariantCulture), $"{s:x}", $"0x{s:x16}" }))
            .Concat([loxiUe, ruleUe, pfcpUe, LabDaemon.Gnb, "metrics-user"]).ToArray();
        foreach (var sample in after.Values.SelectMany(f => f.Samples))
            foreach (var (label, value) in sample.Labels)
            {
                // Short spellings (a TEID of 1) are only compared whole: "1" is in every version string.
                Assert.False(identifiers.Any(id => value.Equals(id, StringComparison.OrdinalIgnoreCase) || (id.Length >= 6 && value.Contains(id, StringComparison.OrdinalIgnoreCase))),
                    $"{sample.Name}{{{label}=\"{value}\"}} carries an identifier");
                Assert.False(IPAddress.TryParse(value, out _) && value.Count(c => c is '.' or ':') >= 2, $"{sample.Name}{{{label}=\"{value}\"}} is an address");
                Assert.DoesNotMatch(new Regex("^(0x)?[0-9a-f]+$"), value);
            }

        // The PFCP state through the API and the CLI.
        var association = Assert.Single(http.Get("/api/v1/pfcp/associations").Json.EnumerateArray());
        Assert.Equal(LabDaemon.Gnb, association.GetProperty("nodeId").GetString());
        Assert.Equal(1, association.GetProperty("sessions").GetInt32());
        var session = Assert.Single(http.Get("/api/v1/pfcp/sessions").Json.EnumerateArray());
        Assert.Equal((upSeid, cpSeid), (session.GetProperty("localSeid").GetUInt64(), session.GetProperty("cpSeid").GetUInt64()));
        var cli = d.Cli("get", "pfcp");
        Assert.True(cli.ExitCode == 0, cli.ToString());
        var lines = cli.Stdout.Split('\n');
        Assert.Matches($@"^\| {Regex.Escape(LabDaemon.Gnb)} +\| {Regex.Escape(LabDaemon.Gnb)}:\d+ +\| false +\| 1 +\| 2026-11-26 00:00:00Z +\| \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ +\|$", lines[3]);
        Assert.Matches($@"^\| 0x{upSeid:x16} \| 0x{cpSeid:x16} \| {Regex.Escape(LabDaemon.Gnb)} +\| 2 +\| 2 +\| 1 +\| 0 +\| - +\|$", lines[8]);
        var usage = http.Get($"/api/v1/pfcp/sessions/{upSeid}/usage").AssertStatus(HttpStatusCode.OK).Json;
        Assert.Equal((upSeid, 0u, 0), (usage.GetProperty("localSeid").GetUInt64(), usage.GetProperty("inactivityTimer").GetUInt32(), usage.GetProperty("urrs").GetArrayLength()));
        var usageCli = d.Cli("get", "pfcpusage", $"0x{upSeid:x}");
        Assert.True(usageCli.ExitCode == 0, usageCli.ToString());
        Assert.StartsWith($"PFCP session 0x{upSeid:x16} (CP SEID 0x{cpSeid:x16}), inactivity timer: none", usageCli.Stdout);

        http.Delete("/api/v1/config/session/ident/metrics-user").AssertStatus(HttpStatusCode.OK);
        http.Delete($"/api/v1/rules/sessions/{ruleSeid}").AssertStatus(HttpStatusCode.OK);
        var deleted = Scrape(http);
        Assert.Equal(Value(before, "edge5g_sessions") + 1, Value(deleted, "edge5g_sessions"));
        Assert.Equal(Entries(before, "pdrs") + 2, Entries(deleted, "pdrs"));
    }
}

using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using YamlDotNet.RepresentationModel;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>
/// deploy/ cannot drift from the code: the sample configuration binds through the daemon's own
/// configuration pipeline and validator and documents every option with its real default;
/// the systemd unit and the Kubernetes manifests carry what the datapath needs; the
/// dashboard queries only metrics and labels GatewayMetrics.cs defines.
/// </summary>
public class DeploymentFileTests
{
    private static string Deploy(params string[] parts) => Path.Combine([RepoPaths.Root, "deploy", .. parts]);

    /// <summary>Builds the daemon (not started) from a configuration file and returns its validated options.</summary>
    private static GatewayOptions Load(string file)
    {
        var app = Daemon.Build(file, new Dictionary<string, string?>());
        try
        {
            return app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        }
        finally
        {
            ((IDisposable)app).Dispose();
        }
    }

    /// <summary>"Interfaces.Access"... for every public property of the options classes, and its default.</summary>
    private static IEnumerable<(string Path, object? Default)> OptionLeaves(Type type, object instance, string prefix = "")
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var path = prefix + p.Name;
            var value = p.GetValue(instance);
            if (p.PropertyType.IsClass && p.PropertyType != typeof(string) && p.PropertyType.Namespace == typeof(GatewayOptions).Namespace)
                foreach (var leaf in OptionLeaves(p.PropertyType, value!, path + "."))
                    yield return leaf;
            else
                yield return (path, value);
        }
    }

    private sealed record DocumentedKey(string Path, bool Leaf, IReadOnlyList<string> Comment);

    /// <summary>The keys of a YAML file with the comment block right above each (line-based: the sample is block style).</summary>
    private static List<DocumentedKey> Keys(string file)
    {
        var keys = new List<DocumentedKey>();
        var stack = new List<(int Indent, string Name)>();
        var comment = new List<string>();
        var lines = File.ReadAllLines(file);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            var indent = line.Length - trimmed.Length;
            if (trimmed.StartsWith('#'))
            {
                comment.Add(trimmed.TrimStart('#').Trim());
                continue;
            }
            var m = Regex.Match(trimmed, @"^([A-Za-z0-9]+):(.*)$");
            if (!m.Success)
            {
                if (trimmed.Length == 0)
                    comment.Clear();
                continue;
            }
            while (stack.Count > 0 && stack[^1].Indent >= indent)
                stack.RemoveAt(stack.Count - 1);
            var path = string.Join('.', stack.Select(s => s.Name).Append(m.Groups[1].Value));
            var rest = m.Groups[2].Value.Trim();
            var nextIsList = i + 1 < lines.Length && lines[i + 1].TrimStart().StartsWith("- ", StringComparison.Ordinal);
            var leaf = rest.Length > 0 || nextIsList;
            keys.Add(new DocumentedKey(path, leaf, comment.ToArray()));
            comment.Clear();
            if (!leaf)
                stack.Add((indent, m.Groups[1].Value));
        }
        return keys;
    }

    [Fact]
    public void SampleConfiguration_BindsThroughTheDaemon_AndIsValid()
    {
        var o = Load(Deploy("edge5g.yaml"));
        Assert.Equal(("ens1f0", "ens1f1", "native"), (o.Interfaces.Access, o.Interfaces.Core, o.Interfaces.XdpMode));
        Assert.Equal(["198.51.100.1"], o.Gtp.AccessAddresses);
        Assert.Equal("198.51.100.1", o.Pfcp.Address);
        Assert.Equal(["198.51.100.0/24"], o.Pfcp.Peers);
        Assert.Equal(["192.0.2.0/24"], o.Pfcp.UePools);
        Assert.Equal("127.0.0.1:11111", o.Api.Listen);
        Assert.Equal((65536u, "/sys/fs/bpf/edge5g", true, "/var/lib/edge5g"), (o.Datapath.Sessions, o.Datapath.PinRoot, o.Datapath.KeepOnStop, o.Datapath.StateDirectory));
        Assert.True(new GatewayOptionsValidator().Validate(null, o).Succeeded);
    }

    [Fact]
    public void SampleConfiguration_DocumentsEveryOption_WithItsRealDefaultAndAnExample()
    {
        var keys = Keys(Deploy("edge5g.yaml"));
        var leaves = keys.Where(k => k.Leaf).ToDictionary(k => k.Path);
        var options = OptionLeaves(typeof(GatewayOptions), new GatewayOptions()).ToArray();

        Assert.Equal(options.Select(o => o.Path).Order(), leaves.Keys.Order());
        Assert.All(keys.Where(k => !k.Leaf), section => Assert.True(section.Comment.Count > 0, $"section {section.Path} has no comment"));
        foreach (var (path, value) in options)
        {
            var comment = string.Join(' ', leaves[path].Comment);
            Assert.True(leaves[path].Comment.Count >= 2, $"{path}: no comment explaining it");
            var m = Regex.Match(comment, @"Default: (.+?)\. Example: (.+)$");
            Assert.True(m.Success, $"{path}: the comment has no 'Default: ... Example: ...' ({comment})");
            var documented = m.Groups[1].Value;
            var actual = value switch
            {
                null => null,
                string s => s,
                bool b => b ? "true" : "false",
                System.Collections.IList { Count: 0 } => null,
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString(),
            };
            if (actual is null or "")
                Assert.True(documented.StartsWith("empty", StringComparison.Ordinal) || documented.StartsWith("none", StringComparison.Ordinal),
                    $"{path}: the default is empty but the file says '{documented}'");
            else
                Assert.True(documented == actual, $"{path}: the default is {actual} but the file says '{documented}'");
        }
    }

    [Fact]
    public void SystemdUnit_IsANotifyServiceWithTheDatapathCapabilities()
    {
        var unit = Deploy("systemd", "edge5g.service");
        var sections = new Dictionary<string, List<(string Key, string Value)>>();
        List<(string, string)>? current = null;
        foreach (var line in File.ReadLines(unit).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (line.StartsWith('['))
                sections[line.Trim('[', ']')] = current = [];
            else
                current!.Add((line[..line.IndexOf('=')], line[(line.IndexOf('=') + 1)..]));
        }
        string One(string section, string key) => Assert.Single(sections[section], kv => kv.Key == key).Value;

        Assert.Equal("notify", One("Service", "Type"));
        Assert.Equal("/usr/local/bin/edge5g run --config /etc/edge5g/edge5g.yaml", One("Service", "ExecStart"));
        Assert.Equal("on-failure", One("Service", "Restart"));
        Assert.Equal("SIGTERM", One("Service", "KillSignal"));
        Assert.Matches(@"^\d+s$", One("Service", "TimeoutStopSec"));
        Assert.Equal("2", One("Service", "RestartPreventExitStatus"));
        string[] caps = ["CAP_BPF", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_PERFMON"];
        Assert.Equal(caps.Order(), One("Service", "AmbientCapabilities").Split(' ').Order());
        Assert.Equal(caps.Order(), One("Service", "CapabilityBoundingSet").Split(' ').Order());
        Assert.Equal("/sys/fs/bpf", One("Unit", "RequiresMountsFor"));
        Assert.Contains("/sys/fs/bpf", One("Service", "ReadWritePaths").Split(' '));
        Assert.Contains("/var/lib/edge5g", One("Service", "ReadWritePaths").Split(' '));
        Assert.Equal("multi-user.target", One("Install", "WantedBy"));

        // systemd's own parser, where there is one: the unit (with an executable that exists) has no warnings.
        const string analyze = "/usr/bin/systemd-analyze";
        if (!File.Exists(analyze))
            return;
        var dir = Directory.CreateTempSubdirectory("e5g-unit-");
        try
        {
            var copy = Path.Combine(dir.FullName, "edge5g-verify.service");
            File.WriteAllText(copy, File.ReadAllText(unit).Replace("ExecStart=/usr/local/bin/edge5g", "ExecStart=/usr/bin/true", StringComparison.Ordinal));
            var r = LabDaemon.RunToCompletion(analyze, ["verify", copy], timeout: TimeSpan.FromSeconds(30));
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.DoesNotContain("edge5g-verify.service", r.Stderr + r.Stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
            stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (var p in path)
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(p)];
        return node;
    }

    private static string Scalar(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;

    [Fact]
    public void KubernetesDaemonSet_HostNetworkCapabilitiesBpffsStateAndProbes()
    {
        var docs = Documents(Deploy("kubernetes", "daemonset.yaml"));
        var ds = Assert.Single(docs, d => Scalar(d, "kind") == "DaemonSet");
        Assert.Equal("apps/v1", Scalar(ds, "apiVersion"));
        var pod = At(ds, "spec", "template", "spec");
        Assert.Equal("true", Scalar(pod, "hostNetwork"));
        var container = (YamlMappingNode)((YamlSequenceNode)At(pod, "containers")).Children.Single();
        Assert.Equal(["/usr/local/bin/edge5g", "run", "--config", "/etc/edge5g/edge5g.yaml"],
            ((YamlSequenceNode)At(container, "command")).Children.Select(c => ((YamlScalarNode)c).Value));
        var added = ((YamlSequenceNode)At(container, "securityContext", "capabilities", "add")).Children.Select(c => ((YamlScalarNode)c).Value).ToArray();
        Assert.Equal(new[] { "BPF", "NET_ADMIN", "PERFMON", "SYS_ADMIN" }, added.Order());
        Assert.Equal("false", Scalar(container, "securityContext", "privileged"));

        var volumes = ((YamlSequenceNode)At(pod, "volumes")).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"));
        var mounts = ((YamlSequenceNode)At(container, "volumeMounts")).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "mountPath"));
        Assert.Equal("/sys/fs/bpf", Scalar(volumes[Scalar(mounts["/sys/fs/bpf"], "name")], "hostPath", "path"));
        Assert.Equal("/var/lib/edge5g", Scalar(volumes[Scalar(mounts["/var/lib/edge5g"], "name")], "hostPath", "path"));
        Assert.Equal("edge5g-config", Scalar(volumes[Scalar(mounts["/etc/edge5g"], "name")], "configMap", "name"));

        var configFile = ConfigMapConfiguration(out _);
        GatewayOptions config;
        try
        {
            config = Load(configFile);
        }
        finally
        {
            File.Delete(configFile);
        }
        Assert.True(GatewayOptionsValidator.TryParseEndpoint(config.Api.Listen, out var api));
        foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
        {
            Assert.Equal("/api/v1/status", Scalar(container, probe, "httpGet", "path"));
            Assert.Equal(api!.Port.ToString(CultureInfo.InvariantCulture), Scalar(container, probe, "httpGet", "port"));
            Assert.Equal(api.Address.ToString(), Scalar(container, probe, "httpGet", "host"));
        }
        Assert.Equal("/var/lib/edge5g", config.Datapath.StateDirectory);
        Assert.StartsWith("/sys/fs/bpf/", config.Datapath.PinRoot);
    }

    /// <summary>Writes the ConfigMap's edge5g.yaml to a temporary file and returns its path.</summary>
    private static string ConfigMapConfiguration(out string text)
    {
        var cm = Assert.Single(Documents(Deploy("kubernetes", "configmap.yaml")), d => Scalar(d, "kind") == "ConfigMap");
        Assert.Equal("edge5g-config", Scalar(cm, "metadata", "name"));
        text = Scalar(cm, "data", "edge5g.yaml");
        var file = Path.Combine(Path.GetTempPath(), $"e5g-configmap-{Environment.ProcessId}-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, text);
        return file;
    }

    [Fact]
    public void KubernetesConfigMap_HoldsAValidConfiguration()
    {
        var file = ConfigMapConfiguration(out _);
        try
        {
            var o = Load(file);
            Assert.True(new GatewayOptionsValidator().Validate(null, o).Succeeded);
            Assert.False(string.IsNullOrEmpty(o.Interfaces.Access));
            Assert.True(o.Datapath.KeepOnStop);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Metric names and their label names, read from GatewayMetrics.cs.</summary>
    private static Dictionary<string, string[]> DefinedMetrics()
    {
        var source = File.ReadAllText(Path.Combine(RepoPaths.Root, "gateway", "Metrics", "GatewayMetrics.cs"));
        var defined = Regex.Matches(source, @"Create(?:Counter|Gauge)\(""(edge5g_[a-z0-9_]+)"",\s*""[^""]*""((?:,\s*""[a-z_]+"")*)\)")
            .ToDictionary(m => m.Groups[1].Value, m => Regex.Matches(m.Groups[2].Value, @"""([a-z_]+)""").Select(l => l.Groups[1].Value).ToArray());
        Assert.True(defined.Count >= 10, "could not read the metric definitions of GatewayMetrics.cs");
        return defined;
    }

    /// <summary>Every PromQL string of the dashboard: panel targets' expr and the variables' queries.</summary>
    private static List<string> Queries(JsonElement element, string? key = null)
    {
        var found = new List<string>();
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                    found.AddRange(Queries(p.Value, p.Name));
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    found.AddRange(Queries(item, key));
                break;
            case JsonValueKind.String when key is "expr" or "query" or "definition" && element.GetString()!.Contains("edge5g_", StringComparison.Ordinal):
                found.Add(element.GetString()!);
                break;
        }
        return found;
    }

    [Fact]
    public void GrafanaDashboard_QueriesOnlyMetricsAndLabelsGatewayMetricsDefines_AndShowsEveryFamily()
    {
        var defined = DefinedMetrics();
        using var doc = JsonDocument.Parse(File.ReadAllText(Deploy("grafana", "edge5g-dashboard.json")));
        var queries = Queries(doc.RootElement);
        Assert.True(queries.Count >= 15, $"only {queries.Count} queries");
        var used = new HashSet<string>();
        // Labels Prometheus adds to every scraped series.
        string[] targetLabels = ["instance", "job"];
        foreach (var q in queries)
        {
            var names = Regex.Matches(q, @"\bedge5g_[a-z0-9_]+\b").Select(m => m.Value).ToArray();
            Assert.All(names, n => Assert.True(defined.ContainsKey(n), $"'{n}' in `{q}` is not a metric of GatewayMetrics.cs"));
            used.UnionWith(names);
            var labels = names.SelectMany(n => defined[n]).Concat(targetLabels).ToHashSet();
            foreach (Match selector in Regex.Matches(q, @"\b(edge5g_[a-z0-9_]+)\{([^}]*)\}"))
                foreach (Match matcher in Regex.Matches(selector.Groups[2].Value, @"([a-z_]+)\s*(=~|!~|!=|=)"))
                    Assert.True(defined[selector.Groups[1].Value].Concat(targetLabels).Contains(matcher.Groups[1].Value),
                        $"label '{matcher.Groups[1].Value}' in `{q}` is not a label of {selector.Groups[1].Value}");
            foreach (Match by in Regex.Matches(q, @"\bby\s*\(([^)]*)\)"))
                foreach (var label in by.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    Assert.True(labels.Contains(label), $"'by ({label})' in `{q}`: no metric of the query has that label");
            foreach (Match lv in Regex.Matches(q, @"label_values\((edge5g_[a-z0-9_]+)(?:\{[^}]*\})?,\s*([a-z_]+)\)"))
                Assert.True(defined[lv.Groups[1].Value].Concat(targetLabels).Contains(lv.Groups[2].Value), $"`{q}`: no such label");
            Assert.DoesNotMatch(@"rate\(edge5g_[a-z0-9_]+(?<!_total)(\{[^}]*\})?\[", q); // rate() only over counters
        }
        Assert.Equal(defined.Keys.Order(), used.Order());
    }

    [SkippableFact]
    public void GrafanaDashboard_PromQlParses_WithPromtool()
    {
        const string promtool = "/usr/bin/promtool";
        if (!File.Exists(promtool))
        {
            if (Privileged.InCi)
                throw new InvalidOperationException("CI=true and promtool (Debian package prometheus) is missing; scripts/setup.sh installs it");
            Skip.If(true, "needs promtool (scripts/setup.sh installs the prometheus package)");
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(Deploy("grafana", "edge5g-dashboard.json")));
        // Each expression as a recording rule, Grafana's variables replaced by values.
        var rules = Queries(doc.RootElement).Where(q => !q.StartsWith("label_values", StringComparison.Ordinal)).Select((q, i) =>
            $"      - record: edge5g:dashboard_query_{i}\n        expr: {JsonSerializer.Serialize(q.Replace("$__rate_interval", "5m").Replace("$instance", ".*").Replace("$interface", ".*"))}\n");
        var file = Path.Combine(Path.GetTempPath(), $"e5g-dashboard-rules-{Environment.ProcessId}-{Guid.NewGuid():N}.yml");
        File.WriteAllText(file, "groups:\n  - name: edge5g-dashboard\n    rules:\n" + string.Concat(rules));
        try
        {
            var r = LabDaemon.RunToCompletion(promtool, ["check", "rules", file], timeout: TimeSpan.FromSeconds(30));
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        finally
        {
            File.Delete(file);
        }
    }
}

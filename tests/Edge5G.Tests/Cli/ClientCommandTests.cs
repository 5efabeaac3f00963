using System.Text.Json;
using System.Text.RegularExpressions;
using LoxiLb.Edge5G.Cli.Client;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Api;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Cli;

/// <summary>
/// The built `edge5g` client verbs against a running daemon (both in a lab namespace): table and
/// JSON output, error lines and exit codes (1 for refusals and an unreachable API, 2 for usage).
/// </summary>
public class ClientCommandTests(LoopbackDaemonFixture fixture) : IClassFixture<LoopbackDaemonFixture>
{
    private LabDaemon Daemon()
    {
        Privileged.Require();
        return fixture.Daemon;
    }

    private static CliResult Ok(CliResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        return r;
    }

    private static JsonElement Json(CliResult r)
    {
        using var doc = JsonDocument.Parse(Ok(r).Stdout);
        return doc.RootElement.Clone();
    }

    [SkippableFact]
    public void Session_CreateGetDelete_AsTablesAndJson()
    {
        var d = Daemon();
        var created = Ok(d.Cli("create", "session", "cli-a", "192.0.2.50", "--accessNetworkTunnel=100:198.51.100.2", "--coreNetworkTunnel=200:198.51.100.1"));
        Assert.Matches(new Regex(@"^session cli-a created \(SEID 0x[0-9a-f]{16}\)\n$"), created.Stdout);
        try
        {
            Assert.Equal("""
                | IDENT | SESSION IP | ACCESS NETWORK TUNNEL             | CORE NETWORK TUNNEL               |
                |-------|------------|-----------------------------------|-----------------------------------|
                | cli-a | 192.0.2.50 | TeID: 100, TunnelIP: 198.51.100.2 | TeID: 200, TunnelIP: 198.51.100.1 |

                """, Ok(d.Cli("get", "session")).Stdout);

            // Space-separated option values and -o json on create.
            var b = Json(d.Cli("create", "session", "cli-b", "192.0.2.51", "--accessNetworkTunnel", "4294967295:198.51.100.2",
                "--coreNetworkTunnel", "201:198.51.100.1", "-o", "json"));
            Assert.Equal("Success", b.GetProperty("result").GetString());
            Assert.True(b.GetProperty("seid").GetUInt64() >= 1UL << 63);

            Assert.Equal("""
                | IDENT | SESSION IP | ACCESS NETWORK TUNNEL                    | CORE NETWORK TUNNEL               |
                |-------|------------|------------------------------------------|-----------------------------------|
                | cli-a | 192.0.2.50 | TeID: 100, TunnelIP: 198.51.100.2        | TeID: 200, TunnelIP: 198.51.100.1 |
                | cli-b | 192.0.2.51 | TeID: 4294967295, TunnelIP: 198.51.100.2 | TeID: 201, TunnelIP: 198.51.100.1 |

                """, Ok(d.Cli("get", "session")).Stdout);

            var list = Json(d.Cli("get", "session", "-o", "json")).EnumerateArray().ToArray();
            Assert.Equal(["cli-a", "cli-b"], list.Select(s => s.GetProperty("ident").GetString()));
            Assert.Equal("192.0.2.51", list[1].GetProperty("sessionIp").GetString());
            Assert.Equal(4294967295u, list[1].GetProperty("accessNetworkTunnel").GetProperty("teId").GetUInt32());
            Assert.Equal("198.51.100.2", list[1].GetProperty("accessNetworkTunnel").GetProperty("tunnelIp").GetString());
            Assert.Equal(201u, list[1].GetProperty("coreNetworkTunnel").GetProperty("teId").GetUInt32());
            Assert.Equal("198.51.100.1", list[1].GetProperty("coreNetworkTunnel").GetProperty("tunnelIp").GetString());

            Assert.Equal("session cli-a deleted\n", Ok(d.Cli("delete", "session", "cli-a")).Stdout);
            Assert.Equal("Success", Json(d.Cli("delete", "session", "cli-b", "-o", "json")).GetProperty("result").GetString());
            Assert.Equal("""
                | IDENT | SESSION IP | ACCESS NETWORK TUNNEL | CORE NETWORK TUNNEL |
                |-------|------------|-----------------------|---------------------|

                """, Ok(d.Cli("get", "session")).Stdout);
            Assert.Equal("[]\n", Ok(d.Cli("get", "session", "-o", "json")).Stdout);
        }
        finally
        {
            d.Cli("delete", "session", "cli-a");
            d.Cli("delete", "session", "cli-b");
        }
    }

    [SkippableFact]
    public void SessionUlcl_CreateSeveral_GetThem_DeleteOne()
    {
        var d = Daemon();
        Ok(d.Cli("create", "session", "cli-u", "192.0.2.60", "--accessNetworkTunnel=300:198.51.100.2", "--coreNetworkTunnel=400:198.51.100.1"));
        try
        {
            Assert.Equal("sessionulcl cli-u 9:203.0.113.200 created\nsessionulcl cli-u 5:203.0.113.201 created\n",
                Ok(d.Cli("create", "sessionulcl", "cli-u", "--ulclArgs=9:203.0.113.200,5:203.0.113.201")).Stdout);
            Assert.Equal("""
                | IDENT | ULCL IP       | QFI |
                |-------|---------------|-----|
                | cli-u | 203.0.113.200 | 9   |
                | cli-u | 203.0.113.201 | 5   |

                """, Ok(d.Cli("get", "sessionulcl")).Stdout);
            var json = Json(d.Cli("get", "sessionulcl", "-o", "json")).EnumerateArray().ToArray();
            Assert.Equal(2, json.Length);
            Assert.Equal("cli-u", json[0].GetProperty("ulclIdent").GetString());
            Assert.Equal(9, json[0].GetProperty("ulclArgument").GetProperty("qfi").GetInt32());
            Assert.Equal("203.0.113.200", json[0].GetProperty("ulclArgument").GetProperty("ulclIp").GetString());

            Assert.Equal("sessionulcl cli-u 203.0.113.200 deleted\n", Ok(d.Cli("delete", "sessionulcl", "cli-u", "--ulclArgs=203.0.113.200")).Stdout);
            Assert.Equal("""
                | IDENT | ULCL IP       | QFI |
                |-------|---------------|-----|
                | cli-u | 203.0.113.201 | 5   |

                """, Ok(d.Cli("get", "sessionulcl")).Stdout);

            var again = d.Cli("delete", "sessionulcl", "cli-u", "--ulclArgs=203.0.113.200");
            Assert.Equal(1, again.ExitCode);
            Assert.Equal("edge5g delete sessionulcl: no such session: session 'cli-u' has no classifier for 203.0.113.200\n", again.Stderr);
            var unknown = d.Cli("create", "sessionulcl", "ghost", "--ulclArgs=9:203.0.113.200");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Equal("edge5g create sessionulcl: no such session: no session 'ghost'\n", unknown.Stderr);
            Assert.Equal("", unknown.Stdout);
        }
        finally
        {
            d.Cli("delete", "session", "cli-u");
        }
        Assert.Equal("[]\n", Ok(d.Cli("get", "sessionulcl", "-o", "json")).Stdout);
    }

    [SkippableFact]
    public void Refusals_PrintTheProblemOnStderr_AndExit1()
    {
        var d = Daemon();
        Ok(d.Cli("create", "session", "cli-dup", "192.0.2.70", "--accessNetworkTunnel=500:198.51.100.2", "--coreNetworkTunnel=600:198.51.100.1"));
        try
        {
            var duplicate = d.Cli("create", "session", "cli-dup", "192.0.2.70", "--accessNetworkTunnel=500:198.51.100.2", "--coreNetworkTunnel=600:198.51.100.1");
            Assert.Equal((1, "", "edge5g create session: conflict: session 'cli-dup' already exists\n"), (duplicate.ExitCode, duplicate.Stdout, duplicate.Stderr));
            var ipv6 = d.Cli("create", "session", "cli-v6", "2001:db8::70", "--accessNetworkTunnel=501:198.51.100.2", "--coreNetworkTunnel=601:198.51.100.1");
            Assert.Equal((1, "edge5g create session: invalid rules: sessionIP: 2001:db8::70 is not an IPv4 address\n"), (ipv6.ExitCode, ipv6.Stderr));
        }
        finally
        {
            Ok(d.Cli("delete", "session", "cli-dup"));
        }
        var ghost = d.Cli("delete", "session", "ghost");
        Assert.Equal((1, "", "edge5g delete session: no such session: no session 'ghost'\n"), (ghost.ExitCode, ghost.Stdout, ghost.Stderr));
    }

    [SkippableFact]
    public void UnreachableApi_IsOneLineNamingTheAddress_AndExit1()
    {
        var d = Daemon();
        var refused = d.Cli("get", "status", "--api", "127.0.0.1:1");
        Assert.Equal((1, ""), (refused.ExitCode, refused.Stdout));
        Assert.Equal("edge5g: cannot reach the edge5g API at 127.0.0.1:1: connection refused (is `edge5g run` running and listening there?)\n", refused.Stderr);

        // Neither --api nor EDGE5G_API: the default address.
        var fallback = d.Cli(new Dictionary<string, string?> { ["EDGE5G_API"] = null }, "get", "session");
        Assert.Equal(1, fallback.ExitCode);
        Assert.Equal($"edge5g: cannot reach the edge5g API at {ApiClient.DefaultAddress}: connection refused (is `edge5g run` running and listening there?)\n", fallback.Stderr);

        // --api wins over EDGE5G_API.
        var explicitApi = d.Cli(new Dictionary<string, string?> { ["EDGE5G_API"] = "127.0.0.1:1" }, "get", "session", "--api", d.ApiAddress, "-o", "json");
        Assert.Equal(JsonValueKind.Array, Json(explicitApi).ValueKind);
    }

    [SkippableFact]
    public void UsageErrors_Exit2_WithTheReason()
    {
        var d = Daemon();
        (string[] Args, string Message)[] cases =
        [
            (["create", "session", "u", "192.0.2.80", "--accessNetworkTunnel=1:198.51.100.2"], "Option '--coreNetworkTunnel' is required."),
            (["create", "session", "u", "192.0.2.80", "--accessNetworkTunnel=1-198.51.100.2", "--coreNetworkTunnel=1:198.51.100.1"],
                "--accessNetworkTunnel: '1-198.51.100.2' is not TEID:IP (e.g. 1:198.51.100.1)"),
            (["create", "session", "u", "192.0.2", "--accessNetworkTunnel=1:198.51.100.2", "--coreNetworkTunnel=1:198.51.100.1"], "ueIP: '192.0.2' is not an IP address"),
            (["create", "sessionulcl", "u", "--ulclArgs=64:203.0.113.9"], "--ulclArgs: '64:203.0.113.9' is not QFI:IP with QFI 0-63 (e.g. 9:203.0.113.200)"),
            (["create", "sessionulcl", "u", "--ulclArgs=9:203.0.113.9,"], "--ulclArgs: an empty entry in '9:203.0.113.9,'"),
            (["delete", "sessionulcl", "u", "--ulclArgs=203.0.113"], "--ulclArgs: '203.0.113' is not an IP address"),
            (["get", "session", "-o", "yaml"], "Argument 'yaml' not recognized. Must be one of:"),
            (["get", "session", "--api", "localhost"], "--api: 'localhost' is not ADDRESS:PORT (e.g. 127.0.0.1:11111)"),
            (["get", "sessions"], "Unrecognized command or argument 'sessions'."),
            (["delete", "session"], "Required argument missing for command: 'session'."),
        ];
        foreach (var (args, message) in cases)
        {
            var r = d.Cli(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: {r}");
            Assert.Contains(message, r.Stderr);
        }
    }

    [SkippableFact]
    public void GetStatusInterfacesPfcpCounters_AsTablesAndJson()
    {
        var d = Daemon();
        using var http = d.Client();
        var status = http.Get("/api/v1/status").Json;
        Assert.Equal(TextTable.Render(["VERSION", "STARTED", "DATAPATH ADOPTED", "PIN ROOT", "SESSIONS", "GTP-U ADDRESSES", "INTERFACES"],
            [[status.GetProperty("version").GetString()!,
              status.GetProperty("startedAt").GetDateTimeOffset().ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
              "false", d.PinRoot, "0", LabDaemon.N3, "n3 (access, native), n6 (core, native)"]]),
            Ok(d.Cli("get", "status")).Stdout);
        var json = Json(d.Cli("get", "status", "-o", "json"));
        Assert.Equal(status.GetProperty("version").GetString(), json.GetProperty("version").GetString());
        Assert.False(json.GetProperty("datapathAdopted").GetBoolean());
        Assert.Equal(d.PinRoot, json.GetProperty("pinRoot").GetString());
        Assert.DoesNotContain("\\u002B", Ok(d.Cli("get", "status", "-o", "json")).Stdout);

        int n3 = d.Gateway.InterfaceIndex("n3"), n6 = d.Gateway.InterfaceIndex("n6");
        var pin = d.PinRoot + "/links/";
        var width = pin.Length + 2;
        Assert.Equal(
            $"| NAME | ROLE   | IFINDEX | ATTACHED | MODE   | {"PIN".PadRight(width)} |\n" +
            $"|------|--------|---------|----------|--------|-{new string('-', width)}-|\n" +
            $"| n3   | access | {n3,-7} | true     | native | {pin + "n3"} |\n" +
            $"| n6   | core   | {n6,-7} | true     | native | {pin + "n6"} |\n",
            Ok(d.Cli("get", "interfaces")).Stdout);
        var interfaces = Json(d.Cli("get", "interfaces", "-o", "json")).EnumerateArray().ToArray();
        Assert.Equal([("n3", "access", n3, true, "native"), ("n6", "core", n6, true, "native")], interfaces.Select(i =>
            (i.GetProperty("name").GetString(), i.GetProperty("role").GetString(), i.GetProperty("ifindex").GetInt32(), i.GetProperty("attached").GetBoolean(), i.GetProperty("mode").GetString())));

        Assert.Equal("""
            PFCP associations:
            | NODE ID | ENDPOINT | UP-INITIATED | SESSIONS | PEER RECOVERY | LAST HEARD |
            |---------|----------|--------------|----------|---------------|------------|

            PFCP sessions:
            | UP SEID | CP SEID | ASSOCIATION | PDRS | FARS | QERS | URRS | CP SETS (FQ-CSID) |
            |---------|---------|-------------|------|------|------|------|-------------------|

            """, Ok(d.Cli("get", "pfcp")).Stdout);
        var pfcp = Json(d.Cli("get", "pfcp", "-o", "json"));
        Assert.Equal(0, pfcp.GetProperty("associations").GetArrayLength());
        Assert.Equal(0, pfcp.GetProperty("sessions").GetArrayLength());

        var counters = Ok(d.Cli("get", "counters")).Stdout;
        var lines = counters.Split('\n');
        Assert.Equal("Datapath:", lines[0]);
        Assert.Matches(@"^\| REASON +\| PACKETS +\| BYTES +\|$", lines[1]);
        foreach (var reason in Enum.GetValues<DatapathStat>().Where(s => s != DatapathStat.Count).Select(ReplayRunner.Kebab))
            Assert.Contains(lines, l => Regex.IsMatch(l, $@"^\| {Regex.Escape(reason)} +\| \d+ +\| \d+ +\|$"));
        foreach (var (i, verdict) in new[] { "n3", "n6" }.SelectMany(i => new[] { "aborted", "drop", "pass", "tx", "redirect" }.Select(v => (i, v))))
            Assert.Contains(lines, l => Regex.IsMatch(l, $@"^\| {i} +\| {verdict} +\| \d+ +\| \d+ +\|$"));
        Assert.Contains("Interfaces:", lines);
        Assert.Contains("Sessions:", lines);
        // Per interface, only the reasons that counted something; --json has them all.
        var byReason = Array.IndexOf(lines, "Interfaces by reason:");
        Assert.True(byReason > 0, counters);
        Assert.Matches(@"^\| INTERFACE +\| REASON +\| PACKETS +\| BYTES +\|$", lines[byReason + 1]);
        foreach (var row in lines.Skip(byReason + 3).TakeWhile(l => l.StartsWith('|')))
            Assert.Matches(@"^\| n[36] +\| [a-z0-9-]+ +\| [1-9]\d* +\| \d+ +\|$", row);
        var countersJson = Json(d.Cli("get", "counters", "-o", "json"));
        Assert.Equal((int)DatapathStat.Count, countersJson.GetProperty("datapath").GetArrayLength()); // every reason
        Assert.Equal(10, countersJson.GetProperty("interfaces").GetArrayLength());
        Assert.Equal(2 * (int)DatapathStat.Count, countersJson.GetProperty("interfaceReasons").GetArrayLength());
    }

    [Fact]
    public void TextTable_PadsEveryColumnToItsWidestCell()
    {
        Assert.Equal("""
            | A   | LONG HEADER |
            |-----|-------------|
            | xyz | 1           |
            | q   |             |

            """, TextTable.Render(["A", "LONG HEADER"], [["xyz", "1"], ["q", ""]]));
        Assert.Equal("| A |\n|---|\n", TextTable.Render(["A"], []));
    }

    [Theory]
    [InlineData("127.0.0.1:11111", "http://127.0.0.1:11111/")]
    [InlineData("[2001:db8::1]:8080", "http://[2001:db8::1]:8080/")]
    [InlineData("gw.example:11111", "http://gw.example:11111/")]
    [InlineData("https://gw.example", "https://gw.example/")]
    [InlineData("127.0.0.1", null)]
    [InlineData("", null)]
    [InlineData("ftp://gw.example:21", null)]
    [InlineData("http://gw.example:1/api", null)]
    public void ApiAddress_IsAddressColonPortOrAUrl(string text, string? expected)
    {
        Assert.Equal(expected is not null, ApiClient.TryBaseAddress(text, out var uri));
        Assert.Equal(expected, uri?.ToString());
    }
}

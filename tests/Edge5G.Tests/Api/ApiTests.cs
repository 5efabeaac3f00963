using System.Net;
using System.Text.Json;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.LoxiLb;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>
/// Every REST resource of a running `edge5g run` (child process in a lab namespace): success,
/// refusals as problem details, and refusals that change nothing.
/// </summary>
public class ApiTests(LoopbackDaemonFixture fixture) : IClassFixture<LoopbackDaemonFixture>
{
    private HttpClient Client()
    {
        Privileged.Require();
        return fixture.Daemon.Client();
    }

    private static string LoxiSession(string ident, string ue = "192.0.2.10", uint accessTeid = 1, string gnb = LabDaemon.Gnb, uint coreTeid = 1,
        string local = LabDaemon.N3) =>
        $$$"""{"ident":"{{{ident}}}","sessionIp":"{{{ue}}}","accessNetworkTunnel":{"teId":{{{accessTeid}}},"tunnelIp":"{{{gnb}}}"},"coreNetworkTunnel":{"teId":{{{coreTeid}}},"tunnelIp":"{{{local}}}"}}""";

    private static string RuleSession(ulong seid, string ue, uint ulTeid, uint dlTeid, uint farOfPdr1 = 1, string routes = "[]") => $$"""
        {
          "seid": {{seid}},
          "name": "rules-{{seid}}",
          "pdrs": [
            { "id": 1, "precedence": 100, "sourceInterface": "access", "farId": {{farOfPdr1}},
              "fteid": { "teid": "0x{{ulTeid:x8}}", "ipv4": "{{LabDaemon.N3}}" }, "ueIpv4": "{{ue}}", "removeOuterHeader": true },
            { "id": 2, "precedence": 100, "sourceInterface": "core", "farId": 2, "ueIpv4": "{{ue}}", "qerIds": [1], "framedRoutes": {{routes}} }
          ],
          "fars": [
            { "id": 1, "action": ["forward"], "destinationInterface": "core" },
            { "id": 2, "action": ["forward"], "destinationInterface": "access", "outerHeader": { "teid": {{dlTeid}}, "peer": "{{LabDaemon.Gnb}}" } }
          ],
          "qers": [ { "id": 1, "qfi": 9 } ]
        }
        """;

    [SkippableFact]
    public void Version_AndTheOpenApiDocument_NameEveryResource()
    {
        using var client = Client();
        var version = client.Get("/api/v1/version").AssertStatus(HttpStatusCode.OK).Json.GetProperty("version").GetString();
        Assert.False(string.IsNullOrEmpty(version));
        Assert.Equal(version, client.Get("/api/v1/status").Json.GetProperty("version").GetString());

        var openapi = client.Get("/openapi/v1.json").AssertStatus(HttpStatusCode.OK);
        Assert.StartsWith("3.", openapi.Json.GetProperty("openapi").GetString());
        var paths = openapi.Json.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] expected =
        [
            "/api/v1/version", "/api/v1/status", "/api/v1/interfaces", "/api/v1/counters",
            "/api/v1/config/session", "/api/v1/config/session/ident/{ident}",
            "/api/v1/config/sessionulcl", "/api/v1/config/sessionulcl/ident/{ident}/ulclAddress/{address}",
            "/api/v1/rules/sessions", "/api/v1/rules/sessions/{seid}", "/api/v1/framedroutes",
            "/api/v1/pfcp/associations", "/api/v1/pfcp/sessions", "/api/v1/pfcp/sessions/{seid}/usage",
        ];
        Assert.All(expected, p => Assert.Contains(p, paths));
        var session = openapi.Json.GetProperty("paths").GetProperty("/api/v1/config/session");
        Assert.True(session.TryGetProperty("get", out _) && session.TryGetProperty("post", out _));
        var rules = openapi.Json.GetProperty("paths").GetProperty("/api/v1/rules/sessions/{seid}");
        Assert.True(rules.TryGetProperty("get", out _) && rules.TryGetProperty("put", out _) && rules.TryGetProperty("delete", out _));
    }

    [SkippableFact]
    public void Status_AndInterfaces_ShowTheDatapathAttachedToN3AndN6()
    {
        using var client = Client();
        var d = fixture.Daemon;
        var status = client.Get("/api/v1/status").AssertStatus(HttpStatusCode.OK).Json;
        Assert.False(status.GetProperty("datapathAdopted").GetBoolean());
        Assert.Equal(d.PinRoot, status.GetProperty("pinRoot").GetString());
        Assert.Equal([LabDaemon.N3], status.GetProperty("gtpAddresses").EnumerateArray().Select(a => a.GetString()));
        Assert.True(DateTimeOffset.UtcNow - status.GetProperty("startedAt").GetDateTimeOffset() < TimeSpan.FromMinutes(5));

        var interfaces = client.Get("/api/v1/interfaces").AssertStatus(HttpStatusCode.OK).Json.EnumerateArray().ToArray();
        Assert.Equal(["n3", "n6"], interfaces.Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(["access", "core"], interfaces.Select(i => i.GetProperty("role").GetString()));
        Assert.All(interfaces, i =>
        {
            Assert.True(i.GetProperty("attached").GetBoolean());
            Assert.Equal("native", i.GetProperty("mode").GetString());
            var name = i.GetProperty("name").GetString()!;
            Assert.Equal(d.Gateway.InterfaceIndex(name), i.GetProperty("ifindex").GetInt32());
            Assert.Equal(Path.Combine(d.PinRoot, "links", name), i.GetProperty("pinPath").GetString());
            Assert.True(File.Exists(i.GetProperty("pinPath").GetString()), "the link is pinned");
            Assert.NotNull(d.XdpProgramId(name));
        });
        Assert.Equal(interfaces.Select(i => i.GetRawText()), status.GetProperty("interfaces").EnumerateArray().Select(i => i.GetRawText()));
    }

    [SkippableFact]
    public void LoxiLbSession_CreateListDelete_AndTheRefusals()
    {
        using var client = Client();
        var created = client.Post("/api/v1/config/session", LoxiSession("api-user1", "192.0.2.11", accessTeid: 0x51, coreTeid: 0x61))
            .AssertStatus(HttpStatusCode.Created);
        Assert.Equal("Success", created.Json.GetProperty("result").GetString());
        Assert.True(created.Json.GetProperty("seid").GetUInt64() >= LoxiLbSessions.SeidBase);
        Assert.Equal("/api/v1/config/session/ident/api-user1", created.Location);
        try
        {
            var listed = Assert.Single(client.Get("/api/v1/config/session").AssertStatus(HttpStatusCode.OK).Json.EnumerateArray(),
                s => s.GetProperty("ident").GetString() == "api-user1");
            Assert.Equal("192.0.2.11", listed.GetProperty("sessionIp").GetString());
            Assert.Equal((0x51u, LabDaemon.Gnb), (listed.GetProperty("accessNetworkTunnel").GetProperty("teId").GetUInt32(),
                listed.GetProperty("accessNetworkTunnel").GetProperty("tunnelIp").GetString()));
            Assert.Equal((0x61u, LabDaemon.N3), (listed.GetProperty("coreNetworkTunnel").GetProperty("teId").GetUInt32(),
                listed.GetProperty("coreNetworkTunnel").GetProperty("tunnelIp").GetString()));
            var before = client.Get("/api/v1/config/session").Text;
            var rulesBefore = client.Get("/api/v1/rules/sessions").Text;

            var duplicate = client.Post("/api/v1/config/session", LoxiSession("api-user1", "192.0.2.11", accessTeid: 0x51, coreTeid: 0x61))
                .AssertProblem(HttpStatusCode.Conflict, "conflict");
            Assert.Equal("session 'api-user1' already exists", duplicate.Detail);

            var badUe = client.Post("/api/v1/config/session", LoxiSession("api-user2", "192.0.2.999")).AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal("sessionIp: '192.0.2.999' is not an IP address", badUe.Detail);
            var badTunnel = client.Post("/api/v1/config/session", LoxiSession("api-user2", gnb: "gnb.example")).AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal("accessNetworkTunnel.tunnelIp: 'gnb.example' is not an IP address", badTunnel.Detail);
            var missing = client.Post("/api/v1/config/session", """{"ident":"api-user2","sessionIp":"192.0.2.12","accessNetworkTunnel":{"teId":2,"tunnelIp":"198.51.100.2"}}""")
                .AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal("coreNetworkTunnel: required", missing.Detail);
            var ipv6Ue = client.Post("/api/v1/config/session", LoxiSession("api-user2", "2001:db8::12")).AssertProblem(HttpStatusCode.BadRequest, "invalid rules");
            Assert.Contains("is not an IPv4 address", ipv6Ue.Detail);
            // The same uplink F-TEID as api-user1: the compiler refuses, nothing changes.
            var clash = client.Post("/api/v1/config/session", LoxiSession("api-user2", "192.0.2.12", coreTeid: 0x61)).AssertProblem(HttpStatusCode.Conflict, "conflict");
            Assert.Contains("already belongs to session", clash.Detail);
            var notJson = client.Post("/api/v1/config/session", "{ident: nope");
            Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);

            Assert.Equal(before, client.Get("/api/v1/config/session").Text);
            Assert.Equal(rulesBefore, client.Get("/api/v1/rules/sessions").Text);
        }
        finally
        {
            client.Delete("/api/v1/config/session/ident/api-user1").AssertStatus(HttpStatusCode.OK);
        }
        Assert.DoesNotContain(client.Get("/api/v1/config/session").Json.EnumerateArray(), s => s.GetProperty("ident").GetString() == "api-user1");
        var unknown = client.Delete("/api/v1/config/session/ident/api-user1").AssertProblem(HttpStatusCode.NotFound, "no such session");
        Assert.Equal("no session 'api-user1'", unknown.Detail);
    }

    [SkippableFact]
    public void SessionUlcl_CreateListDelete_AndTheRefusals()
    {
        using var client = Client();
        client.Post("/api/v1/config/session", LoxiSession("api-ulcl", "192.0.2.21", accessTeid: 0x71, coreTeid: 0x81)).AssertStatus(HttpStatusCode.Created);
        try
        {
            var created = client.Post("/api/v1/config/sessionulcl", """{"ulclIdent":"api-ulcl","ulclArgument":{"qfi":9,"ulclIp":"203.0.113.200"}}""")
                .AssertStatus(HttpStatusCode.Created);
            Assert.Equal("/api/v1/config/sessionulcl/ident/api-ulcl", created.Location);
            client.Post("/api/v1/config/sessionulcl", """{"ulclIdent":"api-ulcl","ulclArgument":{"qfi":5,"ulclIp":"203.0.113.201"}}""").AssertStatus(HttpStatusCode.Created);
            var ulcls = client.Get("/api/v1/config/sessionulcl").AssertStatus(HttpStatusCode.OK).Json.EnumerateArray()
                .Where(u => u.GetProperty("ulclIdent").GetString() == "api-ulcl")
                .Select(u => (u.GetProperty("ulclArgument").GetProperty("qfi").GetInt32(), u.GetProperty("ulclArgument").GetProperty("ulclIp").GetString()))
                .ToArray();
            Assert.Equal([(9, "203.0.113.200"), (5, "203.0.113.201")], ulcls);
            // The classifiers are rules of the session: PDR 100/101 (uplink) and 200/201 (downlink).
            var rules = Assert.Single(client.Get("/api/v1/rules/sessions").Json.EnumerateArray(), s => s.TryGetProperty("name", out var n) && n.GetString() == "api-ulcl");
            Assert.Equal([1, 2, 100, 200, 101, 201], rules.GetProperty("pdrs").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()));
            var before = client.Get("/api/v1/config/sessionulcl").Text;

            var qfi = client.Post("/api/v1/config/sessionulcl", """{"ulclIdent":"api-ulcl","ulclArgument":{"qfi":64,"ulclIp":"203.0.113.202"}}""")
                .AssertProblem(HttpStatusCode.BadRequest, "invalid rules");
            Assert.Equal("ulclArgument.qfi: 64 is out of range 0-63", qfi.Detail);
            var badIp = client.Post("/api/v1/config/sessionulcl", """{"ulclIdent":"api-ulcl","ulclArgument":{"qfi":1,"ulclIp":"nowhere"}}""")
                .AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal("ulclArgument.ulclIp: 'nowhere' is not an IP address", badIp.Detail);
            var again = client.Post("/api/v1/config/sessionulcl", """{"ulclIdent":"api-ulcl","ulclArgument":{"qfi":9,"ulclIp":"203.0.113.200"}}""")
                .AssertProblem(HttpStatusCode.Conflict, "conflict");
            Assert.Equal("session 'api-ulcl' already has a classifier for 203.0.113.200", again.Detail);
            var unknown = client.Post("/api/v1/config/sessionulcl", """{"ulclIdent":"nobody","ulclArgument":{"qfi":9,"ulclIp":"203.0.113.200"}}""")
                .AssertProblem(HttpStatusCode.NotFound, "no such session");
            Assert.Equal("no session 'nobody'", unknown.Detail);
            Assert.Equal(before, client.Get("/api/v1/config/sessionulcl").Text);

            client.Delete("/api/v1/config/sessionulcl/ident/api-ulcl/ulclAddress/203.0.113.200").AssertStatus(HttpStatusCode.OK);
            Assert.Equal([(5, "203.0.113.201")], client.Get("/api/v1/config/sessionulcl").Json.EnumerateArray()
                .Where(u => u.GetProperty("ulclIdent").GetString() == "api-ulcl")
                .Select(u => (u.GetProperty("ulclArgument").GetProperty("qfi").GetInt32(), u.GetProperty("ulclArgument").GetProperty("ulclIp").GetString())));
            var gone = client.Delete("/api/v1/config/sessionulcl/ident/api-ulcl/ulclAddress/203.0.113.200").AssertProblem(HttpStatusCode.NotFound, "no such session");
            Assert.Equal("session 'api-ulcl' has no classifier for 203.0.113.200", gone.Detail);
            client.Delete("/api/v1/config/sessionulcl/ident/api-ulcl/ulclAddress/not-an-ip").AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            client.Delete("/api/v1/config/sessionulcl/ident/nobody/ulclAddress/203.0.113.201").AssertProblem(HttpStatusCode.NotFound, "no such session");
        }
        finally
        {
            client.Delete("/api/v1/config/session/ident/api-ulcl").AssertStatus(HttpStatusCode.OK);
        }
        Assert.DoesNotContain(client.Get("/api/v1/config/sessionulcl").Json.EnumerateArray(), u => u.GetProperty("ulclIdent").GetString() == "api-ulcl");
    }

    [SkippableFact]
    public void RuleSessions_PostGetPutDelete_AndAnInconsistentSessionChangesNothing()
    {
        using var client = Client();
        const ulong seid = 0x4001;
        var created = client.Post("/api/v1/rules/sessions", RuleSession(seid, "192.0.2.31", 0x1001, 0x2001)).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(seid, created.Json.GetProperty("seid").GetUInt64());
        Assert.Equal($"/api/v1/rules/sessions/{seid}", created.Location);
        try
        {
            var got = client.Get($"/api/v1/rules/sessions/{seid}").AssertStatus(HttpStatusCode.OK).Json;
            Assert.Equal(seid, got.GetProperty("seid").GetUInt64());
            Assert.Equal($"rules-{seid}", got.GetProperty("name").GetString());
            var pdr1 = got.GetProperty("pdrs")[0];
            Assert.Equal(("0x00001001", LabDaemon.N3), (pdr1.GetProperty("fteid").GetProperty("teid").GetString(), pdr1.GetProperty("fteid").GetProperty("ipv4").GetString()));
            Assert.Contains(client.Get("/api/v1/rules/sessions").Json.EnumerateArray(), s => s.GetProperty("seid").GetUInt64() == seid);

            // PUT: the gNB moved to another TEID.
            var modified = client.Put($"/api/v1/rules/sessions/{seid}", RuleSession(seid, "192.0.2.31", 0x1001, 0x2002)).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(seid, modified.Json.GetProperty("seid").GetUInt64());
            var far2 = client.Get($"/api/v1/rules/sessions/{seid}").Json.GetProperty("fars")[1];
            Assert.Equal("0x00002002", far2.GetProperty("outerHeader").GetProperty("teid").GetString());

            var one = client.Get($"/api/v1/rules/sessions/{seid}").Text;
            var all = client.Get("/api/v1/rules/sessions").Text;
            var counters = client.Get("/api/v1/counters").Json.GetProperty("sessions").GetRawText();

            // PDR 1 refers to FAR 9: refused with the compiler's message, nothing changed.
            var inconsistent = client.Put($"/api/v1/rules/sessions/{seid}", RuleSession(seid, "192.0.2.31", 0x1003, 0x2003, farOfPdr1: 9))
                .AssertProblem(HttpStatusCode.BadRequest, "invalid rules");
            Assert.Equal("PDR 1 refers to FAR 9, which the session does not have", inconsistent.Detail);
            var newInconsistent = client.Post("/api/v1/rules/sessions", RuleSession(0x4002, "192.0.2.32", 0x1004, 0x2004, farOfPdr1: 9))
                .AssertProblem(HttpStatusCode.BadRequest, "invalid rules");
            Assert.Equal("PDR 1 refers to FAR 9, which the session does not have", newInconsistent.Detail);
            var mismatch = client.Put($"/api/v1/rules/sessions/{seid}", RuleSession(seid + 1, "192.0.2.31", 0x1001, 0x2002))
                .AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal($"session.seid: {seid + 1} differs from the SEID {seid} in the path", mismatch.Detail);
            var badAddress = client.Post("/api/v1/rules/sessions", RuleSession(0x4003, "192.0.2.300", 0x1005, 0x2005))
                .AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal("session.pdrs[0].ueIpv4: '192.0.2.300' is not an IPv4 or IPv6 address", badAddress.Detail);
            var duplicate = client.Post("/api/v1/rules/sessions", RuleSession(seid, "192.0.2.33", 0x1006, 0x2006)).AssertProblem(HttpStatusCode.Conflict, "conflict");
            Assert.Equal($"session SEID {seid} already exists", duplicate.Detail);
            client.Put("/api/v1/rules/sessions/99999", RuleSession(99999, "192.0.2.34", 0x1007, 0x2007)).AssertProblem(HttpStatusCode.NotFound, "no such session");

            Assert.Equal(one, client.Get($"/api/v1/rules/sessions/{seid}").Text);
            Assert.Equal(all, client.Get("/api/v1/rules/sessions").Text);
            Assert.Equal(counters, client.Get("/api/v1/counters").Json.GetProperty("sessions").GetRawText());
            client.Get("/api/v1/rules/sessions/99998").AssertProblem(HttpStatusCode.NotFound, "no such session");
        }
        finally
        {
            client.Delete($"/api/v1/rules/sessions/{seid}").AssertStatus(HttpStatusCode.OK);
        }
        client.Get($"/api/v1/rules/sessions/{seid}").AssertProblem(HttpStatusCode.NotFound, "no such session");
        client.Delete($"/api/v1/rules/sessions/{seid}").AssertProblem(HttpStatusCode.NotFound, "no such session");
    }

    [SkippableFact]
    public void RuleSessions_WithFramedRoutes_ShowThem_AndABadOrTakenRouteChangesNothing()
    {
        using var client = Client();
        const ulong seid = 0x4101;
        client.Post("/api/v1/rules/sessions", RuleSession(seid, "192.0.2.51", 0x1101, 0x2101, routes: """["198.51.100.0/25", "2001:db8:51::/48"]"""))
            .AssertStatus(HttpStatusCode.Created);
        try
        {
            var pdr2 = client.Get($"/api/v1/rules/sessions/{seid}").AssertStatus(HttpStatusCode.OK).Json.GetProperty("pdrs")[1];
            Assert.Equal(["198.51.100.0/25", "2001:db8:51::/48"], pdr2.GetProperty("framedRoutes").EnumerateArray().Select(r => r.GetString()));
            var routes = client.Get("/api/v1/framedroutes").AssertStatus(HttpStatusCode.OK).Json.EnumerateArray()
                .Select(r => (r.GetProperty("route").GetString(), r.GetProperty("seid").GetUInt64(), r.GetProperty("pdr").GetInt32()));
            Assert.Equal([("198.51.100.0/25", seid, 2), ("2001:db8:51::/48", seid, 2)], routes);
            var listed = fixture.Daemon.Cli("get", "framedroutes");
            Assert.True(listed.ExitCode == 0, listed.ToString());
            Assert.Matches($@"\|\s*198\.51\.100\.0/25\s*\|\s*{seid}\s*\|\s*2\s*\|", listed.Stdout);
            var all = client.Get("/api/v1/rules/sessions").Text;

            var bad = client.Put($"/api/v1/rules/sessions/{seid}", RuleSession(seid, "192.0.2.51", 0x1101, 0x2101, routes: """["198.51.100.1/25"]"""))
                .AssertProblem(HttpStatusCode.BadRequest, "invalid request");
            Assert.Equal("session.pdrs[1].framedRoutes[0]: framed route '198.51.100.1/25': bits are set past the prefix length (the network is 198.51.100.0/25)", bad.Detail);
            var taken = client.Post("/api/v1/rules/sessions", RuleSession(seid + 1, "192.0.2.52", 0x1102, 0x2102, routes: """["198.51.100.0/25"]"""))
                .AssertProblem(HttpStatusCode.Conflict, "conflict");
            Assert.Equal($"framed route 198.51.100.0/25 already belongs to session SEID {seid}", taken.Detail);

            Assert.Equal(all, client.Get("/api/v1/rules/sessions").Text);
        }
        finally
        {
            client.Delete($"/api/v1/rules/sessions/{seid}").AssertStatus(HttpStatusCode.OK);
        }
    }

    [SkippableFact]
    public void Counters_NameEveryDatapathReasonAndInterfaceVerdict_AndEachSessionsPdrs()
    {
        using var client = Client();
        client.Post("/api/v1/config/session", LoxiSession("api-counted", "192.0.2.41", accessTeid: 0x91, coreTeid: 0xa1)).AssertStatus(HttpStatusCode.Created);
        try
        {
            var counters = client.Get("/api/v1/counters").AssertStatus(HttpStatusCode.OK).Json;
            var reasons = counters.GetProperty("datapath").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToArray();
            Assert.Equal(Enum.GetValues<DatapathStat>().Where(s => s != DatapathStat.Count).Select(ReplayRunner.Kebab), reasons);
            var interfaces = counters.GetProperty("interfaces").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToHashSet();
            foreach (var i in new[] { "n3", "n6" })
                foreach (var verdict in new[] { "aborted", "drop", "pass", "tx", "redirect" })
                    Assert.Contains($"{i}/{verdict}", interfaces);
            // Per interface every reason, in the order of the totals. Their sums are the totals
            // (the program runs only on n3 and n6, both with roles, so the row of interfaces
            // without one stays empty); the totals were read first, and traffic since can only
            // have added to the sums.
            var perInterface = counters.GetProperty("interfaceReasons").EnumerateArray().ToArray();
            Assert.Equal(new[] { "n3", "n6" }.SelectMany(i => reasons.Select(r => $"{i}/{r}")), perInterface.Select(c => c.GetProperty("name").GetString()));
            foreach (var total in counters.GetProperty("datapath").EnumerateArray())
            {
                var name = total.GetProperty("name").GetString();
                var sum = perInterface.Where(c => c.GetProperty("name").GetString()!.EndsWith("/" + name, StringComparison.Ordinal)).Sum(c => (decimal)c.GetProperty("packets").GetUInt64());
                Assert.True(sum >= total.GetProperty("packets").GetUInt64(), $"{name}: the interfaces' {sum} packets fall short of the total");
            }
            Assert.All(counters.GetProperty("datapath").EnumerateArray().Concat(counters.GetProperty("interfaces").EnumerateArray()), c =>
                Assert.True(c.GetProperty("packets").GetUInt64() <= c.GetProperty("bytes").GetUInt64()));
            var session = Assert.Single(counters.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("name").GetString() == "api-counted");
            Assert.Equal([1, 2], session.GetProperty("pdrs").EnumerateArray().Select(p => p.GetProperty("pdr").GetInt32()));
        }
        finally
        {
            client.Delete("/api/v1/config/session/ident/api-counted").AssertStatus(HttpStatusCode.OK);
        }
    }

    [SkippableFact]
    public void Pfcp_AssociationsAndSessions_AreEmptyLists()
    {
        using var client = Client();
        var associations = client.Get("/api/v1/pfcp/associations").AssertStatus(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Array, associations.Json.ValueKind);
        Assert.Equal(0, associations.Json.GetArrayLength());
        var sessions = client.Get("/api/v1/pfcp/sessions").AssertStatus(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Array, sessions.Json.ValueKind);
        Assert.Equal(0, sessions.Json.GetArrayLength());
        client.Get("/api/v1/pfcp/sessions/77/usage").AssertProblem(HttpStatusCode.NotFound, "no such session");
    }

    [SkippableFact]
    public void UnknownPaths_Are404_AndNoTokenIsAskedForOnLoopback()
    {
        using var client = Client();
        Assert.Equal(HttpStatusCode.NotFound, client.Get("/api/v1/nothing-here").Status);
        Assert.Equal(HttpStatusCode.OK, client.Get("/metrics").Status);
    }
}

using System.Net;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>A daemon whose API listens on the N3 lab address (not loopback) behind a bearer token.</summary>
public sealed class TokenDaemonFixture : DaemonFixture
{
    public const string Secret = "lab-token-7f3a9c";

    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Api:Listen"] = LabDaemon.N3 + ":{port}",
        ["Api:Token"] = Secret,
    };

    protected override string? Token => Secret;
}

/// <summary>The bearer token on a non-loopback API, from another host (the peer namespace) and through the CLI.</summary>
public class AuthTests(TokenDaemonFixture fixture) : IClassFixture<TokenDaemonFixture>
{
    private LabDaemon Daemon()
    {
        Privileged.Require();
        return fixture.Daemon;
    }

    [SkippableFact]
    public void NonLoopbackApi_Answers401WithoutOrWithAWrongToken_And200WithIt()
    {
        var d = Daemon();
        Assert.Equal($"{LabDaemon.N3}:{d.Port}", d.ApiAddress);
        using var anonymous = d.Client(from: d.Peer);
        using var wrong = d.Client(token: "not-the-token", from: d.Peer);
        using var right = d.Client(token: TokenDaemonFixture.Secret, from: d.Peer);
        foreach (var path in new[] { "/api/v1/status", "/api/v1/config/session", "/metrics", "/openapi/v1.json" })
        {
            var refused = anonymous.Get(path).AssertProblem(HttpStatusCode.Unauthorized, "unauthorized");
            Assert.Equal("a bearer token is required", refused.Detail);
            wrong.Get(path).AssertProblem(HttpStatusCode.Unauthorized, "unauthorized");
            right.Get(path).AssertStatus(HttpStatusCode.OK);
        }
        // Refused changes change nothing.
        var body = """{"ident":"auth-user","sessionIp":"192.0.2.90","accessNetworkTunnel":{"teId":9,"tunnelIp":"198.51.100.2"},"coreNetworkTunnel":{"teId":9,"tunnelIp":"198.51.100.1"}}""";
        anonymous.Post("/api/v1/config/session", body).AssertProblem(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("[]", right.Get("/api/v1/config/session").Text);
        using var basic = d.Client(from: d.Peer);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", TokenDaemonFixture.Secret);
        basic.Get("/api/v1/status").AssertProblem(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [SkippableFact]
    public void Cli_SendsTheTokenFromTheOptionOrTheEnvironment()
    {
        var d = Daemon();
        var none = d.Cli("get", "status");
        Assert.Equal((1, "", "edge5g get status: unauthorized: a bearer token is required\n"), (none.ExitCode, none.Stdout, none.Stderr));
        var wrong = d.Cli("get", "status", "--token", "nope");
        Assert.Equal(1, wrong.ExitCode);
        var option = d.Cli("get", "status", "--token", TokenDaemonFixture.Secret, "-o", "json");
        Assert.True(option.ExitCode == 0, option.ToString());
        Assert.Contains("\"datapathAdopted\": false", option.Stdout);
        var environment = d.Cli(new Dictionary<string, string?> { ["EDGE5G_TOKEN"] = TokenDaemonFixture.Secret }, "get", "interfaces");
        Assert.True(environment.ExitCode == 0, environment.ToString());
        Assert.StartsWith("| NAME | ROLE ", environment.Stdout);
    }
}

/// <summary>`edge5g run` refuses invalid configurations before touching anything: exit 2 and one line per problem.</summary>
public class RunConfigurationTests
{
    private static CliResult Run(params string[] args) =>
        LabDaemon.RunToCompletion(LabDaemon.Executable, ["run", .. args], timeout: TimeSpan.FromSeconds(30));

    private static void AssertRefused(CliResult r, params string[] problems)
    {
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal(["edge5g run: invalid configuration:", .. problems.Select(p => "  " + p)], r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void NonLoopbackListen_WithoutAToken_IsRefused()
    {
        AssertRefused(Run("--access", "n3", "--core", "n6", "--gtp-address", "198.51.100.1", "--api", "198.51.100.1:11111"),
            "Api.Token: listening on 198.51.100.1:11111 (not loopback) requires a bearer token");
        AssertRefused(Run("--access", "n3", "--core", "n6", "--gtp-address", "198.51.100.1", "--api", "[::]:11111"),
            "Api.Token: listening on [::]:11111 (not loopback) requires a bearer token");
    }

    [Fact]
    public void MissingInterfaces_AndAddresses_AreNamed()
    {
        AssertRefused(Run("--core", "n6", "--gtp-address", "198.51.100.1"), "Interfaces.Access: the N3 interface is required (--access IF)");
        AssertRefused(Run(),
            "Interfaces.Access: the N3 interface is required (--access IF)",
            "Interfaces.Core: the N6 interface is required (--core IF)",
            "Gtp.AccessAddresses: at least one N3 GTP-U address is required");
    }

    [Fact]
    public void BadValues_AreNamedWithTheirKey()
    {
        AssertRefused(Run("--access", "n3", "--core", "n6", "--gtp-address", "198.51.100.1", "--pfcp-peer", "198.51.100.0/24", "--pfcp-peer", "198.51.100.0/33"),
            "Pfcp.Peers[1]: '198.51.100.0/33' is not an address or CIDR prefix");
        AssertRefused(Run("--access", "n3", "--core", "n6", "--gtp-address", "gnb.example", "--xdp-mode", "turbo", "--pfcp", "n4", "--api", "localhost:1"),
            "Interfaces.XdpMode: 'turbo' must be native or generic",
            "Gtp.AccessAddresses[0]: 'gnb.example' is not an IP address",
            "Pfcp.Address: 'n4' is not an IP address",
            "Api.Listen: 'localhost:1' is not address:port");
        AssertRefused(Run("--access", "n3", "--core", "n6", "--gtp-address", "198.51.100.1", "--ue-pool", "192.0.2.0/24", "--ue-pool", "pool"),
            "Pfcp.UePools[1]: 'pool' is not a CIDR prefix");
    }

    [Fact]
    public void EnvironmentVariables_AreChecked_LikeTheFile()
    {
        // Pfcp.Smfs used to pass validation and crash the PFCP service after the datapath had
        // attached (unhandled FormatException, pins left behind): now it is refused up front.
        var r = LabDaemon.RunToCompletion(LabDaemon.Executable, ["run", "--access", "n3", "--core", "n6", "--gtp-address", "198.51.100.1", "--pfcp", "198.51.100.1"],
            new Dictionary<string, string?> { ["EDGE5G_Pfcp__Smfs__0"] = "198.51.100.10", ["EDGE5G_Pfcp__Smfs__1"] = "smf.example", ["EDGE5G_Pfcp__N1"] = "-1" });
        AssertRefused(r, "Pfcp.Smfs[1]: 'smf.example' is not address[:port]", "Pfcp.N1: -1 must be at least 0");
    }

    [Fact]
    public void ConfigurationFile_ProblemsAreNamed_AndAMissingFileIsOne()
    {
        AssertRefused(Run("--config", "/nonexistent/edge5g.yaml"), "--config: the configuration file '/nonexistent/edge5g.yaml' does not exist");
        var file = Path.Combine(Path.GetTempPath(), $"e5g-config-{Environment.ProcessId}-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, """
            Interfaces:
              Access: n3
              Core: n6
            Gtp:
              AccessAddresses: [198.51.100.1]
            Pfcp:
              Port: 70000
              OnAssociationLoss: forget
            Api:
              Listen: 0.0.0.0:11111
            Datapath:
              PinRoot: relative/pins
            """);
        try
        {
            AssertRefused(Run("--config", file),
                "Pfcp.Port: 70000 is not a UDP port",
                "Pfcp.OnAssociationLoss: 'forget' must be keep or purge",
                "Api.Token: listening on 0.0.0.0:11111 (not loopback) requires a bearer token",
                "Datapath.PinRoot: 'relative/pins' must be an absolute path on bpffs");
            // Command-line options override the file: with a loopback API only the others remain.
            AssertRefused(Run("--config", file, "--api", "127.0.0.1:11111"),
                "Pfcp.Port: 70000 is not a UDP port",
                "Pfcp.OnAssociationLoss: 'forget' must be keep or purge",
                "Datapath.PinRoot: 'relative/pins' must be an absolute path on bpffs");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void UsageErrors_Exit2()
    {
        var r = Run("--no-such-option");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Unrecognized command or argument '--no-such-option'.", r.Stderr);
    }
}

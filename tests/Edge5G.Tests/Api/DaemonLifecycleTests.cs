using System.Net;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>
/// Stopping and starting `edge5g run` in the lab: with Datapath.KeepOnStop the XDP program
/// keeps running between the processes and the next one adopts maps, links and sessions;
/// without it, stopping detaches and removes every pin.
/// </summary>
public class DaemonLifecycleTests
{
    private const string Session = """{"ident":"restart-user","sessionIp":"192.0.2.100","accessNetworkTunnel":{"teId":4660,"tunnelIp":"198.51.100.2"},"coreNetworkTunnel":{"teId":22136,"tunnelIp":"198.51.100.1"}}""";

    [SkippableFact]
    public void KeepOnStop_TheNextProcessAdoptsPinsLinksAndSessions_AndXdpStaysAttachedThroughout()
    {
        Privileged.Require();
        using var d = LabDaemon.Start(new Dictionary<string, string?> { ["Datapath:KeepOnStop"] = "true" });
        string sessionsBefore;
        ulong seid;
        using (var http = d.Client())
        {
            Assert.False(http.Get("/api/v1/status").Json.GetProperty("datapathAdopted").GetBoolean());
            seid = http.Post("/api/v1/config/session", Session).AssertStatus(HttpStatusCode.Created).Json.GetProperty("seid").GetUInt64();
            sessionsBefore = http.Get("/api/v1/config/session").Text;
        }
        var n3 = d.XdpProgramId("n3");
        var n6 = d.XdpProgramId("n6");
        Assert.NotNull(n3);
        Assert.Equal(n3, n6);

        Assert.Equal(0, d.Stop());
        Assert.Contains($"stopping: datapath kept forwarding (pins under {d.PinRoot})", d.Log);
        // No process runs: the pinned links keep the same program attached.
        Assert.Equal(n3, d.XdpProgramId("n3"));
        Assert.Equal(n3, d.XdpProgramId("n6"));
        Assert.True(File.Exists(Path.Combine(d.PinRoot, "links", "n3")));
        Assert.True(File.Exists(Path.Combine(d.PinRoot, "links", "n6")));
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(d.PinRoot, "maps")));
        Assert.True(File.Exists(Path.Combine(d.StateDirectory, "sessions.json")));

        d.StartProcess();
        using (var http = d.Client())
        {
            var status = http.Get("/api/v1/status").AssertStatus(HttpStatusCode.OK).Json;
            Assert.True(status.GetProperty("datapathAdopted").GetBoolean());
            Assert.Equal(1, status.GetProperty("sessions").GetInt32());
            Assert.Equal(sessionsBefore, http.Get("/api/v1/config/session").Text);
            Assert.Equal("restart-user", http.Get($"/api/v1/rules/sessions/{seid}").AssertStatus(HttpStatusCode.OK).Json.GetProperty("name").GetString());
            // The adopted session is the LoxiLB front end's again: a duplicate is refused, a delete works.
            http.Post("/api/v1/config/session", Session).AssertProblem(HttpStatusCode.Conflict, "conflict");
            Assert.Contains("edge5g_program_loaded{adopted=\"true\"} 1", http.Get("/metrics").Text);
        }
        Assert.Contains("adopted the pinned XDP link on n3; program replaced in place", d.Log);
        Assert.Contains("adopted the pinned XDP link on n6; program replaced in place", d.Log);
        Assert.Contains("adopted 1 sessions from the saved state", d.Log);
        // The same links carry the new process's program: still attached, replaced in place.
        var adopted = d.XdpProgramId("n3");
        Assert.NotNull(adopted);
        Assert.Equal(adopted, d.XdpProgramId("n6"));

        var cli = d.Cli("get", "status");
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Contains("| true             |", cli.Stdout);
        Assert.Equal(0, d.Stop());
    }

    [SkippableFact]
    public void WithoutKeepOnStop_StoppingDetachesAndRemovesThePinsAndTheState()
    {
        Privileged.Require();
        using var d = LabDaemon.Start();
        using (var http = d.Client())
            http.Post("/api/v1/config/session", Session).AssertStatus(HttpStatusCode.Created);
        Assert.NotNull(d.XdpProgramId("n3"));
        Assert.True(Directory.Exists(Path.Combine(d.PinRoot, "links")));

        Assert.Equal(0, d.Stop());
        Assert.Contains($"stopping: datapath detached and pins under {d.PinRoot} removed", d.Log);
        Assert.False(Directory.Exists(d.PinRoot), "the pin root is removed");
        Assert.Null(d.XdpProgramId("n3"));
        Assert.Null(d.XdpProgramId("n6"));
        Assert.False(File.Exists(Path.Combine(d.StateDirectory, "sessions.json")));

        // A new process starts from nothing.
        d.StartProcess();
        using (var http = d.Client())
        {
            Assert.False(http.Get("/api/v1/status").Json.GetProperty("datapathAdopted").GetBoolean());
            Assert.Equal("[]", http.Get("/api/v1/config/session").Text);
        }
    }

    [SkippableFact]
    public void AFailedStart_AfterTheDatapathAttached_DetachesAndUnpins()
    {
        Privileged.Require();
        // 203.0.113.99 is on no interface: the PFCP node cannot bind, after the datapath attached.
        using var d = LabDaemon.Create(new Dictionary<string, string?> { ["Pfcp:Address"] = "203.0.113.99" });
        var r = d.RunToExit();
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("edge5g run: Cannot assign requested address", r.Stderr);
        Assert.Contains($"stopping: datapath detached and pins under {d.PinRoot} removed", r.Stdout + r.Stderr);
        Assert.False(Directory.Exists(d.PinRoot), "the pin root is removed");
        Assert.Null(d.XdpProgramId("n3"));
        Assert.Null(d.XdpProgramId("n6"));
    }
}

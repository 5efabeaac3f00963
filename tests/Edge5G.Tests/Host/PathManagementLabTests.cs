using System.Net;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Api;
using LoxiLb.Edge5G.Tests.GtpuPath;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Host;

/// <summary>
/// GTP-U path management in the daemon, end to end: `edge5g run` watches the gNB its session's
/// tunnel leads to, and the SMF hears of it through PFCP Node Reports, failed while the gNB is
/// silent and recovered once it answers Echo Requests.
/// </summary>
public class PathManagementLabTests
{
    [SkippableFact]
    public void ASilentGnb_IsReportedToTheSmfAsAFailedPath_AndAsRecoveredWhenItAnswers()
    {
        Privileged.Require();
        using var daemon = LabDaemon.Start(new Dictionary<string, string?>
        {
            ["Gtp:EchoInterval"] = "1", ["Gtp:EchoTimeout"] = "1", ["Gtp:EchoRetries"] = "1",
        });
        var gnbAddress = IPAddress.Parse(LabDaemon.Gnb);
        var (smf, est, _) = daemon.PlainSession(routeFromDataNetwork: false);
        using var _ = smf;
        smf.Request(DemoSmf.GnbKnown(0x601, gnbAddress), est.UpFSeid!.Seid);

        // Nothing answers on the gNB's UDP 2152: one interval, one unanswered request, failed.
        Assert.True(GtpuPathMonitorTests.Eventually(() => smf.NodeReports.Count >= 1, TimeSpan.FromSeconds(10)), $"no Node Report reached the SMF\n{daemon.Log}");
        var failure = smf.NodeReports[0];
        Assert.Equal(NodeReportType.Upfr, failure.ReportType);
        Assert.Equal([0x02, .. gnbAddress.GetAddressBytes()], Assert.Single(failure.UserPlanePathFailureReport!.Children!).Value.ToArray());
        using var http = daemon.Client();
        string Metrics() => http.GetStringAsync("metrics").GetAwaiter().GetResult();
        Assert.Contains("edge5g_gtpu_paths{state=\"failed\"} 1\n", Metrics());
        var listed = daemon.Cli("get", "gtpupaths");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Matches(@"\|\s*198\.51\.100\.2\s*\|\s*failed\s*\|", listed.Stdout);
        var json = System.Text.Json.JsonDocument.Parse(daemon.Cli("get", "gtpupaths", "-o", "json").Stdout).RootElement;
        var path = Assert.Single(json.EnumerateArray());
        Assert.Equal(("198.51.100.2", true), (path.GetProperty("peer").GetString(), path.GetProperty("failed").GetBoolean()));

        GtpuPathMonitorTests.Peer gnb;
        using (daemon.Peer.Enter())
            gnb = new GtpuPathMonitorTests.Peer(gnbAddress);
        using (gnb)
        {
            Assert.True(GtpuPathMonitorTests.Eventually(() => smf.NodeReports.Any(r => r.ReportType == NodeReportType.Uprr), TimeSpan.FromSeconds(10)),
                "the gNB answering again was not reported");
            Assert.Single(smf.NodeReports, r => r.ReportType == NodeReportType.Upfr);
            Assert.Contains(gnb.Requests, r => r.Type == Gtpu.GtpuMessageType.EchoRequest);
            var metrics = Metrics();
            Assert.Contains("edge5g_gtpu_paths{state=\"up\"} 1\n", metrics);
            Assert.Contains("edge5g_control_user_plane_total{event=\"gtpu-path-recovered\"} 1\n", metrics);
        }
    }
}

using System.Diagnostics;
using System.Net;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
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
        using var lab = GtpLab.Create(withDatapath: false);
        var state = Directory.CreateTempSubdirectory("edge5g-paths-");
        var config = Path.Combine(state.FullName, "edge5g.yaml");
        File.WriteAllText(config, $"""
            Interfaces: {"{"} Access: n3, Core: n6 {"}"}
            Gtp: {"{"} AccessAddresses: [ "198.51.100.1" ], EchoInterval: 1, EchoTimeout: 1, EchoRetries: 1 {"}"}
            Pfcp: {"{"} Address: "198.51.100.1", Peers: [ "198.51.100.0/26" ], UePools: [ "192.0.2.0/24" ] {"}"}
            Datapath: {"{"} Sessions: 1024, PinRoot: "{lab.Network.PinRoot()}", StateDirectory: "{state.FullName}" {"}"}
            """);
        using var http = NamespaceHttp.Create(lab.Gateway, new Uri("http://127.0.0.1:11111"));
        Process? daemon = null;
        try
        {
            daemon = lab.Gateway.Start(Path.Combine(AppContext.BaseDirectory, "edge5g"), "run", "--config", config);
            RestartLabTests.WaitStatus(http, daemon);
            using var smf = new DemoSmf(lab.Gnb, GtpLab.GnbAddress, new IPEndPoint(GtpLab.N3, 8805));
            smf.Associate();
            var est = (SessionEstablishmentResponse)smf.Request(smf.Plain(1)).Body;
            smf.Request(DemoSmf.GnbKnown(0x601, GtpLab.GnbAddress), est.UpFSeid!.Seid);

            // Nothing answers on the gNB's UDP 2152: one interval, one unanswered request, failed.
            Assert.True(GtpuPathMonitorTests.Eventually(() => smf.NodeReports.Count >= 1, TimeSpan.FromSeconds(10)), "no Node Report reached the SMF");
            var failure = smf.NodeReports[0];
            Assert.Equal(NodeReportType.Upfr, failure.ReportType);
            Assert.Equal([0x02, .. GtpLab.GnbAddress.GetAddressBytes()], Assert.Single(failure.UserPlanePathFailureReport!.Children!).Value.ToArray());

            GtpuPathMonitorTests.Peer gnb;
            using (lab.Gnb.Enter())
                gnb = new GtpuPathMonitorTests.Peer(GtpLab.GnbAddress);
            using (gnb)
            {
                Assert.True(GtpuPathMonitorTests.Eventually(() => smf.NodeReports.Any(r => r.ReportType == NodeReportType.Uprr), TimeSpan.FromSeconds(10)),
                    "the gNB answering again was not reported");
                Assert.Single(smf.NodeReports, r => r.ReportType == NodeReportType.Upfr);
                Assert.Contains(gnb.Requests, r => r.Type == Gtpu.GtpuMessageType.EchoRequest);
            }
        }
        finally
        {
            if (daemon is { HasExited: false })
            {
                ProcessRunner.Run("kill", ["-TERM", daemon.Id.ToString()], check: false);
                daemon.WaitForExit(10_000);
            }
            state.Delete(recursive: true);
        }
    }
}

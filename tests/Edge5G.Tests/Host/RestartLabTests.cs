using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Host;

/// <summary>
/// Restarting `edge5g run` while traffic flows: the pinned datapath keeps forwarding while no
/// daemon runs, the new daemon adopts it, and the PFCP node carries on with the same Recovery
/// Time Stamp, sessions and usage, so the SMF notices nothing.
/// </summary>
public class RestartLabTests
{
    [SkippableFact]
    public void DaemonRestart_KeepsForwarding_AndTheSmfCarriesOnWithTheSameSession()
    {
        Privileged.Require();
        using var lab = GtpLab.Create(withDatapath: false);
        var state = Directory.CreateTempSubdirectory("edge5g-restart-");
        var config = Path.Combine(state.FullName, "edge5g.yaml");
        File.WriteAllText(config, $"""
            Interfaces: {"{"} Access: n3, Core: n6 {"}"}
            Gtp: {"{"} AccessAddresses: [ "198.51.100.1" ], DataNetworkNextHop: "203.0.113.2" {"}"}
            Pfcp: {"{"} Address: "198.51.100.1", Peers: [ "198.51.100.0/26" ], UePools: [ "192.0.2.0/24" ] {"}"}
            Datapath: {"{"} Sessions: 1024, PinRoot: "{lab.Network.PinRoot()}", StateDirectory: "{state.FullName}", KeepOnStop: true {"}"}
            """);
        var exe = Path.Combine(AppContext.BaseDirectory, "edge5g");
        using var http = NamespaceHttp.Create(lab.Gateway, new Uri("http://127.0.0.1:11111"));
        Process? daemon = null;
        try
        {
            daemon = lab.Gateway.Start(exe, "run", "--config", config);
            var first = WaitStatus(http, daemon);
            Assert.False(first.DatapathAdopted);

            using var smf = new DemoSmf(lab.Gnb, GtpLab.GnbAddress, new IPEndPoint(GtpLab.N3, 8805));
            using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
            var setup = smf.Associate();
            var est = (SessionEstablishmentResponse)smf.Request(smf.Plain(1)).Body;
            var ul = est.CreatedPdrs.First(c => c.PdrId == 1);
            var ue = ul.UeIpAddresses[0].Ipv4!;
            smf.Request(DemoSmf.GnbKnown(0x501, GtpLab.GnbAddress), est.UpFSeid!.Seid);
            int Ping(ushort seq)
            {
                var before = gnb.Received.Count;
                gnb.Send(GtpLab.N3, GtpuMessage.GPdu(ul.LocalFTeid!.Teid, UePackets.IcmpEchoRequest(ue, GtpLab.DataNetworkRouter, 7, seq), qfi: 9));
                gnb.WaitFor(r => r.Count > before, TimeSpan.FromSeconds(3));
                return gnb.Received.Count - before;
            }
            Assert.Equal(1, Ping(1));

            // Stop the daemon: the datapath stays pinned and attached, and keeps forwarding.
            ProcessRunner.Run("kill", "-TERM", daemon.Id.ToString());
            Assert.True(daemon.WaitForExit(10_000), "the daemon did not stop");
            Assert.Equal(0, daemon.ExitCode);
            Assert.Equal(1, Ping(2));

            daemon = lab.Gateway.Start(exe, "run", "--config", config);
            var second = WaitStatus(http, daemon);
            Assert.True(second.DatapathAdopted);
            Assert.Equal(1, second.Sessions);
            Assert.Equal(1, Ping(3));

            // The SMF sees the same node: same Recovery Time Stamp, and its session is known.
            var heartbeat = (HeartbeatResponse)smf.Request(new HeartbeatRequest(smf.Recovery)).Body;
            Assert.Equal(setup.RecoveryTimeStamp, heartbeat.RecoveryTimeStamp);
            var moved = (SessionModificationResponse)smf.Request(DemoSmf.GnbKnown(0x502, GtpLab.GnbAddress), est.UpFSeid.Seid).Body;
            Assert.Equal(PfcpCause.RequestAccepted, moved.Cause);
            Assert.Equal(1, Ping(4));
            Assert.Equal(0x502u, gnb.Received[^1].Message.Teid);

            // Usage carries on across the restart: the final report counts all four pings, also
            // the one forwarded while no daemon ran, and starts at UR-SEQN 0 (nothing reported before).
            var deleted = (SessionDeletionResponse)smf.Request(new SessionDeletionRequest(), est.UpFSeid.Seid).Body;
            Assert.Equal(PfcpCause.RequestAccepted, deleted.Cause);
            var usage = Assert.Single(deleted.UsageReports);
            Assert.Equal((4UL, 4UL, 0U), (usage.VolumeMeasurement!.UplinkPackets!.Value, usage.VolumeMeasurement.DownlinkPackets!.Value, usage.UrSeqn));
        }
        finally
        {
            if (daemon is { HasExited: false })
            {
                ProcessRunner.Run("kill", ["-TERM", daemon.Id.ToString()], check: false);
                daemon.WaitForExit(10_000);
            }
            // Detach what the kept datapath left: the lab removes the namespaces and pins.
            state.Delete(recursive: true);
        }
    }

    private static GatewayStatus WaitStatus(HttpClient http, Process daemon)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(daemon.HasExited, $"the daemon exited: {(daemon.HasExited ? daemon.StandardError.ReadToEnd() : "")}");
            try
            {
                return http.GetFromJsonAsync<GatewayStatus>("/api/v1/status").GetAwaiter().GetResult()!;
            }
            catch (HttpRequestException)
            {
                Thread.Sleep(200);
            }
        }
        throw new TimeoutException("the daemon's API did not answer");
    }
}

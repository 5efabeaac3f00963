using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// The node's messages for quotas, traffic endpoints and inactivity, octet for octet as it sent
/// them, read by Wireshark's PFCP dissector: no malformed packet, no expert warning or error,
/// and the flags and IEs the node meant (VOLQU, TIMQU and QUHTI triggers, UPIR, Created Traffic
/// Endpoint, QUOAC).
/// </summary>
public class NodeDissectionTests
{
    [SkippableFact]
    public void QuotaInactivityAndTrafficEndpointMessages_DissectCleanly_WithTheirFlags()
    {
        Interop.TsharkCapture.RequireTshark();
        using var n = new NodeUnderTest(s => s with { UsageTick = TimeSpan.FromMilliseconds(50) });
        var sent = new List<PfcpDecoded> { n.Request(new AssociationSetupRequest(n.SmfNodeId, n.SmfRecovery)) };

        // A volume quota used up, a time quota run out, a quota holding time and an inactivity timer.
        var establishment = n.EstablishmentRequest(0x81) with
        {
            UserPlaneInactivityTimer = 1,
            CreateUrrs =
            [
                new CreateUrr(1, MeasurementMethod.Volum | MeasurementMethod.Durat,
                    new ReportingTriggers(ReportingTriggerFlags.Volqu | ReportingTriggerFlags.Timqu | ReportingTriggerFlags.Quhti))
                {
                    VolumeQuota = new Volume(Total: 1000), TimeQuota = 1, QuotaHoldingTime = 1,
                },
            ],
        };
        var established = n.Request(establishment);
        sent.Add(established);
        var seid = Assert.IsType<SessionEstablishmentResponse>(established.Body).UpFSeid!.Seid;
        n.AddTraffic(seid, pdr: 1, packets: 4, bytes: 1200);
        static bool AllReported(IReadOnlyList<PfcpDecoded> requests)
        {
            var reports = requests.Select(d => d.Body).OfType<SessionReportRequest>().ToArray();
            var triggers = reports.SelectMany(r => r.UsageReports).Aggregate((UsageReportTriggerFlags)0, (t, u) => t | u.Trigger.Flags);
            const UsageReportTriggerFlags Wanted = UsageReportTriggerFlags.Volqu | UsageReportTriggerFlags.Timqu | UsageReportTriggerFlags.Quhti;
            return (triggers & Wanted) == Wanted && reports.Any(r => r.ReportType.HasFlag(ReportType.Upir));
        }
        Assert.True(n.WaitFor(AllReported, TimeSpan.FromSeconds(5)), "VOLQU, TIMQU, QUHTI and UPIR not all reported in 5 s");

        // Traffic endpoints, one chosen by the node.
        var endpoints = n.EstablishmentRequest(0x82) with
        {
            CreatePdrs =
            [
                new CreatePdr(1, new LoxiLb.Edge5G.Pfcp.Rules.Pdi(SourceInterface.Access) { TrafficEndpointIds = [1] }) { Precedence = 10, FarId = 1 },
            ],
            CreateFars = [new CreateFar(1, ApplyActionFlags.Drop)],
            CreateQers = [],
            CreateUrrs = [],
            CreateTrafficEndpoints = [new TrafficEndpoint(1) { LocalFTeid = FTeid.ChooseByUp(chooseId: 3), UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true }] }],
        };
        var withEndpoints = n.Request(endpoints);
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionEstablishmentResponse>(withEndpoints.Body).Cause);
        sent.Add(withEndpoints);
        sent.AddRange(n.NodeRequests);

        var frames = sent.Select(d => Frame(d.Message.Encode())).ToArray();
        var rows = TsharkFields.Read(Interop.TsharkCapture.Tshark, frames, Fields);

        Assert.Equal(frames.Length, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.True(r["_ws.malformed"] == "", $"frame {r["frame.number"]} (PFCP type {r["pfcp.msg_type"]}) is malformed");
            Assert.True(r["_ws.expert.severity"].Split(',', StringSplitOptions.RemoveEmptyEntries).All(s => Convert.ToInt32(s, 10) < 0x00600000),
                $"frame {r["frame.number"]} (PFCP type {r["pfcp.msg_type"]}): {r["_ws.expert.message"]}");
        });
        string Column(string field) => string.Join(";", rows.Select(r => r[field]));
        Assert.Contains("1", rows[0]["pfcp.up_function_features.quoac"]);
        Assert.Contains("1", Column("pfcp.usage_report_trigger_flags.volqu"));
        Assert.Contains("1", Column("pfcp.usage_report_trigger_flags.timqu"));
        Assert.Contains("1", Column("pfcp.usage_report_trigger_flags.quhti"));
        Assert.Contains("1", Column("pfcp.report_type.upir"));
        Assert.Equal("1", rows[2]["pfcp.traffic_endpoint_id"]); // Created Traffic Endpoint in the second establishment's response
    }

    [SkippableFact]
    public void PathFailureAndRecoveryReports_DissectCleanly_WithTheirReportTypesAndPeerFlags()
    {
        Interop.TsharkCapture.RequireTshark();
        using var n = new NodeUnderTest();
        n.Associate();

        n.Node.ReportUserPlanePath(IPAddress.Parse("198.51.100.2"), failed: true);
        n.Node.ReportUserPlanePath(IPAddress.Parse("2001:db8:3::2"), failed: false);
        Assert.True(n.WaitFor(r => r.Select(d => d.Body).OfType<NodeReportRequest>().Select(x => x.ReportType).Distinct().Count() == 2, TimeSpan.FromSeconds(3)));
        var reports = n.NodeRequests.Where(d => d.Body is NodeReportRequest).GroupBy(d => ((NodeReportRequest)d.Body).ReportType).Select(g => g.First()).ToArray();

        var rows = TsharkFields.Read(Interop.TsharkCapture.Tshark, reports.Select(d => Frame(d.Message.Encode())).ToArray(), NodeReportFields);

        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.True(r["_ws.malformed"] == "", $"frame {r["frame.number"]} is malformed");
            Assert.True(r["_ws.expert.severity"].Split(',', StringSplitOptions.RemoveEmptyEntries).All(s => Convert.ToInt32(s, 10) < 0x00600000),
                $"frame {r["frame.number"]}: {r["_ws.expert.message"]}");
            Assert.Equal("12", r["pfcp.msg_type"]);
        });
        var failure = rows.Single(r => r["pfcp.node_report_type.upfr"] == "1");
        Assert.Equal(("1", "0"), (failure["pfcp.remote_gtp_u_peer_flags.v4"], failure["pfcp.remote_gtp_u_peer_flags.v6"]));
        var recovery = rows.Single(r => r["pfcp.node_report_type.uprr"] == "1");
        Assert.Equal(("0", "1"), (recovery["pfcp.remote_gtp_u_peer_flags.v4"], recovery["pfcp.remote_gtp_u_peer_flags.v6"]));
    }

    private static readonly string[] NodeReportFields =
    [
        "frame.number", "pfcp.msg_type", "pfcp.node_report_type.upfr", "pfcp.node_report_type.uprr",
        "pfcp.remote_gtp_u_peer_flags.v4", "pfcp.remote_gtp_u_peer_flags.v6", "_ws.malformed", "_ws.expert.severity", "_ws.expert.message",
    ];

    private static readonly PhysicalAddress Mac = PhysicalAddress.Parse("02-00-00-00-00-01");

    private static byte[] Frame(byte[] pfcp)
    {
        var udp = new UdpPacket(8805, 8805) { PayloadData = pfcp };
        var ip = new IPv4Packet(IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2")) { TimeToLive = 64, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return GtpFrames.Ethernet(Mac, Mac, ip);
    }

    private static readonly string[] Fields =
    [
        "frame.number", "pfcp.msg_type", "pfcp.up_function_features.quoac", "pfcp.usage_report_trigger_flags.volqu",
        "pfcp.usage_report_trigger_flags.timqu", "pfcp.usage_report_trigger_flags.quhti", "pfcp.report_type.upir",
        "pfcp.traffic_endpoint_id", "_ws.malformed", "_ws.expert.severity", "_ws.expert.message",
    ];
}

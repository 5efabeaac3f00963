using System.Net;
using System.Text.Json;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Node;
using LoxiLb.Edge5G.Tests.Support;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>
/// Interoperability with an independent PFCP implementation: an SMF written with scapy's
/// scapy.contrib.pfcp drives the N4 node, which runs over the REAL XDP datapath of a lab
/// (namespaces gnb / gw / dn). The SMF sets up a PDU session the way SMFs do (CHOOSE F-TEID,
/// CHOOSE UE IPv4, the gNB F-TEID in a modification, a URR with a volume threshold), real
/// GTP-U traffic crosses the session, and what scapy decoded from the node's answers is
/// checked. Every PFCP message on the wire is captured and dissected by tshark.
/// </summary>
public class ScapyInteropTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint NodeN4 = new(IPAddress.Parse("127.0.0.1"), 8805);
    private static readonly IPEndPoint SmfN4 = new(IPAddress.Parse("127.0.0.2"), 8805);
    private const string SmfNodeId = "smf.scapy.test";
    private const ulong CpSeid = 0x5ca9_0000_0001;
    private const uint GnbTeid = 0x00c0ffee;
    private const int Packets = 20;
    private const int PacketBytes = 500; // inner IPv4 packet, both directions (the data network echoes)
    private const ulong VolumeThreshold = 8000;

    /// <summary>
    /// What scapy 2.5 (TS 29.244 V15.6) cannot model in our messages, by IE class: UP Function
    /// Features beyond its 2 octets (UEIP is in octet 7), the packet counts of Volume
    /// Measurement (TONOP/ULNOP/DLNOP) and the third octet of Usage Report Trigger (Rel-16).
    /// The script decodes the first two by hand from the octets scapy leaves over.
    /// </summary>
    private static readonly HashSet<string> BeyondScapysModel = ["IE_UPFunctionFeatures", "IE_VolumeMeasurement", "IE_UsageReportTrigger"];

    [SkippableFact]
    public void ScapySmf_SetsUpAPduSession_TrafficCrossesTheRealDatapath_UsageIsReported_AndTsharkFindsNothingMalformed()
    {
        Privileged.Require();
        ScapySmf.RequireScapy();
        TsharkCapture.RequireTshark();
        var pcap = Path.Combine(Path.GetTempPath(), $"edge5g-pfcp-interop-{Guid.NewGuid():N}.pcap");
        var passed = false;
        try
        {
            using var lab = GtpLab.Create();
            using var node = new PfcpNode(Settings, lab.Sessions, lab.Datapath.Tables, new TestOutputLogger(output));
            using var capture = TsharkCapture.Start(lab.Gateway, "lo", pcap);
            using (lab.Gateway.Enter())
                node.Start();
            using var smf = ScapySmf.Start(lab.Gateway, NodeN4, SmfN4, SmfNodeId);
            using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
            using var echo = new UdpEchoServer(lab.DataNetwork, new IPEndPoint(GtpLab.DataNetworkRouter, 7000));

            // ---- Association Setup: the node's Node ID, Recovery Time Stamp and UP features as scapy reads them.
            var association = smf.Command("associate");
            Log("associate", association);
            Assert.Equal(1, association.GetProperty("cause").GetInt32());
            Assert.Equal("127.0.0.1", association.GetProperty("node_id").GetString());
            Assert.Equal(new DateTimeOffset(node.RecoveryTimeStamp).ToUnixTimeSeconds(), association.GetProperty("recovery").GetInt64());
            var features = association.GetProperty("up_features");
            Assert.Equal(1, features.GetProperty("FTUP").GetInt32());
            Assert.Equal(1, features.GetProperty("EMPU").GetInt32());
            Assert.Equal(1, features.GetProperty("PDIU").GetInt32());
            Assert.Equal(1, features.GetProperty("UEIP").GetInt32());
            Assert.Equal(1, features.GetProperty("QUOAC").GetInt32());
            Assert.Equal(1, features.GetProperty("FRRT").GetInt32());
            AssertDecodedCleanly(association);
            Assert.Equal(SmfNodeId, Assert.Single(node.Associations()).NodeId);

            // ---- Session Establishment with CHOOSE: the node allocates the N3 F-TEID and the UE address.
            var established = smf.Command($"establish {CpSeid} {VolumeThreshold}");
            Log("establish", established);
            Assert.Equal(1, established.GetProperty("cause").GetInt32());
            Assert.Equal(CpSeid, established.GetProperty("seid").GetUInt64());
            Assert.Equal("127.0.0.1", established.GetProperty("up_ipv4").GetString());
            var upSeid = established.GetProperty("up_seid").GetUInt64();
            var created = established.GetProperty("created_pdrs").EnumerateArray().ToDictionary(p => p.GetProperty("pdr_id").GetInt32());
            Assert.Equal([1, 2], created.Keys.Order());
            var teid = created[1].GetProperty("teid").GetUInt32();
            Assert.NotEqual(0u, teid);
            Assert.Equal(GtpLab.N3.ToString(), created[1].GetProperty("fteid_ipv4").GetString());
            var ue = IPAddress.Parse(created[1].GetProperty("ue_ipv4").GetString()!);
            Assert.True(Cidr.Parse(GtpLab.UePool).Contains(ue), $"UE address {ue} is outside {GtpLab.UePool}");
            Assert.Equal(ue.ToString(), created[2].GetProperty("ue_ipv4").GetString());
            Assert.Equal(0, created[1].GetProperty("ue_sd").GetInt32());
            Assert.Equal(1, created[2].GetProperty("ue_sd").GetInt32());
            Assert.Equal(JsonValueKind.Null, created[2].GetProperty("teid").ValueKind);
            AssertDecodedCleanly(established);
            // ... and the real maps hold the session the SMF asked for.
            Assert.True(lab.Sessions.TryGet(upSeid, out var compiled));
            Assert.Equal(CpSeid, compiled.Session.PeerSeid);
            // A single-PDR uplink F-TEID in the dense TEID range lives in teid_slots; anything else in fteids.
            var tables = lab.Datapath.Tables;
            var fteid = FteidKey.Create(teid, GtpLab.N3);
            var dense = teid - tables.Dense.TeidBase < tables.Dense.TeidCount
                && tables.TeidSlots.TryGet(teid - tables.Dense.TeidBase, out var slot) && slot.Teid == fteid.Teid;
            Assert.True(dense || tables.Fteids.TryGet(fteid, out _), "the uplink F-TEID is in neither teid_slots nor fteids");
            Assert.True(lab.Datapath.Tables.Ue4.TryGet((uint)BitConverter.ToInt32(ue.GetAddressBytes()), out _), "the UE address is not in the ue4 map");

            // ---- Session Modification: the gNB's F-TEID arrives, FAR 2 goes from BUFF to FORW with GTP-U.
            var modified = smf.Command($"modify {upSeid} {GnbTeid} {GtpLab.GnbAddress}");
            Log("modify", modified);
            Assert.Equal(1, modified.GetProperty("cause").GetInt32());
            Assert.Equal(CpSeid, modified.GetProperty("seid").GetUInt64());
            AssertDecodedCleanly(modified);

            // ---- Real traffic: UDP from the UE through the gNB's tunnel, echoed by the data network.
            var payload = new byte[PacketBytes - 28];
            for (int i = 0; i < Packets; i++)
            {
                payload[0] = (byte)i;
                gnb.Send(GtpLab.N3, GtpuMessage.GPdu(teid, UePackets.Udp(ue, GtpLab.DataNetworkRouter, 40000, 7000, payload), qfi: 9));
                Thread.Sleep(15);
            }
            Assert.True(gnb.WaitFor(r => r.Count >= Packets, TimeSpan.FromSeconds(5)), $"the gNB received {gnb.Received.Count} of {Packets} echoes");
            Assert.Equal(Packets, echo.Echoed);
            Assert.All(gnb.Received, r =>
            {
                Assert.Equal(GtpLab.N3, r.From.Address);
                Assert.Equal(GnbTeid, r.Message.Teid); // the TEID scapy sent in the Outer Header Creation
                Assert.Equal(new PduSessionContainer(PduSessionContainer.Downlink, 9), r.Message.Container);
                Assert.Equal(PacketBytes, r.Message.Payload.Length);
                Assert.Equal(ue, UePackets.Describe(r.Message.Payload).Destination);
            });

            // ---- Usage: the volume threshold fires a Session Report Request that scapy decodes and answers.
            var reported = smf.Command("reports 1.0 6", TimeSpan.FromSeconds(15));
            Log("reports", reported);
            var reports = reported.GetProperty("reports").EnumerateArray().ToArray();
            Assert.NotEmpty(reports);
            var usage = new List<JsonElement>();
            foreach (var report in reports)
            {
                Assert.Equal(CpSeid, report.GetProperty("seid").GetUInt64());
                Assert.Equal(["USAR"], report.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
                AssertDecodedCleanly(report);
                var u = Assert.Single(report.GetProperty("usage_reports").EnumerateArray());
                Assert.Equal(1, u.GetProperty("urr_id").GetInt32());
                Assert.Contains("VOLTH", u.GetProperty("triggers").EnumerateArray().Select(t => t.GetString()));
                Assert.True(u.GetProperty("total").GetUInt64() >= VolumeThreshold, $"a threshold report below the threshold: {u}");
                usage.Add(u);
            }
            Assert.Equal(Enumerable.Range(0, usage.Count), usage.Select(u => u.GetProperty("ur_seqn").GetInt32()));
            // The node's own Heartbeat Requests, as scapy read them.
            var heartbeats = reported.GetProperty("heartbeats").EnumerateArray().ToArray();
            Assert.NotEmpty(heartbeats);
            Assert.All(heartbeats, h =>
            {
                Assert.Equal(new DateTimeOffset(node.RecoveryTimeStamp).ToUnixTimeSeconds(), h.GetProperty("recovery").GetInt64());
                AssertDecodedCleanly(h);
            });

            // ---- Deletion: the final Usage Report (TERMR) carries the rest; together they are the traffic.
            var deleted = smf.Command($"delete {upSeid}");
            Log("delete", deleted);
            Assert.Equal(1, deleted.GetProperty("cause").GetInt32());
            Assert.Equal(CpSeid, deleted.GetProperty("seid").GetUInt64());
            AssertDecodedCleanly(deleted);
            var final = Assert.Single(deleted.GetProperty("usage_reports").EnumerateArray());
            Assert.Equal(1, final.GetProperty("urr_id").GetInt32());
            Assert.Contains("TERMR", final.GetProperty("triggers").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal(usage.Count, final.GetProperty("ur_seqn").GetInt32());
            usage.Add(final);
            ulong Sum(string field) => usage.Aggregate(0UL, (s, u) => s + u.GetProperty(field).GetUInt64());
            Assert.Equal((ulong)(Packets * PacketBytes), Sum("uplink"));
            Assert.Equal((ulong)(Packets * PacketBytes), Sum("downlink"));
            Assert.Equal((ulong)(2 * Packets * PacketBytes), Sum("total"));
            Assert.Equal((ulong)Packets, Sum("uplink_packets"));
            Assert.Equal((ulong)Packets, Sum("downlink_packets"));
            Assert.All(usage, u => Assert.Equal(u.GetProperty("uplink").GetUInt64() + u.GetProperty("downlink").GetUInt64(), u.GetProperty("total").GetUInt64()));
            Assert.Equal(0, lab.Sessions.Count);
            Assert.False(lab.Datapath.Tables.Fteids.TryGet(FteidKey.Create(teid, GtpLab.N3), out _), "the F-TEID outlived its session");

            // ---- Refusals as scapy reads them: a PDR naming a FAR that does not exist; an unknown SEID.
            var refused = smf.Command($"establish-bad-far {CpSeid + 1} 9");
            Log("establish-bad-far", refused);
            Assert.Equal(73, refused.GetProperty("cause").GetInt32()); // Rule creation/modification failure
            Assert.Equal(CpSeid + 1, refused.GetProperty("seid").GetUInt64());
            Assert.Equal(0, refused.GetProperty("failed_rule").GetProperty("type").GetInt32()); // PDR
            Assert.Equal(1, refused.GetProperty("failed_rule").GetProperty("pdr_id").GetInt32());
            AssertDecodedCleanly(refused);
            var unknown = smf.Command($"modify {upSeid} {GnbTeid} {GtpLab.GnbAddress}");
            Log("modify after delete", unknown);
            Assert.Equal(65, unknown.GetProperty("cause").GetInt32()); // Session context not found
            Assert.Equal(0UL, unknown.GetProperty("seid").GetUInt64());
            AssertDecodedCleanly(unknown);
            Assert.Equal(0, lab.Sessions.Count);

            // ---- Partial failure handling: a session in the SMF's set 7 gets the UPF's FQ-CSID, and
            // a Session Set Deletion naming set 7 deletes it.
            var inSet = smf.Command($"establish-csid {CpSeid + 2} 7");
            Log("establish-csid", inSet);
            Assert.Equal(1, inSet.GetProperty("cause").GetInt32());
            var upFqCsid = inSet.GetProperty("up_fqcsid");
            Assert.Equal(0, upFqCsid.GetProperty("node_id_type").GetInt32());
            Assert.Equal(NodeN4.Address.ToString(), upFqCsid.GetProperty("ipv4").GetString());
            Assert.Equal([PfcpNode.LocalCsid], upFqCsid.GetProperty("csids").EnumerateArray().Select(c => (ushort)c.GetInt32()));
            AssertDecodedCleanly(inSet);
            Assert.Equal(1, lab.Sessions.Count);
            var setDeleted = smf.Command("setdelete 7");
            Log("setdelete", setDeleted);
            Assert.Equal(1, setDeleted.GetProperty("cause").GetInt32());
            Assert.Equal("PFCPSessionSetDeletionResponse", setDeleted.GetProperty("message").GetString());
            Assert.Equal(NodeN4.Address.ToString(), setDeleted.GetProperty("node_id").GetString());
            AssertDecodedCleanly(setDeleted);
            Assert.Equal(0, lab.Sessions.Count);

            // ---- tshark: every PFCP message on the wire dissects without malformed packets or expert warnings.
            smf.Dispose();
            var dissected = capture.Dissect();
            foreach (var d in dissected)
                output.WriteLine($"tshark #{d.Frame} {d.Source} -> {d.Destination} {d.MessageName} malformed={d.Malformed} expert=[{string.Join("; ", d.ExpertMessages)}]");
            var fromNode = dissected.Where(d => d.Source == NodeN4.Address.ToString()).ToArray();
            var sentTypes = fromNode.Select(d => d.MessageType).ToHashSet();
            // Association Setup, Session Set Deletion, Establishment, Modification, Deletion Responses, Session Report and Heartbeat Requests.
            Assert.Superset(new HashSet<int> { 6, 15, 51, 53, 55, 56, 1 }, sentTypes);
            Assert.All(dissected, d =>
            {
                Assert.False(d.Malformed, $"tshark: frame {d.Frame} ({d.MessageName} from {d.Source}) is malformed");
                Assert.True(d.ExpertSeverities.All(s => Severity(s) < WarningSeverity),
                    $"tshark: frame {d.Frame} ({d.MessageName} from {d.Source}) has expert findings: {string.Join("; ", d.ExpertMessages)}");
            });
            passed = true;
        }
        finally
        {
            if (passed)
                File.Delete(pcap);
            else if (File.Exists(pcap))
                output.WriteLine($"capture kept for inspection: {pcap}");
        }
    }

    private static readonly PfcpNodeSettings Settings = new()
    {
        Listen = NodeN4,
        NodeId = NodeId.FromAddress(NodeN4.Address),
        Peers = [Cidr.Parse("127.0.0.0/8")],
        UePools = [Cidr.Parse(GtpLab.UePool)],
        UsageTick = TimeSpan.FromMilliseconds(100),
        HeartbeatInterval = TimeSpan.FromSeconds(1),
    };

    /// <summary>
    /// Online charging as scapy's SMF asks for it: a total Volume Quota (VOLQU). Real traffic
    /// uses it up, the node reports VOLQU and the XDP program drops the session's traffic
    /// (drop-quota, not usage) until the SMF grants more in Update URR; the usage reported,
    /// final report included, is exactly what was forwarded.
    /// </summary>
    [SkippableFact]
    public void ScapySmf_VolumeQuota_UsedUpByRealTraffic_IsReported_Enforced_AndLiftedByANewQuota()
    {
        Privileged.Require();
        ScapySmf.RequireScapy();
        using var lab = GtpLab.Create();
        using var node = new PfcpNode(Settings, lab.Sessions, lab.Datapath.Tables, new TestOutputLogger(output));
        using (lab.Gateway.Enter())
            node.Start();
        using var smf = ScapySmf.Start(lab.Gateway, NodeN4, SmfN4, SmfNodeId);
        using var gnb = new GtpuEndpoint(lab.Gnb, GtpLab.GnbAddress);
        using var echo = new UdpEchoServer(lab.DataNetwork, new IPEndPoint(GtpLab.DataNetworkRouter, 7000));
        const ulong Quota = 5000; // five round trips of 500-byte packets

        Assert.Equal(1, smf.Command("associate").GetProperty("cause").GetInt32());
        var established = smf.Command($"establish-quota {CpSeid} {Quota}");
        Log("establish-quota", established);
        Assert.Equal(1, established.GetProperty("cause").GetInt32());
        var upSeid = established.GetProperty("up_seid").GetUInt64();
        var uplinkPdr = established.GetProperty("created_pdrs").EnumerateArray().Single(p => p.GetProperty("pdr_id").GetInt32() == 1);
        var teid = uplinkPdr.GetProperty("teid").GetUInt32();
        var ue = IPAddress.Parse(uplinkPdr.GetProperty("ue_ipv4").GetString()!);
        Assert.Equal(1, smf.Command($"modify {upSeid} {GnbTeid} {GtpLab.GnbAddress}").GetProperty("cause").GetInt32());

        var payload = new byte[PacketBytes - 28];
        void Offer(int count)
        {
            for (int i = 0; i < count; i++)
            {
                gnb.Send(GtpLab.N3, GtpuMessage.GPdu(teid, UePackets.Udp(ue, GtpLab.DataNetworkRouter, 40000, 7000, payload), qfi: 9));
                Thread.Sleep(15);
            }
        }

        // ---- The quota runs out: one VOLQU report, then the program drops.
        Offer(Packets);
        var reported = smf.Command("reports 1.0 6", TimeSpan.FromSeconds(15));
        Log("reports", reported);
        var report = Assert.Single(reported.GetProperty("reports").EnumerateArray());
        var quotaReport = Assert.Single(report.GetProperty("usage_reports").EnumerateArray());
        Assert.Contains("VOLQU", quotaReport.GetProperty("triggers").EnumerateArray().Select(t => t.GetString()));
        Assert.True(quotaReport.GetProperty("total").GetUInt64() >= Quota, $"a quota report below the quota: {quotaReport}");
        var forwarded = echo.Echoed;
        Assert.InRange(forwarded, (int)(Quota / (2 * PacketBytes)), Packets - 1);
        var dropsBefore = lab.Datapath.Stat(DatapathStat.DropQuota).Packets;
        Assert.True(dropsBefore >= 1, "no packet was dropped for the quota");
        Offer(5);
        Thread.Sleep(500);
        Assert.Equal(forwarded, echo.Echoed);
        Assert.Equal(dropsBefore + 5, lab.Datapath.Stat(DatapathStat.DropQuota).Packets);
        // The stop covers both directions, so the echo of a request forwarded just before it
        // can be dropped on its way back (seen under load): count the replies that arrived.
        var delivered = gnb.Received.Count;
        Assert.InRange(delivered, forwarded - 2, forwarded);

        // ---- A new quota: traffic flows again.
        var granted = smf.Command($"grant {upSeid} 1000000");
        Log("grant", granted);
        Assert.Equal(1, granted.GetProperty("cause").GetInt32());
        Offer(5);
        Assert.True(SpinWait.SpinUntil(() => echo.Echoed == forwarded + 5, TimeSpan.FromSeconds(5)), $"{echo.Echoed - forwarded} of 5 echoed after the new quota");
        if (!gnb.WaitFor(r => r.Count >= delivered + 5, TimeSpan.FromSeconds(5)))
            // The counts say which side lost what.
            Assert.Fail($"the echoes after the new quota did not reach the gNB: {gnb.Received.Count} received, {delivered} before the new quota; " +
                string.Join(", ", Enum.GetValues<DatapathStat>().Where(s => s < DatapathStat.Count)
                    .Select(s => (s, lab.Datapath.Stat(s).Packets)).Where(x => x.Packets > 0).Select(x => $"{x.s} {x.Packets}")));

        // ---- Everything reported is what was forwarded, nothing that was dropped.
        var deleted = smf.Command($"delete {upSeid}");
        Assert.Equal(1, deleted.GetProperty("cause").GetInt32());
        var final = Assert.Single(deleted.GetProperty("usage_reports").EnumerateArray());
        Assert.Equal(1, final.GetProperty("ur_seqn").GetInt32());
        Assert.Equal((ulong)(echo.Echoed * PacketBytes), quotaReport.GetProperty("uplink").GetUInt64() + final.GetProperty("uplink").GetUInt64());
        Assert.Equal((ulong)(gnb.Received.Count * PacketBytes), quotaReport.GetProperty("downlink").GetUInt64() + final.GetProperty("downlink").GetUInt64());
        Assert.Equal((ulong)gnb.Received.Count, lab.Datapath.Stat(DatapathStat.ForwardDownlink).Packets);
    }

    private const int WarningSeverity = 0x00600000;

    private static int Severity(string s) => s.StartsWith("0x", StringComparison.Ordinal)
        ? Convert.ToInt32(s, 16) : int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    private void Log(string step, JsonElement answer) => output.WriteLine($"scapy {step}: {answer}");

    /// <summary>scapy decoded the message completely (except what its Rel-15.6 model lacks) and re-encodes it to the same octets.</summary>
    private static void AssertDecodedCleanly(JsonElement answer)
    {
        var issues = answer.GetProperty("issues").EnumerateArray()
            .Where(i => !(i.GetProperty("kind").GetString() == "extra-data"
                          && BeyondScapysModel.Contains(i.GetProperty("ie").GetString()!.Split('/')[^1])))
            .ToArray();
        Assert.True(issues.Length == 0, $"scapy could not decode all of {(answer.TryGetProperty("message", out var m) ? m.GetString() : "a request of the node")}: {string.Join(", ", issues)}");
    }
}

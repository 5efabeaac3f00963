using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// What the program transmits, read back by an independent dissector: each output frame goes
/// to a pcap and through tshark with IPv4 and UDP checksum validation on. A frame must dissect
/// without malformed packets or expert warnings/errors, with good IPv4 header checksums, good
/// UDP checksums (or none, over IPv4), and the GTP-U fields the datapath meant to write.
/// </summary>
public class GtpDissectionTests
{
    /// <summary>Fields read per frame (several occurrences, outer first, are comma-separated).</summary>
    private static readonly string[] Fields =
    [
        "eth.type", "ip.src", "ip.dst", "ip.ttl", "ip.flags.df", "ip.checksum.status",
        "ipv6.src", "ipv6.dst", "ipv6.hlim", "udp.srcport", "udp.dstport", "udp.checksum.status",
        "gtp.flags", "gtp.message", "gtp.length", "gtp.teid", "gtp.seq_number", "gtp.recovery",
        "gtp.ext_hdr.pdu_ses_con.pdu_type", "gtp.ext_hdr.pdu_ses_con.qos_flow_id",
        "icmpv6.type", "icmpv6.checksum.status", "icmpv6.nd.ra.router_lifetime", "icmpv6.opt.prefix", "icmpv6.opt.prefix.length",
        "icmpv6.opt.prefix.flag.l", "icmpv6.opt.prefix.flag.a", "icmpv6.mtu",
        "icmp.type", "icmp.code", "icmp.mtu", "icmp.checksum.status",
        "_ws.expert", "_ws.expert.severity", "_ws.expert.message", "_ws.malformed",
    ];

    [SkippableFact]
    public void UplinkDecapsulation_OfAnIpv4Packet_DissectsAsThatPacket_WithGoodChecksums()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());

        var output = Transmitted(h, Uplink(UplinkTeid, InnerUdp4(Ue, RemoteServer, 40000, 443), qfi: 9));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["eth.type"] = "0x0800", ["ip.src"] = "192.0.2.10", ["ip.dst"] = "203.0.113.10", ["ip.ttl"] = "63",
            ["ip.checksum.status"] = Good, ["udp.dstport"] = "443", ["udp.checksum.status"] = Good, ["gtp.message"] = "",
        });
    }

    [SkippableFact]
    public void UplinkDecapsulation_OfAnIpv6Packet_DissectsAsThatPacket_WithAGoodUdpChecksum()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(DualStack());

        var output = Transmitted(h, Uplink(UplinkTeid, InnerUdp6(Uev6, Serverv6, 40000, 443), qfi: 9));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["eth.type"] = "0x86dd", ["ipv6.src"] = "2001:db8:10:1::10", ["ipv6.dst"] = "2001:db8:200::200", ["ipv6.hlim"] = "63",
            ["udp.checksum.status"] = Good, ["gtp.message"] = "",
        });
    }

    [SkippableFact]
    public void DownlinkEncapsulation_OverIpv4_DissectsAsAGPduWithADownlinkPduSessionContainerQfi9()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());

        var output = Transmitted(h, Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 5001, 40000)));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["ip.src"] = "198.51.100.1,203.0.113.200", ["ip.dst"] = "198.51.100.2,192.0.2.10", ["ip.ttl"] = "64,63",
            ["ip.flags.df"] = "1,0", ["ip.checksum.status"] = $"{Good},{Good}",
            ["udp.srcport"] = "2152,5001", ["udp.dstport"] = "2152,40000", ["udp.checksum.status"] = $"{NotPresent},{Good}",
            ["gtp.flags"] = "0x34", ["gtp.message"] = "0xff", ["gtp.length"] = "100", ["gtp.teid"] = "0x87654321", ["gtp.seq_number"] = "",
            ["gtp.ext_hdr.pdu_ses_con.pdu_type"] = "0", ["gtp.ext_hdr.pdu_ses_con.qos_flow_id"] = "9",
        });
    }

    [SkippableFact]
    public void DownlinkEncapsulation_OverIpv6_DissectsAsAGPduWithQfi9_AndAGoodOuterUdpChecksum()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic(gnb: Gnbv6));

        var output = Transmitted(h, Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 333)));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["eth.type"] = "0x86dd", ["ipv6.src"] = "2001:db8:3::1", ["ipv6.dst"] = "2001:db8:3::2", ["ipv6.hlim"] = "64",
            ["ip.src"] = "203.0.113.200", ["ip.dst"] = "192.0.2.10", ["ip.ttl"] = "63", ["ip.checksum.status"] = Good,
            ["udp.dstport"] = "2152,40000", ["udp.checksum.status"] = $"{Good},{Good}",
            ["gtp.flags"] = "0x34", ["gtp.message"] = "0xff", ["gtp.teid"] = "0x87654321",
            ["gtp.ext_hdr.pdu_ses_con.pdu_type"] = "0", ["gtp.ext_hdr.pdu_ses_con.qos_flow_id"] = "9",
        });
    }

    [SkippableFact]
    public void UlclReencapsulation_TowardsTheCentralUpf_DissectsWithAnUplinkPduSessionContainerQfi9()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());

        var output = Transmitted(h, Uplink(UplinkTeid, InnerUdp4(Ue, RemoteServer, 40000, 443), qfi: 9));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["ip.src"] = "198.51.100.1,192.0.2.10", ["ip.dst"] = "198.51.100.3,203.0.113.10", ["ip.ttl"] = "64,63",
            ["ip.checksum.status"] = $"{Good},{Good}", ["udp.checksum.status"] = $"{NotPresent},{Good}",
            ["gtp.flags"] = "0x34", ["gtp.message"] = "0xff", ["gtp.teid"] = "0x00c0ffee",
            ["gtp.ext_hdr.pdu_ses_con.pdu_type"] = "1", ["gtp.ext_hdr.pdu_ses_con.qos_flow_id"] = "9",
        });
    }

    [SkippableFact]
    public void EchoResponse_OverIpv4_DissectsWithTheRequestsSequenceNumberAndRecovery7()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });

        var output = Transmitted(h, Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(0x1234), sourcePort: 40123));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["ip.src"] = "198.51.100.1", ["ip.dst"] = "198.51.100.2", ["ip.checksum.status"] = Good,
            ["udp.srcport"] = "2152", ["udp.dstport"] = "40123", ["udp.checksum.status"] = NotPresent,
            ["gtp.flags"] = "0x32", ["gtp.message"] = "0x02", ["gtp.length"] = "6", ["gtp.teid"] = "0x00000000",
            ["gtp.seq_number"] = "0x1234", ["gtp.recovery"] = "7",
        });
    }

    [SkippableFact]
    public void ErrorIndication_ForAnUnknownTeid_DissectsCleanly()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();

        var output = Transmitted(h, Uplink(0xdeadbeef, InnerUdp4(Ue, LocalServer, 1, 2), qfi: 9));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["ip.src"] = "198.51.100.1", ["ip.dst"] = "198.51.100.2", ["ip.checksum.status"] = Good,
            ["udp.srcport"] = "2152", ["udp.dstport"] = "2152",
            ["gtp.flags"] = "0x32", ["gtp.message"] = "0x1a", ["gtp.length"] = "16", ["gtp.teid"] = "0x00000000",
        });
    }

    [SkippableFact]
    public void EchoResponse_OverIpv6_DissectsWithAGoodUdpChecksum()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });

        var output = Transmitted(h, Gtp(GnbMac, GatewayMac, Gnbv6, N3v6, GtpuMessage.EchoRequest(0xbeef), sourcePort: 40123));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["eth.type"] = "0x86dd", ["ipv6.src"] = "2001:db8:3::1", ["ipv6.dst"] = "2001:db8:3::2", ["ipv6.hlim"] = "64",
            ["udp.srcport"] = "2152", ["udp.dstport"] = "40123", ["udp.checksum.status"] = Good,
            ["gtp.flags"] = "0x32", ["gtp.message"] = "0x02", ["gtp.teid"] = "0x00000000",
            ["gtp.seq_number"] = "0xbeef", ["gtp.recovery"] = "7",
        });
    }

    [SkippableFact]
    public void EndMarker_ForwardedTowardsTheGnb_DissectsAsAnEmptyEndMarkerWithTheGnbTeid()
    {
        var tshark = Tshark.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());

        var output = Transmitted(h, Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, new GtpuMessage(GtpuMessageType.EndMarker, N9Teid, [])));

        var d = tshark.Dissect(output);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["ip.src"] = "198.51.100.1", ["ip.dst"] = "198.51.100.2", ["ip.checksum.status"] = Good, ["udp.checksum.status"] = NotPresent,
            ["gtp.flags"] = "0x30", ["gtp.message"] = "0xfe", ["gtp.length"] = "0", ["gtp.teid"] = "0x87654321",
        });
    }

    // Wireshark's checksum status values (proto_checksum_e).
    [SkippableFact]
    public void FragmentationNeeded_ForADownlinkPacketTooBigToEncapsulate_DissectsWithTheMtuAndAGoodChecksum()
    {
        var tshark = Tshark.Require();
        using var h = GtpTooBigTests.Harness();
        h.Sessions.Establish(Basic());

        var output = Transmitted(h, Ethernet(RouterMac, GatewayMac, GtpTooBigTests.TooBig4()));

        var d = tshark.Dissect(output);
        d.AssertNotMalformed();
        d.AssertFields(new()
        {
            ["ip.src"] = "203.0.113.1,203.0.113.200", ["ip.dst"] = "203.0.113.200,192.0.2.10", ["ip.checksum.status"] = "1,1",
            ["icmp.type"] = "3", ["icmp.code"] = "4", ["icmp.mtu"] = "1456", ["icmp.checksum.status"] = Good,
        });
    }

    [SkippableFact]
    public void PacketTooBig_ForADownlinkIpv6PacketTooBigToEncapsulate_DissectsWithTheMtuAndAGoodChecksum()
    {
        var tshark = Tshark.Require();
        using var h = GtpTooBigTests.Harness();
        h.Sessions.Establish(DualStack() with { Pdrs = [DualStack().Pdrs[0], new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1])] });

        var output = Transmitted(h, Ethernet(RouterMac, GatewayMac, InnerUdp6(Serverv6, Uev6, 443, 50000, payload: 1500 - 48)));

        var d = tshark.Dissect(output);
        d.AssertNotMalformed();
        d.AssertFields(new()
        {
            ["ipv6.src"] = "2001:db8:200::1,2001:db8:200::200", ["ipv6.dst"] = "2001:db8:200::200,2001:db8:10:1::10",
            ["icmpv6.type"] = "2", ["icmpv6.mtu"] = "1456", ["icmpv6.checksum.status"] = Good,
        });
    }

    private const string Good = "1";
    private const string NotPresent = "3";

    /// <summary>Runs a frame through the program, which must transmit it.</summary>
    [SkippableFact]
    public void RouterAdvertisement_AsTheNodeSendsIt_DissectsAsAnRaWithTheSessionsPrefixDownTheTunnel()
    {
        var tshark = Tshark.Require();
        var frame = Gtp(GatewayMac, GnbMac, N3, Gnb,
            GtpuMessage.GPdu(DownlinkTeid, RouterAdvertisement.Build(Uev6), 9, PduSessionContainer.Downlink));

        var d = tshark.Dissect(frame);
        d.AssertClean();
        d.AssertFields(new()
        {
            ["gtp.message"] = "0xff", ["gtp.teid"] = "0x87654321",
            ["gtp.ext_hdr.pdu_ses_con.pdu_type"] = "0", ["gtp.ext_hdr.pdu_ses_con.qos_flow_id"] = "9",
            ["ipv6.src"] = "fe80::1", ["ipv6.dst"] = "ff02::1", ["ipv6.hlim"] = "255",
            ["icmpv6.type"] = "134", ["icmpv6.checksum.status"] = Good, ["icmpv6.nd.ra.router_lifetime"] = "65535",
            ["icmpv6.opt.prefix"] = "2001:db8:10:1::", ["icmpv6.opt.prefix.length"] = "64",
            ["icmpv6.opt.prefix.flag.l"] = "0", ["icmpv6.opt.prefix.flag.a"] = "1",
        });
    }

    private static byte[] Transmitted(GtpHarness h, byte[] frame)
    {
        var run = h.Run(frame);
        Assert.Equal(XdpAction.Tx, run.Verdict);
        return run.Output;
    }

    private static Session DualStack() => Basic() with
    {
        Pdrs =
        [
            new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(UplinkTeid, N3), UeIpv4: Ue, UeIpv6: Uev6), FarId: 1, RemoveOuterHeader: true),
            Basic().Pdrs[1],
        ],
    };

    /// <summary>tshark, found on PATH: required in CI, a reason to skip elsewhere. Also requires the BPF privileges.</summary>
    private sealed class Tshark(string path)
    {
        private static readonly string[] Checks = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"];

        public static Tshark Require()
        {
            Privileged.Require();
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin")
                .Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, "tshark"))
                .FirstOrDefault(File.Exists);
            if (path is null && Privileged.InCi)
                throw new InvalidOperationException("CI=true and tshark is not installed (scripts/setup.sh installs it); failing instead of skipping");
            Skip.If(path is null, "needs tshark (scripts/setup.sh installs it)");
            return new Tshark(path!);
        }

        /// <summary>The frame's fields, verbose tree and expert summary.</summary>
        public Dissection Dissect(byte[] frame) =>
            new(frame, TsharkFields.Read(path, [frame], Fields, Checks).Single(), TsharkFields.Verbose(path, frame, Checks));
    }

    private sealed record Dissection(byte[] Frame, IReadOnlyDictionary<string, string> Values, string Verbose)
    {
        private string Context => $"frame {Convert.ToHexString(Frame)}\ntshark -V -z expert:\n{Verbose}";

        /// <summary>No malformed packet, no expert info of severity warning or error, checksums good (UDP over IPv4 may have none).</summary>
        public void AssertClean()
        {
            AssertNotMalformed();
            Assert.True(!Verbose.Contains("Errors (", StringComparison.Ordinal) && !Verbose.Contains("Warns (", StringComparison.Ordinal),
                $"tshark -z expert lists warnings or errors\n{Context}");
            foreach (var status in Values["ip.checksum.status"].Split(',', StringSplitOptions.RemoveEmptyEntries))
                Assert.True(status == Good, $"IPv4 header checksum status {status} (1 = good)\n{Context}");
            var ipv6 = Values["eth.type"] == "0x86dd";
            var udp = Values["udp.checksum.status"].Split(',', StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < udp.Length; i++)
            {
                // Only the outermost UDP header can ride on IPv6 here; a zero checksum is legal over IPv4 only.
                var allowed = i == 0 && ipv6 ? [Good] : new[] { Good, NotPresent };
                Assert.True(allowed.Contains(udp[i]), $"UDP checksum status {udp[i]} of UDP header {i + 1} (1 = good, 3 = none)\n{Context}");
            }
        }

        /// <summary>No malformed packet and no expert warning or error. For ICMP errors, whose quoted
        /// packet is cut short on purpose (so its UDP checksum cannot be verified).</summary>
        public void AssertNotMalformed()
        {
            Assert.True(Values["_ws.malformed"] == "" && !Verbose.Contains("Malformed Packet", StringComparison.Ordinal), $"tshark found a malformed packet\n{Context}");
            var severities = Values["_ws.expert.severity"].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Convert.ToInt32(s, 10));
            Assert.True(severities.All(s => s < WarnSeverity), $"tshark expert infos: {Values["_ws.expert.message"]}\n{Context}");
        }

        public void AssertFields(Dictionary<string, string> expected)
        {
            var wrong = expected.Where(e => Values[e.Key] != e.Value).Select(e => $"{e.Key}: expected '{e.Value}', tshark says '{Values[e.Key]}'").ToList();
            Assert.True(wrong.Count == 0, $"{string.Join("\n", wrong)}\n{Context}");
        }

        private const int WarnSeverity = 0x00600000; // PI_WARN
    }
}

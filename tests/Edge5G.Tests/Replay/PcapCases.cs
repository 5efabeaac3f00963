using System.Net;
using System.Text.Json;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Replay;

/// <summary>
/// The replay cases of pcaps/: each has an input capture, a rules file and a golden output
/// built independently of the datapath (frames from named fields, or for real captures a
/// reference decapsulation in C#). The committed files must equal what is built here.
/// </summary>
public sealed record PcapCase(string Name, string Proves, RulesDocument Rules, IReadOnlyList<byte[]> Input, IReadOnlyList<byte[]> Golden)
{
    public string Directory => Path.Combine(RepoPaths.Pcaps, Name);
}

public static class PcapCases
{
    private static readonly DateTime Epoch = new(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Rules of the test topology: N3 198.51.100.1 on one interface with N6, routes as in GtpHarness.</summary>
    public static RulesDocument TopologyRules(params Session[] sessions) => new(
        new AddressesJson(["198.51.100.1", "2001:db8:3::1"]),
        [new InterfaceJson("lo", ["access", "core"])],
        [
            new RouteJson("default", "02:00:00:00:00:01", "02:00:00:00:00:03"),
            new RouteJson("198.51.100.2/32", "02:00:00:00:00:01", "02:00:00:00:00:02"),
            new RouteJson("198.51.100.3/32", "02:00:00:00:00:01", "02:00:00:00:00:04"),
            new RouteJson("2001:db8:3::2/128", "02:00:00:00:00:01", "02:00:00:00:00:02"),
        ],
        sessions.Select(RulesJson.FromModel).ToArray());

    public static IReadOnlyList<PcapCase> Synthetic()
    {
        var ulInner = InnerUdp4(Ue, LocalServer, 40000, 5001);
        var ulPlain = InnerUdp4(Ue, RemoteServer, 40001, 53, payload: 40);
        var dl4 = InnerUdp4(LocalServer, Ue, 5001, 40000);
        var dl6 = InnerUdp6(Serverv6, Uev6, 443, 50000, payload: 100);
        var dl6Session = Basic() with
        {
            Pdrs = [Basic().Pdrs[0], new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1])],
        };
        var ulLocal = InnerUdp4(Ue, LocalServer, 40000, 5001);
        var ulRemote = InnerUdp4(Ue, RemoteServer, 40000, 443);
        var dlFromN9 = InnerUdp4(RemoteServer, Ue, 443, 40000);
        var dlFromN6 = InnerUdp4(LocalServer, Ue, 5001, 40000);
        // QinQ: an 802.1ad service tag (VLAN 200) and an 802.1Q customer tag (VLAN 100) after the MACs.
        static byte[] QinQ(byte[] frame) => Tagged(Tagged(frame, OuterFrame.Dot1Q, 100), OuterFrame.Dot1Ad, 200);
        var dualStack = Basic() with
        {
            Pdrs =
            [
                Basic().Pdrs[0] with { Pdi = Basic().Pdrs[0].Pdi with { UeIpv6 = Uev6 } },
                Basic().Pdrs[1],
                new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1]),
            ],
        };
        var ul6 = InnerUdp6(Uev6, Serverv6, 50000, 443, payload: 40);
        var bigNoDf = InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 1500 - 28);
        var bigDf = InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 1500 - 28, dontFragment: true);
        var big6 = InnerUdp6(Serverv6, Uev6, 443, 50000, payload: 1500 - 48);
        var dualStackDownlink = Basic() with { Pdrs = [.. Basic().Pdrs, new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1])] };
        // A CPE's LAN behind the UE: 192.0.2.128/26 on both PDRs.
        var routed = Basic() with { Pdrs = [.. Basic().Pdrs.Select(p => p with { Pdi = p.Pdi with { FramedRoutes = [IPNetwork.Parse("192.0.2.128/26")] } })] };
        var toLan = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.130"), 5001, 40000);
        var fromLan = InnerUdp4(IPAddress.Parse("192.0.2.130"), LocalServer, 40000, 5001);
        var pastLan = InnerUdp4(LocalServer, IPAddress.Parse("192.0.2.192"), 5001, 40000);
        var spoofed = InnerUdp4(IPAddress.Parse("192.0.2.200"), LocalServer, 40000, 5001);

        return
        [
            new("uplink-psc", "uplink G-PDU with a PDU Session Container (QFI 9) leaves as the inner packet towards N6, TTL 63",
                TopologyRules(Basic()), [Uplink(UplinkTeid, ulInner, qfi: 9)],
                [Ethernet(GatewayMac, RouterMac, Forwarded(ulInner))]),
            new("uplink-plain", "uplink G-PDU without extension headers is decapsulated the same way",
                TopologyRules(Basic()), [Uplink(UplinkTeid, ulPlain)],
                [Ethernet(GatewayMac, RouterMac, Forwarded(ulPlain))]),
            new("downlink-ipv4", "downlink IPv4 to the UE gets GTP-U/UDP/IPv4 with TEID 0x87654321 and a DL PDU Session Container, QFI 9",
                TopologyRules(Basic()), [Ethernet(RouterMac, GatewayMac, dl4)],
                [Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(dl4), qfi: 9)]),
            new("downlink-ipv6", "downlink IPv6 to the UE's /64 is encapsulated likewise",
                TopologyRules(dl6Session), [Ethernet(RouterMac, GatewayMac, dl6)],
                [Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(dl6), qfi: 9)]),
            new("ulcl-split", "ULCL: uplink to 203.0.113.128/25 breaks out on N6, other uplink goes to the central UPF over N9, downlink from N9 and N6 merges into the gNB tunnel",
                TopologyRules(UlclSessions.Session()),
                [
                    Uplink(UplinkTeid, ulLocal, qfi: 9),
                    Uplink(UplinkTeid, ulRemote, qfi: 9),
                    Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, GtpuMessage.GPdu(N9Teid, dlFromN9.Bytes, 9, PduSessionContainer.Downlink)),
                    Ethernet(RouterMac, GatewayMac, dlFromN6),
                ],
                [
                    Ethernet(GatewayMac, RouterMac, Forwarded(ulLocal)),
                    Encapsulated(GatewayMac, CentralUpfMac, N3, CentralUpf, CentralTeid, Forwarded(ulRemote), 9, PduSessionContainer.Uplink),
                    Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(dlFromN9), qfi: 9),
                    Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(dlFromN6), qfi: 9),
                ]),
            new("echo", "GTP-U Echo Request is answered in XDP: sequence number kept, Recovery IE",
                TopologyRules(), [Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(0x0042))],
                [Tunnelled(GatewayMac, GnbMac, N3, Gnb, new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 0], Sequence: 0x0042), ipId: 1, df: false)]),
            new("echo-qinq", "an Echo Request behind two VLAN tags (QinQ: 802.1ad service tag 200, 802.1Q customer tag 100) is answered behind the same two tags",
                TopologyRules(), [QinQ(Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(0x0043)))],
                [QinQ(Tunnelled(GatewayMac, GnbMac, N3, Gnb, new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 0], Sequence: 0x0043), ipId: 1, df: false))]),
            new("router-solicitation", "a UE's Router Solicitation (from its link-local address, hop limit 255) is consumed for the control side to answer (counted as router-solicitation); the UE's IPv6 traffic after it is decapsulated",
                TopologyRules(dualStack),
                [
                    Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.GPdu(UplinkTeid, Datapath.GtpRouterSolicitationTests.RouterSolicitation(), 9, PduSessionContainer.Uplink)),
                    Uplink(UplinkTeid, ul6, qfi: 9),
                ],
                [Ethernet(GatewayMac, RouterMac, Forwarded(ul6))]),
            new("quota-exhausted", "the uplink quota of the session is used up: its uplink G-PDU is dropped (counted as drop-quota), its downlink is still encapsulated",
                TopologyRules(Basic() with { Pdrs = [Basic().Pdrs[0] with { QuotaExhausted = true }, Basic().Pdrs[1]] }),
                [Uplink(UplinkTeid, ulInner, qfi: 9), Ethernet(RouterMac, GatewayMac, dl4)],
                [Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(dl4), qfi: 9)]),
            new("downlink-too-big", "downlink packets that do not fit the 1500-byte N3 link once encapsulated (44 octets): IPv4 with DF is answered with ICMP Fragmentation Needed (next-hop MTU 1456), IPv6 with Packet Too Big (MTU 1456), both from the N6 address and quoting the packet (counted as icmp-too-big-sent); IPv4 without DF is dropped (drop-mtu)",
                TopologyRules(dualStackDownlink) with { Addresses = new AddressesJson(["198.51.100.1", "2001:db8:3::1"], DataNetwork: ["203.0.113.1", "2001:db8:200::1"]) },
                [Ethernet(RouterMac, GatewayMac, bigDf), Ethernet(RouterMac, GatewayMac, big6), Ethernet(RouterMac, GatewayMac, bigNoDf)],
                [
                    Ethernet(GatewayMac, RouterMac, FragmentationNeeded(IPAddress.Parse("203.0.113.1"), bigDf, 1456)),
                    Ethernet(GatewayMac, RouterMac, PacketTooBig(IPAddress.Parse("2001:db8:200::1"), big6, 1456)),
                ]),
            new("framed-route", "framed routing: downlink to 192.0.2.130 in the UE's framed route 192.0.2.128/26 goes down the UE's tunnel, uplink from it is decapsulated; downlink to 192.0.2.192 (past the route) passes to the stack, uplink from it is dropped (drop-no-rule)",
                TopologyRules(routed),
                [Ethernet(RouterMac, GatewayMac, toLan), Uplink(UplinkTeid, fromLan, qfi: 9), Ethernet(RouterMac, GatewayMac, pastLan), Uplink(UplinkTeid, spoofed, qfi: 9)],
                [Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(toLan), qfi: 9), Ethernet(GatewayMac, RouterMac, Forwarded(fromLan))]),
            new("unknown-teid", "a G-PDU for a TEID no session owns is answered with an Error Indication naming that TEID and our N3 address (counted as error-indication-sent)",
                TopologyRules(Basic()), [Uplink(0x0badf00d, ulInner, qfi: 9)],
                [Tunnelled(GatewayMac, GnbMac, N3, Gnb, GtpuMessage.ErrorIndication(0x0badf00d, N3), ipId: 1, df: false)]),
        ];
    }

    // ----- real captures (pcaps/real-*: copied under their licences, see pcaps/NOTICE) -----

    public static IReadOnlyList<PcapCase> Real()
    {
        var mac = (Src: "02:00:00:00:00:01", Dst: "02:00:00:00:00:03");
        RulesDocument Rules(string local, params (uint Teid, string? Ue)[] tunnels) => new(
            new AddressesJson([local]),
            [new InterfaceJson("lo", ["access", "core"])],
            [new RouteJson("default", mac.Src, mac.Dst)],
            tunnels.Select((t, i) => RulesJson.FromModel(new Session((ulong)i + 1,
                [new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(t.Teid, IPAddress.Parse(local)),
                    UeIpv4: t.Ue is null ? null : IPAddress.Parse(t.Ue)), FarId: 1, RemoveOuterHeader: true)],
                [new Far(1, ApplyAction.Forward, new ForwardingParameters(InterfaceType.Core))]))).ToArray());

        PcapCase Decap(string name, string proves, string source, RulesDocument rules)
        {
            var input = PcapFile.Read(Path.Combine(RepoPaths.Pcaps, name, "in.pcap")).Select(f => f.Data).ToArray();
            _ = source;
            return new PcapCase(name, proves, rules, input, ReferenceDecapsulation.Golden(rules, input));
        }

        return
        [
            Decap("real-pcapplusplus-gtp-u", "PcapPlusPlus capture, 102 G-PDUs (ICMP inner, TEID 1): the 51 addressed to our 192.168.40.179 are decapsulated, the 51 for the other end pass to the stack",
                "seladb/PcapPlusPlus", Rules("192.168.40.179", (1, "192.168.40.178"))),
            Decap("real-zeek-udp-2152-inside", "Zeek capture: a G-PDU whose inner packet is itself UDP/2152 is decapsulated exactly once",
                "zeek/zeek", Rules("84.249.173.85", (0x3318, null))),
            Decap("real-zeek-ipv6-inner", "Zeek capture: G-PDUs carrying IPv6 (UDP and ICMPv6) are decapsulated with the hop limit decremented",
                "zeek/zeek", Rules("118.92.124.72", (0x91364467, null))),
            Decap("real-zeek-ext-header", "Zeek capture: an outer IP fragment passes to the stack; a G-PDU with a PDCP PDU Number extension (0xC0) is decapsulated",
                "zeek/zeek", Rules("10.155.148.157", (0x00100657, null))),
            Decap("real-gtprs-sequence", "gtp-rs capture: a G-PDU with the S flag and a sequence number is decapsulated",
                "ErvinsK/gtp-rs", Rules("80.10.2.135", (0x8216c33f, null))),
            Decap("real-zeek-false-gtp", "Zeek capture: VLAN-tagged DNS from source port 2152 is not GTP-U and passes to the stack",
                "zeek/zeek", Rules("195.178.38.3")),
            Decap("real-zeek-signalling", "Zeek capture: Echo Request answered, Echo Response for another node passed, Error Indication consumed",
                "zeek/zeek", Rules("237.56.101.238") with { Addresses = new AddressesJson(["237.56.101.238", "247.56.43.248"]) }),
            Decap("real-zeek-short-payload", "Zeek capture: G-PDUs with unknown or too short inner payloads are dropped as malformed; fragments pass; valid ones are decapsulated",
                "zeek/zeek", Rules("213.72.147.186", (0x9813014c, null))),
        ];
    }

    public static IEnumerable<PcapCase> All() => Synthetic().Concat(Real());

    /// <summary>Writes a case's files (used to regenerate pcaps/ with EDGE5G_REGENERATE_PCAPS=1).</summary>
    public static void Write(PcapCase c)
    {
        System.IO.Directory.CreateDirectory(c.Directory);
        var inPath = Path.Combine(c.Directory, "in.pcap");
        if (!c.Name.StartsWith("real-", StringComparison.Ordinal))
            PcapFile.Write(inPath, Frames(c.Input));
        PcapFile.Write(Path.Combine(c.Directory, "golden.pcap"), Frames(c.Golden));
        File.WriteAllText(Path.Combine(c.Directory, "rules.json"), JsonSerializer.Serialize(c.Rules, RulesDocument.JsonOptions) + "\n");
    }

    public static IEnumerable<PcapFrame> Frames(IEnumerable<byte[]> frames) =>
        frames.Select((f, i) => new PcapFrame(f, Epoch.AddMilliseconds(i), LinkLayers.Ethernet));
}

using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// The fast path (untagged IPv4 without options, constant offsets) must decide exactly as the
/// general parser does. The same GTP-U message is sent untagged (fast path), behind outer IPv4
/// options, on an 802.1Q VLAN and behind two tags (QinQ; all three general): same verdict, same
/// output frame, same counter.
/// </summary>
public class GtpFastPathTests
{
    public static TheoryData<string> Messages =>
    [
        "G-PDU with an UL PDU Session Container, QFI 9",
        "G-PDU with an UL PDU Session Container, QFI 5",
        "G-PDU without extension headers",
        "G-PDU from an address that is not the session's UE",
        "G-PDU to an unknown TEID",
        "End Marker",
        "G-PDU with a sequence number",
    ];

    private static readonly Dictionary<string, DatapathStat> Expected = new()
    {
        ["G-PDU with an UL PDU Session Container, QFI 9"] = DatapathStat.ForwardUplink,
        ["G-PDU with an UL PDU Session Container, QFI 5"] = DatapathStat.ForwardUplink,
        ["G-PDU without extension headers"] = DatapathStat.ForwardUplink,
        ["G-PDU from an address that is not the session's UE"] = DatapathStat.DropNoRule,
        ["G-PDU to an unknown TEID"] = DatapathStat.ErrorIndicationSent,
        ["End Marker"] = DatapathStat.EndMarker,
        ["G-PDU with a sequence number"] = DatapathStat.ForwardUplink,
    };

    [SkippableTheory]
    [MemberData(nameof(Messages))]
    public void Message_IsJudgedTheSame_UntaggedWithoutOptions_BehindOptions_OnAVlan_AndBehindQinQ(string message)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var payload = Message(message);

        var fast = Judge(h, new OuterFrame { Payload = payload });
        var options = Judge(h, new OuterFrame { Payload = payload, Ipv4Options = [1, 1, 1, 0] });
        var vlan = Judge(h, new OuterFrame { Payload = payload, VlanTpid = OuterFrame.Dot1Q });
        var qinq = Judge(h, new OuterFrame { Payload = payload, ServiceVlanId = 200, VlanTpid = OuterFrame.Dot1Q });

        Assert.Equal(Expected[message], fast.Stat);
        Assert.Equal(fast.Stat is DatapathStat.ForwardUplink or DatapathStat.ErrorIndicationSent, fast.Verdict == XdpAction.Tx);
        Assert.Equal(options, fast);
        Assert.Equal(vlan, fast);
        Assert.Equal(qinq, fast);
    }

    public static TheoryData<string> DownlinkPackets =>
    [
        "UDP to the UE",
        "UDP to the UE from port 2152",
        "UDP to port 2152 of the UE",
        "an address no session has",
        "TTL 1",
        "too big with DF",
        "a fragment to the UE",
    ];

    private static readonly Dictionary<string, DatapathStat> ExpectedDownlink = new()
    {
        ["UDP to the UE"] = DatapathStat.ForwardDownlink,
        ["UDP to the UE from port 2152"] = DatapathStat.ForwardDownlink,
        // On this interface (access and core roles) UDP 2152 is GTP-U, and not to our address.
        ["UDP to port 2152 of the UE"] = DatapathStat.PassNotOurs,
        ["an address no session has"] = DatapathStat.PassNotOurs,
        ["TTL 1"] = DatapathStat.PassTtl,
        ["too big with DF"] = DatapathStat.DropMtu, // no ICMP source address in this harness
        ["a fragment to the UE"] = DatapathStat.ForwardDownlink,
    };

    /// <summary>
    /// The downlink fast path (untagged IPv4 without options, not a fragment) against the general
    /// walk: the same packet untagged, on an 802.1Q VLAN and behind QinQ gives the same verdict,
    /// counter and transmitted frame.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DownlinkPackets))]
    public void DownlinkPacket_IsJudgedTheSame_Untagged_OnAVlan_AndBehindQinQ(string packet)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = Ethernet(RouterMac, GatewayMac, Downlink(packet));

        var fast = Judge(h, frame);
        var vlan = Judge(h, Tagged(frame, OuterFrame.Dot1Q, 100));
        var qinq = Judge(h, Tagged(Tagged(frame, OuterFrame.Dot1Q, 100), OuterFrame.Dot1Ad, 200));

        Assert.Equal(ExpectedDownlink[packet], fast.Stat);
        Assert.Equal(fast.Stat == DatapathStat.ForwardDownlink, fast.Verdict == XdpAction.Tx);
        Assert.Equal(vlan, fast);
        Assert.Equal(qinq, fast);
    }

    private static IPv4Packet Downlink(string name)
    {
        IPv4Packet Udp(ushort sport, ushort dport, IPAddress? to = null, byte ttl = 64, int payload = 64, bool df = false) =>
            InnerUdp4(LocalServer, to ?? Ue, sport, dport, payload, ttl, df);
        switch (name)
        {
            case "UDP to the UE": return Udp(5001, 40000);
            case "UDP to the UE from port 2152": return Udp(2152, 40000);
            case "UDP to port 2152 of the UE": return Udp(40000, 2152);
            case "an address no session has": return Udp(5001, 40000, IPAddress.Parse("192.0.2.99"));
            case "TTL 1": return Udp(5001, 40000, ttl: 1);
            case "too big with DF": return Udp(5001, 40000, payload: 1500 - 28, df: true);
            case "a fragment to the UE":
            {
                var ip = Udp(5001, 40000);
                ip.FragmentFlags = 0x1; // more fragments: the first of several
                ip.UpdateIPChecksum();
                return ip;
            }
            default: throw new ArgumentOutOfRangeException(nameof(name));
        }
    }

    private static (XdpAction Verdict, DatapathStat Stat, string Output) Judge(GtpHarness h, byte[] frame)
    {
        var stats = new StatSnapshot(h);
        var run = h.Run(frame);
        var moved = Assert.Single(stats.MovedStats());
        return (run.Verdict, moved, run.Verdict == XdpAction.Tx ? Convert.ToHexString(run.Output) : "");
    }

    /// <summary>Verdict, counter moved, and the frame transmitted (dropped or passed frames: none).</summary>
    private static (XdpAction Verdict, DatapathStat Stat, string Output) Judge(GtpHarness h, OuterFrame outer)
    {
        var frame = outer.Build();
        var stats = new StatSnapshot(h);
        var run = h.Run(frame);
        var moved = Assert.Single(stats.MovedStats());
        // A reply to a tagged frame keeps the tags: compared without them.
        return (run.Verdict, moved, run.Verdict == XdpAction.Tx ? Convert.ToHexString(Untagged(run.Output)) : "");
    }

    private static byte[] Message(string name)
    {
        var inner = InnerUdp4(Ue, RemoteServer, 40000, 443, payload: 40).Bytes;
        return name switch
        {
            "G-PDU with an UL PDU Session Container, QFI 9" => GtpuMessage.GPdu(UplinkTeid, inner, 9).Encode(),
            "G-PDU with an UL PDU Session Container, QFI 5" => GtpuMessage.GPdu(UplinkTeid, inner, 5).Encode(),
            "G-PDU without extension headers" => GtpuMessage.GPdu(UplinkTeid, inner).Encode(),
            "G-PDU from an address that is not the session's UE" =>
                GtpuMessage.GPdu(UplinkTeid, InnerUdp4(RemoteServer, RemoteServer, 40000, 443, payload: 40).Bytes, 9).Encode(),
            "G-PDU to an unknown TEID" => GtpuMessage.GPdu(UplinkTeid + 0x100, inner, 9).Encode(),
            "End Marker" => (GtpuMessage.GPdu(UplinkTeid, [], null) with { Type = GtpuMessageType.EndMarker }).Encode(),
            "G-PDU with a sequence number" => (GtpuMessage.GPdu(UplinkTeid, inner, 9) with { Sequence = 7 }).Encode(),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }
}

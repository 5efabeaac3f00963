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

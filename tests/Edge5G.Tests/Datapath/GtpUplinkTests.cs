using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>Uplink G-PDUs from the gNB through the real XDP program (BPF_PROG_TEST_RUN).</summary>
public class GtpUplinkTests
{
    [SkippableFact]
    public void UplinkGPdu_WithPduSessionContainerQfi9_LeavesAsTheInnerPacket_TowardsTheDataNetwork()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = InnerUdp4(Ue, LocalServer, 40000, 5001);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

        Assert.Equal(XdpAction.Tx, run.Verdict); // N3 and N6 on one interface
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ForwardUplink));
        Assert.Equal(new Counter { Packets = 1, Bytes = (ulong)inner.TotalLength }, h.PdrCounter(1, 1));
    }

    [SkippableFact]
    public void UplinkGPdu_WithoutExtensionHeaders_IsDecapsulatedTheSameWay()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = InnerUdp4(Ue, RemoteServer, 1234, 53, payload: 30);

        var run = h.Run(Uplink(UplinkTeid, inner));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), run.Output);
    }
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>Uplink classifier: one session split between local breakout (N6) and a central UPF (N9).</summary>
public class GtpUlclTests
{
    [SkippableFact]
    public void UplinkToTheLocalDataNetwork_MatchesPdr1AndBreaksOutOnN6()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(Ue, LocalServer, 40000, 5001);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), run.Output);
        Assert.Equal(1UL, h.PdrCounter(7, 1).Packets);
        Assert.Equal(0UL, h.PdrCounter(7, 2).Packets);
    }

    [SkippableFact]
    public void UplinkElsewhere_MatchesPdr2AndIsReencapsulatedTowardsTheCentralUpf_KeepingQfi()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(Ue, RemoteServer, 40000, 443);

        var run = h.Run(Uplink(UplinkTeid, inner, qfi: 9));

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, CentralUpfMac, N3, CentralUpf, CentralTeid, Forwarded(inner), qfi: 9,
            pduType: PduSessionContainer.Uplink), run.Output);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.ForwardN9));
        Assert.Equal(1UL, h.PdrCounter(7, 2).Packets);
    }

    [SkippableFact]
    public void DownlinkFromTheCentralUpf_OverN9_MergesIntoTheGnbTunnel()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(RemoteServer, Ue, 443, 40000);
        var fromCentral = Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, GtpuMessage.GPdu(N9Teid, inner.Bytes, 9, PduSessionContainer.Downlink));

        var run = h.Run(fromCentral);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(inner), qfi: 9), run.Output);
        Assert.Equal(1UL, h.PdrCounter(7, 4).Packets);
    }

    [SkippableFact]
    public void DownlinkFromTheLocalDataNetwork_MergesIntoTheSameGnbTunnel()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000);

        var run = h.Run(Ethernet(RouterMac, GatewayMac, packet));

        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
        Assert.Equal(1UL, h.PdrCounter(7, 3).Packets);
    }

    [SkippableFact]
    public void UplinkWithASpoofedSource_MatchesNoPdr_AndIsDropped()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());

        var run = h.Run(Uplink(UplinkTeid, InnerUdp4(System.Net.IPAddress.Parse("192.0.2.66"), LocalServer, 1, 2), qfi: 9));

        Assert.Equal(XdpAction.Drop, run.Verdict);
        Assert.Equal(1UL, h.StatPackets(DatapathStat.DropNoRule));
    }
}

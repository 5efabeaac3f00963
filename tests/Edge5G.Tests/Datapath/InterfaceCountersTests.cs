using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Tests.Support;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// The program counts each packet once on its ingress interface's row of if_stats, by verdict
/// and by reason; packets on interfaces without a role go to a row of their own. The totals per
/// reason are the sums over the rows.
/// </summary>
public class InterfaceCountersTests
{
    [SkippableFact]
    public void EachPacket_IsCountedOnItsInterface_ByVerdictAndReason_AndInTheTotals()
    {
        Privileged.Require();
        // Options of its own: the test takes the interface's roles away for a while, and no
        // other test shares this loaded program meanwhile.
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 12 });
        var echo = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.EchoRequest(7));
        var notOurs = Gtp(GnbMac, GatewayMac, Gnb, IPAddress.Parse("198.51.100.77"), GtpuMessage.EchoRequest(8));
        // Counted inside a GLOBAL function, which looks the row up again (count_by_row).
        var errorIndication = Gtp(GnbMac, GatewayMac, Gnb, N3, GtpuMessage.ErrorIndication(TestSessions.DownlinkTeid, Gnb));
        var d = h.Datapath;
        try
        {
            Assert.Equal(XdpAction.Tx, h.Run(echo).Verdict);
            Assert.Equal(XdpAction.Tx, h.Run(echo).Verdict);
            Assert.Equal(XdpAction.Pass, h.Run(notOurs).Verdict);
            Assert.Equal(XdpAction.Drop, h.Run(errorIndication).Verdict);

            Assert.Equal(Count(2, 2 * echo.Length), d.InterfaceStat(GtpHarness.Ifindex, XdpAction.Tx));
            Assert.Equal(Count(1, notOurs.Length), d.InterfaceStat(GtpHarness.Ifindex, XdpAction.Pass));
            Assert.Equal(Count(1, errorIndication.Length), d.InterfaceStat(GtpHarness.Ifindex, XdpAction.Drop));
            Assert.Equal(Count(1, errorIndication.Length), d.InterfaceStat(GtpHarness.Ifindex, DatapathStat.ErrorIndication));
            Assert.Equal(Count(2, 2 * echo.Length), d.InterfaceStat(GtpHarness.Ifindex, DatapathStat.EchoReplied));
            Assert.Equal(Count(1, notOurs.Length), d.InterfaceStat(GtpHarness.Ifindex, DatapathStat.PassNotOurs));
            Assert.Equal(Count(2, 2 * echo.Length), d.Stat(DatapathStat.EchoReplied));

            // Without a role the interface is not ours: its packets pass, counted on the row of
            // the rest, which the totals include and the interface's own row does not.
            d.RemoveInterface(GtpHarness.Ifindex);
            Assert.Equal(XdpAction.Pass, h.Run(echo).Verdict);

            Assert.Equal(Count(1, notOurs.Length), d.InterfaceStat(GtpHarness.Ifindex, DatapathStat.PassNotOurs));
            Assert.Equal(Count(1, notOurs.Length), d.InterfaceStat(GtpHarness.Ifindex, XdpAction.Pass));
            Assert.Equal(Count(2, notOurs.Length + echo.Length), d.Stat(DatapathStat.PassNotOurs));
            Assert.Equal(Count(2, 2 * echo.Length), d.Stat(DatapathStat.EchoReplied));
            var totals = d.Stats();
            Assert.Equal(5UL, totals.Values.Aggregate(0UL, (sum, c) => sum + c.Packets));
        }
        finally
        {
            d.SetInterface(GtpHarness.Ifindex, InterfaceRoles.Access | InterfaceRoles.Core);
        }
    }

    private static Counter Count(ulong packets, int bytes) => new() { Packets = packets, Bytes = (ulong)bytes };
}

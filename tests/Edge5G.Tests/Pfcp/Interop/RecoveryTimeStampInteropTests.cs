using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Pfcp.Node;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>
/// The OAI SMF (captures of 2021, 2022 and 2023 in ../shared/pcaps-real) puts its current
/// time in the Recovery Time Stamp of every Heartbeat and Association Setup Request, and its
/// real start time in its responses. Taken literally (TS 23.007 clause 19A) every heartbeat
/// would be a restart and purge all its sessions; the node tells a clock from a restart.
/// </summary>
public class RecoveryTimeStampInteropTests
{
    private static DateTime Now()
    {
        var now = DateTime.UtcNow;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond)); // Recovery Time Stamps are whole seconds
    }

    [Fact]
    public void HeartbeatRequests_StampedWithTheSmfsClock_AreNotARestart()
    {
        using var n = new NodeUnderTest();
        n.SmfRecovery = Now();
        n.Associate();
        n.Request(n.EstablishmentRequest(0x10));

        for (int i = 0; i < 3; i++)
        {
            Thread.Sleep(1100);
            Assert.IsType<HeartbeatResponse>(n.Request(new HeartbeatRequest(Now())).Body); // what OAI sends
        }

        Assert.Equal(1, n.Table.Count);
    }

    [Fact]
    public void AHeartbeatWithAStartTimeInThePast_IsStillARestart()
    {
        using var n = new NodeUnderTest();
        n.SmfRecovery = Now().AddMinutes(-10);
        n.Associate();
        n.Request(n.EstablishmentRequest(0x10));

        n.Request(new HeartbeatRequest(Now().AddSeconds(-30))); // restarted 30 s ago

        Assert.Equal(0, n.Table.Count);
    }

    [Fact]
    public void AnAssociationStampedWithTheClock_IsCorrectedByTheEarlierStartTimeInItsHeartbeatResponses()
    {
        using var n = new NodeUnderTest(s => s with { HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        var started = Now().AddSeconds(-5);
        n.SmfRecovery = Now(); // the Association Setup Request carries the clock...
        n.Associate();
        n.Request(n.EstablishmentRequest(0x10));
        n.SmfRecovery = started; // ...the Heartbeat Responses the real start time

        Assert.True(SpinWait.SpinUntil(() => n.Node.Associations()[0].PeerRecoveryTimeStamp == started, TimeSpan.FromSeconds(3)),
            $"stored {n.Node.Associations()[0].PeerRecoveryTimeStamp:o}, start {started:o}, sessions {n.Table.Count}, heartbeats {n.NodeRequests.Count(r => r.Body is HeartbeatRequest)}");
        Assert.Equal(1, n.Table.Count);
        Assert.True(n.NodeRequests.Count(r => r.Body is HeartbeatRequest) >= 1);
    }
}

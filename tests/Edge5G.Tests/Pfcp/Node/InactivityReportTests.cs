using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// User Plane Inactivity Timer (TS 29.244 5.11): a session without traffic for the timer is
/// reported (Session Report Request, report type UPIR) once, and again after its traffic
/// resumes and stops.
/// </summary>
public class InactivityReportTests
{
    private static SessionReportRequest[] InactivityReports(NodeUnderTest n) =>
        [.. n.NodeRequests.Select(d => d.Body).OfType<SessionReportRequest>().Where(r => r.ReportType.HasFlag(ReportType.Upir))];

    private static ulong Establish(NodeUnderTest n, uint? inactivityTimer)
    {
        var request = n.EstablishmentRequest(0x61) with { UserPlaneInactivityTimer = inactivityTimer };
        return Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body).UpFSeid!.Seid;
    }

    [Fact]
    public void IdleSession_IsReportedOnce_AndAgainAfterItsTrafficStops()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, inactivityTimer: 1);

        Assert.True(n.WaitFor(_ => InactivityReports(n).Length >= 1, TimeSpan.FromSeconds(3)), "no inactivity report in 3 s");
        var first = Assert.Single(InactivityReports(n));
        Assert.Equal(ReportType.Upir, first.ReportType);
        Assert.Empty(first.UsageReports);
        Assert.Equal(0x61UL, n.NodeRequests.Single(d => ReferenceEquals(d.Body, first)).Header.Seid); // the SMF's SEID
        Thread.Sleep(1300);
        Assert.Single(InactivityReports(n)); // once per idle spell

        n.AddTraffic(seid, pdr: 1, packets: 1, bytes: 100);

        Assert.True(n.WaitFor(_ => InactivityReports(n).Length >= 2, TimeSpan.FromSeconds(4)), "no report after the traffic stopped again");
    }

    [Fact]
    public void TrafficWithinTheTimer_KeepsTheSessionActive()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, inactivityTimer: 2);

        for (int i = 0; i < 12; i++) // 3 s, traffic every 250 ms: well within the 2 s timer even on a loaded machine
        {
            n.AddTraffic(seid, pdr: 2, packets: 1, bytes: 100);
            Thread.Sleep(250);
        }

        Assert.Empty(InactivityReports(n));
    }

    [Fact]
    public void Modification_SetsAndClearsTheTimer()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Establish(n, inactivityTimer: null);
        Thread.Sleep(1300);
        Assert.Empty(InactivityReports(n));

        var set = n.Request(new SessionModificationRequest { UserPlaneInactivityTimer = 1 }, seid);
        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(set.Body).Cause);
        Assert.True(n.WaitFor(_ => InactivityReports(n).Length >= 1, TimeSpan.FromSeconds(3)), "the timer set by a modification did not fire");

        n.Request(new SessionModificationRequest { UserPlaneInactivityTimer = 0 }, seid);
        n.AddTraffic(seid, pdr: 1, packets: 1, bytes: 100);
        Thread.Sleep(1500);
        Assert.Single(InactivityReports(n)); // 0 turns it off
    }

    [Fact]
    public void AReportTheSmfRefuses_IsCountedWithItsCause()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        n.ReportAnswer = PfcpCause.SessionContextNotFound;
        Establish(n, inactivityTimer: 1);

        Assert.True(SpinWait.SpinUntil(() => n.Node.Counters.Messages.GetValueOrDefault(("in", "SessionReportResponse", "SessionContextNotFound")) == 1,
            TimeSpan.FromSeconds(3)), "the refused report's response is not counted with its cause");
        Assert.Equal(0, n.Node.Counters.Messages.GetValueOrDefault(("in", "SessionReportResponse", "")));
    }

    [Fact]
    public void TheTimer_OutlivesADaemonRestart()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        Establish(n, inactivityTimer: 1);

        var saved = n.Restart();

        var rules = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(Convert.FromBase64String(Assert.Single(saved.Sessions).Rules)));
        Assert.Equal(1U, Assert.IsType<SessionEstablishmentRequest>(rules.Body).UserPlaneInactivityTimer);
        Assert.True(n.WaitFor(_ => InactivityReports(n).Length >= 1, TimeSpan.FromSeconds(3)), "no inactivity report after the restart");
    }
}

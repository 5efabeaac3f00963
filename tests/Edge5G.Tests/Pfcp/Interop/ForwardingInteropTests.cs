using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;
using LoxiLb.Edge5G.Tests.Pfcp.Node;
using M = LoxiLb.Edge5G.Datapath.Model;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>FAR shapes real SMFs send (the replays of ../shared/pcaps-real found them), checked without the captures.</summary>
public class ForwardingInteropTests
{
    [Fact]
    public void ForwardToAccess_WithoutOuterHeaderCreation_IsAccepted_AsDropUntilTheGnbIsKnown()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        // Open5GS: the downlink FAR forwards to the access side before the gNB F-TEID is known.
        var request = n.EstablishmentRequest(0x20);
        request = request with
        {
            CreateFars = [request.CreateFars[0], new CreateFar(2, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Access) }],
        };
        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);
        Assert.Equal(PfcpCause.RequestAccepted, est.Cause);
        Assert.True(n.Table.TryGet(est.UpFSeid!.Seid, out var installed));
        Assert.Equal(M.ApplyAction.Drop, installed.Session.Fars.Single(f => f.Id == 2).Action);

        var mod = Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x1234), est.UpFSeid.Seid).Body);

        Assert.Equal(PfcpCause.RequestAccepted, mod.Cause);
        Assert.True(n.Table.TryGet(est.UpFSeid.Seid, out installed));
        var far = installed.Session.Fars.Single(f => f.Id == 2);
        Assert.Equal(M.ApplyAction.Forward, far.Action);
        Assert.Equal((0x1234u, NodeUnderTest.Gnb), (far.Forwarding!.OuterHeader!.Teid, far.Forwarding.OuterHeader.Peer));
    }

    [Fact]
    public void RedirectInformation_InAFar_IsRefusedNamingTheFar_RatherThanForwardedUnredirected()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        // OAI: FAR 1 forwards to the core with Redirect Information (URL facebook.com).
        var redirect = PfcpIe.Raw(38, new OctetString([0x02, 0x00, 0x0c, .. "facebook.com"u8]));
        var request = n.EstablishmentRequest(0x21);
        request = request with
        {
            CreateFars = [new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) { Other = [redirect] } }, request.CreateFars[1]],
        };

        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, est.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Far, 1), est.FailedRuleId);
        Assert.Equal(0, n.Table.Count);
    }

    [Fact]
    public void RedirectInformation_InAQuotaActionFar_IsInstalledAsDrop_AndTheUsedUpQuotaDrops()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        // Final Unit Indication "redirect": the SMF names a redirecting FAR for the quota action.
        var redirect = PfcpIe.Raw(38, new OctetString([0x02, 0x00, 0x0f, .. "topup.example.test"u8[..15]]));
        var portal = new CreateFar(3, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) { Other = [redirect] } };
        var request = n.EstablishmentRequest(0x22);
        request = request with
        {
            CreateFars = [.. request.CreateFars, portal],
            CreateUrrs = [new CreateUrr(1, MeasurementMethod.Volum, new ReportingTriggers(ReportingTriggerFlags.Volqu)) { VolumeQuota = new Volume(Total: 500), FarIdForQuotaAction = 3 }],
        };

        var est = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RequestAccepted, est.Cause);
        var seid = est.UpFSeid!.Seid;
        Assert.True(n.Table.TryGet(seid, out var installed));
        Assert.Equal(M.ApplyAction.Drop, installed.Session.Fars.Single(f => f.Id == 3).Action);
        n.AddTraffic(seid, pdr: 1, packets: 5, bytes: 600);
        Assert.True(SpinWait.SpinUntil(() => n.Table.TryGet(seid, out var s) && s.Session.Pdrs.All(p => p.FarId == 3), TimeSpan.FromSeconds(3)),
            "the used-up quota did not move the PDRs to the (dropping) portal FAR");
    }
}

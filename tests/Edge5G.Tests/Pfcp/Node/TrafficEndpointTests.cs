using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// PDI optimisation (PDIU, TS 29.244 5.2.1A.2): the SMF creates traffic endpoints once and its
/// PDRs name them by Traffic Endpoint ID instead of repeating the local F-TEID and UE address.
/// CHOOSE in an endpoint is answered in Created Traffic Endpoint; Update and Remove Traffic
/// Endpoint change the PDRs that name them.
/// </summary>
public class TrafficEndpointTests
{
    private const byte Uplink = 1, Downlink = 2;

    private static SessionEstablishmentRequest WithEndpoints(NodeUnderTest n, ulong cpSeid, byte downlinkEndpoint = Downlink) =>
        new(n.SmfNodeId, new FSeid(cpSeid, IPAddress.Loopback),
            [
                new CreatePdr(1, new Pdi(SourceInterface.Access) { TrafficEndpointIds = [Uplink], Qfis = [9] })
                {
                    Precedence = 200, FarId = 1,
                    OuterHeaderRemoval = new OuterHeaderRemoval(OuterHeaderRemovalDescription.GtpuUdpIpv4),
                },
                new CreatePdr(2, new Pdi(SourceInterface.Core) { TrafficEndpointIds = [downlinkEndpoint] }) { Precedence = 200, FarId = 2 },
            ],
            [
                new CreateFar(1, ApplyActionFlags.Forw) { ForwardingParameters = new ForwardingParameters(DestinationInterface.Core) },
                new CreateFar(2, ApplyActionFlags.Buff | ApplyActionFlags.Nocp),
            ])
        {
            CreateTrafficEndpoints =
            [
                new TrafficEndpoint(Uplink) { LocalFTeid = FTeid.ChooseByUp(chooseId: 1), UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true }] },
                new TrafficEndpoint(Downlink) { UeIpAddresses = [new UeIpAddress { ChooseIpv4 = true, IsDestination = true }] },
            ],
        };

    [Fact]
    public void Establishment_ChoosesTheEndpointsFTeidAndUeAddress_AndItsPdrsTakeThem()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithEndpoints(n, 0x71)).Body);

        Assert.Equal(PfcpCause.RequestAccepted, response.Cause);
        Assert.Empty(response.CreatedPdrs); // the PDRs chose nothing themselves
        var created = response.CreatedTrafficEndpoints.ToDictionary(t => t.TrafficEndpointId);
        Assert.Equal([Uplink, Downlink], created.Keys.Order());
        var fteid = created[Uplink].LocalFTeid!;
        Assert.NotEqual(0U, fteid.Teid);
        Assert.Equal(NodeUnderTest.N3, fteid.Ipv4);
        var ue = Assert.Single(created[Uplink].UeIpAddresses).Ipv4!;
        Assert.Equal(ue, Assert.Single(created[Downlink].UeIpAddresses).Ipv4); // one UE address per request
        Assert.True(Assert.Single(created[Downlink].UeIpAddresses).IsDestination);

        Assert.True(n.Table.TryGet(response.UpFSeid!.Seid, out var compiled));
        var pdrs = compiled.Session.Pdrs.ToDictionary(p => p.Id);
        Assert.Equal(fteid.Teid, pdrs[1].Pdi.LocalFTeid!.Teid);
        Assert.Equal(ue, pdrs[1].Pdi.UeIpv4);
        Assert.Equal((byte)9, pdrs[1].Pdi.Qfi);
        Assert.Null(pdrs[2].Pdi.LocalFTeid);
        Assert.Equal(ue, pdrs[2].Pdi.UeIpv4);
    }

    /// <summary>A framed route carried by a traffic endpoint reaches the PDR that names it, as in a PDI.</summary>
    [Fact]
    public void AFramedRouteInATrafficEndpoint_ReachesThePdrThatNamesIt_AndTheTrie()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var request = WithEndpoints(n, 0x70);
        var downlink = request.CreateTrafficEndpoints[1] with { Other = [PfcpIe.Raw(IeType.FramedRoute, OctetString.FromAscii("203.0.113.0/28 0.0.0.0 1"))] };
        request = request with { CreateTrafficEndpoints = [request.CreateTrafficEndpoints[0], downlink] };

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RequestAccepted, response.Cause);
        Assert.True(n.Table.TryGet(response.UpFSeid!.Seid, out var compiled));
        var pdrs = compiled.Session.Pdrs.ToDictionary(p => p.Id);
        Assert.Equal([IPNetwork.Parse("203.0.113.0/28")], pdrs[2].Pdi.Routes.ToArray());
        Assert.Empty(pdrs[1].Pdi.Routes); // the uplink endpoint has none
        var key = Assert.Single(((global::LoxiLb.Edge5G.Datapath.Tables.MemoryTable<global::LoxiLb.Edge5G.Datapath.Abi.RouteKey, global::LoxiLb.Edge5G.Datapath.Abi.MatchEntry>)n.Tables.FramedRoutes).Entries).Key;
        Assert.Equal("203.0.113.0/28", key.ToString());
    }

    /// <summary>A malformed framed route in a traffic endpoint is refused for the PDR that names it.</summary>
    [Fact]
    public void AMalformedFramedRouteInATrafficEndpoint_IsRefused_NamingThePdrThatUsesIt_AndNothingIsInstalled()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var request = WithEndpoints(n, 0x70);
        var downlink = request.CreateTrafficEndpoints[1] with { Other = [PfcpIe.Raw(IeType.FramedRoute, OctetString.FromAscii("203.0.113.9/28 0.0.0.0 1"))] };
        request = request with { CreateTrafficEndpoints = [request.CreateTrafficEndpoints[0], downlink] };

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 2), response.FailedRuleId);
        Assert.Equal((ushort)IeType.FramedRoute, response.OffendingIe);
        Assert.Equal(0, n.Table.Count);
        // What CHOOSE took for the refused request is free again: the next session gets the first UE address.
        var ok = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithEndpoints(n, 0x7f)).Body);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), ok.CreatedTrafficEndpoints[0].UeIpAddresses[0].Ipv4);
    }

    [Fact]
    public void UpdateTrafficEndpoint_MovesItsPdrs_AndRemovingAnEndpointAPdrNames_IsRefusedWithNothingChanged()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithEndpoints(n, 0x72)).Body).UpFSeid!.Seid;
        var moved = FTeid.Of(0x5000, NodeUnderTest.N3);

        var update = n.Request(new SessionModificationRequest { UpdateTrafficEndpoints = [new TrafficEndpoint(Uplink) { LocalFTeid = moved }] }, seid);

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(update.Body).Cause);
        Assert.True(n.Table.TryGet(seid, out var compiled));
        var before = compiled.Session;
        Assert.Equal(0x5000U, before.Pdrs.Single(p => p.Id == 1).Pdi.LocalFTeid!.Teid);

        var remove = n.Request(new SessionModificationRequest { RemoveTrafficEndpoints = [Downlink] }, seid);

        var refused = Assert.IsType<SessionModificationResponse>(remove.Body);
        Assert.Equal(PfcpCause.RuleCreationModificationFailure, refused.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 2), refused.FailedRuleId);
        Assert.True(n.Table.TryGet(seid, out var after));
        Assert.Same(before, after.Session);
    }

    [Fact]
    public void APdrNamingAnUnknownEndpoint_IsRefused_AndNothingIsInstalled()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithEndpoints(n, 0x73, downlinkEndpoint: 9)).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, response.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 2), response.FailedRuleId);
        Assert.Equal((ushort)IeType.TrafficEndpointId, response.OffendingIe);
        Assert.Equal(0, n.Table.Count);
        // Nothing was left half-done: the same request with the right endpoint is accepted.
        var retry = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithEndpoints(n, 0x74)).Body);
        Assert.Equal(PfcpCause.RequestAccepted, retry.Cause);
    }

    [Fact]
    public void APdiNamingTwoEndpoints_OrRemovingAnUnknownOne_IsRefusedPrecisely()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var request = WithEndpoints(n, 0x76);
        var two = request with
        {
            CreatePdrs = [request.CreatePdrs[0] with { Pdi = request.CreatePdrs[0].Pdi with { TrafficEndpointIds = [Uplink, Downlink] } }, request.CreatePdrs[1]],
        };

        var refused = Assert.IsType<SessionEstablishmentResponse>(n.Request(two).Body);

        Assert.Equal(PfcpCause.RuleCreationModificationFailure, refused.Cause);
        Assert.Equal(new FailedRuleId(RuleKind.Pdr, 1), refused.FailedRuleId);
        Assert.Equal(0, n.Table.Count);

        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(request).Body).UpFSeid!.Seid;
        var unknown = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { RemoveTrafficEndpoints = [7] }, seid).Body);
        Assert.Equal(PfcpCause.MandatoryIeIncorrect, unknown.Cause);
        Assert.Equal((ushort)IeType.RemoveTrafficEndpoint, unknown.OffendingIe);
        var twice = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { CreateTrafficEndpoints = [new TrafficEndpoint(Uplink)] }, seid).Body);
        Assert.Equal(PfcpCause.MandatoryIeIncorrect, twice.Cause);
        Assert.Equal((ushort)IeType.CreateTrafficEndpoint, twice.OffendingIe);
    }

    [Fact]
    public void Endpoints_AreSaved_AndStillNamedAfterARestart()
    {
        using var n = NodeUnderTest.AssociatedWithFastUsageChecks();
        var seid = Assert.IsType<SessionEstablishmentResponse>(n.Request(WithEndpoints(n, 0x75)).Body).UpFSeid!.Seid;

        n.Restart();
        var update = n.Request(new SessionModificationRequest { UpdateTrafficEndpoints = [new TrafficEndpoint(Uplink) { LocalFTeid = FTeid.Of(0x6000, NodeUnderTest.N3) }] }, seid);

        Assert.Equal(PfcpCause.RequestAccepted, Assert.IsType<SessionModificationResponse>(update.Body).Cause);
        Assert.True(n.Table.TryGet(seid, out var compiled));
        Assert.Equal(0x6000U, compiled.Session.Pdrs.Single(p => p.Id == 1).Pdi.LocalFTeid!.Teid);
    }

    [Fact]
    public void CreateTrafficEndpoint_WireLayout() =>
        PfcpAssert.RoundTrip(IeType.CreateTrafficEndpoint,
            new TrafficEndpoint(3) { LocalFTeid = FTeid.Of(0x11223344, IPAddress.Parse("198.51.100.1")), Qfis = [9] },
            TrafficEndpoint.Decode,
            [
                0x00, 0x7f, 0x00, 0x17,                               // Create Traffic Endpoint, 23 octets
                0x00, 0x83, 0x00, 0x01, 0x03,                         //   Traffic Endpoint ID 3
                0x00, 0x15, 0x00, 0x09, 0x01,                         //   F-TEID, V4
                0x11, 0x22, 0x33, 0x44, 198, 51, 100, 1,              //     TEID, IPv4
                0x00, 0x7c, 0x00, 0x01, 0x09,                         //   QFI 9
            ]);
}

using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// Partial failure handling over N4 (TS 23.527 4.6): sessions carry the SMF's FQ-CSID and get
/// the UPF's; a Session Set Deletion Request deletes the sessions of the named sets, only of the
/// association that asks.
/// </summary>
public class SessionSetDeletionTests
{
    private static readonly CsidNode Smf = CsidNode.Of(IPAddress.Parse("192.0.2.50"));
    private static readonly CsidNode Sgw = CsidNode.Of(IPAddress.Parse("192.0.2.60"));

    private static FqCsid Set(CsidNode node, params ushort[] csids) => new(node, ValueList.Create<ushort>(csids));

    private static SessionEstablishmentResponse Establish(NodeUnderTest n, ulong cpSeid, params FqCsid[] sets)
    {
        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(cpSeid) with { FqCsids = [.. sets] }).Body);
        Assert.Equal(PfcpCause.RequestAccepted, response.Cause);
        return response;
    }

    private static SessionSetDeletionResponse DeleteSets(NodeUnderTest n, NodeId? from = null, params FqCsid[] sets) =>
        Assert.IsType<SessionSetDeletionResponse>(n.Request(new SessionSetDeletionRequest(from ?? n.SmfNodeId) { FqCsids = [.. sets] }).Body);

    private static ulong[] Seids(NodeUnderTest n) => [.. n.Table.Sessions.Select(s => s.Seid).Order()];

    [Fact]
    public void AnEstablishmentWithTheSmfsFqCsid_GetsTheUpfsOne_AndOneWithout_DoesNot()
    {
        using var n = new NodeUnderTest();
        n.Associate();

        var with = Establish(n, 0x31, Set(Smf, 7));
        var without = Establish(n, 0x32);

        Assert.Equal(Set(CsidNode.Of(IPAddress.Loopback), 1), with.UpFqCsid); // our N4 address, our one set
        Assert.Null(without.UpFqCsid);
        // On the wire: the response carries one FQ-CSID IE, IPv4 127.0.0.1, CSID 1.
        var bytes = PfcpCodec.Encode(with, 1, 0x31);
        var ie = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(bytes)).Message.Find(IeType.FqCsid)!;
        Assert.Equal("01 7F 00 00 01 00 01", BitConverter.ToString(ie.Value.ToArray()).Replace('-', ' '));
    }

    [Fact]
    public void SessionSetDeletion_DeletesTheSessionsOfTheNamedSets_Only()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var a = Establish(n, 0x41, Set(Smf, 1)).UpFSeid!.Seid;
        var b = Establish(n, 0x42, Set(Smf, 2), Set(Sgw, 9)).UpFSeid!.Seid;
        var c = Establish(n, 0x43, Set(Smf, 3)).UpFSeid!.Seid;
        var plain = Establish(n, 0x44).UpFSeid!.Seid;

        // Set 1 of the SMF, and set 9 of the SGW-C (session b through its second FQ-CSID); set 5 matches nothing.
        var answer = DeleteSets(n, sets: [Set(Smf, 1, 5), Set(Sgw, 9)]);

        Assert.Equal(PfcpCause.RequestAccepted, answer.Cause);
        Assert.Equal(NodeId.FromAddress(IPAddress.Loopback), answer.NodeId);
        Assert.Equal([c, plain], Seids(n));
        // The deleted sessions are gone for the SMF too.
        Assert.Equal(PfcpCause.SessionContextNotFound,
            Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), a).Body).Cause);
        Assert.Equal(PfcpCause.SessionContextNotFound,
            Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), b).Body).Cause);
        // A set of another node with the same number deletes nothing.
        Assert.Equal(PfcpCause.RequestAccepted, DeleteSets(n, sets: [Set(Sgw, 3)]).Cause);
        Assert.Equal([c, plain], Seids(n));
        // What an operator reads (REST /pfcp/sessions, `edge5g get pfcp`).
        Assert.Equal([["192.0.2.50 [3]"], []], n.Node.Sessions().Select(s => s.FqCsids));
    }

    [Fact]
    public void SessionSetDeletion_NamingTheUpfsOwnSet_DeletesEverySessionThatWasGivenIt()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        Establish(n, 0x51, Set(Smf, 1));
        Establish(n, 0x52, Set(Smf, 2));
        var plain = Establish(n, 0x53).UpFSeid!.Seid;

        Assert.Equal(PfcpCause.RequestAccepted, DeleteSets(n, sets: [n.Node.LocalFqCsid]).Cause);

        Assert.Equal([plain], Seids(n));
    }

    [Fact]
    public void SessionSetDeletion_NeverTouchesAnotherAssociationsSessions()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var other = NodeId.FromFqdn("smf2.example.test");
        Assert.Equal(PfcpCause.RequestAccepted,
            Assert.IsType<AssociationSetupResponse>(n.Request(new AssociationSetupRequest(other, n.SmfRecovery)).Body).Cause);
        var mine = Establish(n, 0x61, Set(Smf, 1)).UpFSeid!.Seid;
        var theirs = Assert.IsType<SessionEstablishmentResponse>(
            n.Request(n.EstablishmentRequest(0x62) with { NodeId = other, FqCsids = [Set(Smf, 1)] }).Body);
        Assert.Equal(PfcpCause.RequestAccepted, theirs.Cause);

        Assert.Equal(PfcpCause.RequestAccepted, DeleteSets(n, other, Set(Smf, 1)).Cause);

        Assert.Equal([mine], Seids(n));
    }

    [Fact]
    public void SessionSetDeletion_FromANodeWithoutAnAssociation_IsNoEstablishedAssociation_AndDeletesNothing()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        Establish(n, 0x71, Set(Smf, 1));

        var answer = DeleteSets(n, NodeId.FromFqdn("stranger.example.test"), Set(Smf, 1));

        Assert.Equal(PfcpCause.NoEstablishedPfcpAssociation, answer.Cause);
        Assert.Single(Seids(n));
    }

    [Fact]
    public void SessionSetDeletion_WithoutAnyFqCsid_IsConditionalIeMissing_NamingFqCsid()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        Establish(n, 0x72, Set(Smf, 1));

        var answer = DeleteSets(n);

        Assert.Equal(PfcpCause.ConditionalIeMissing, answer.Cause);
        Assert.Equal((ushort)IeType.FqCsid, answer.OffendingIe);
        Assert.Single(Seids(n));
    }

    [Fact]
    public void SessionSetDeletion_WithAMalformedFqCsid_IsRejectedByTheCodec_WithItsCause_AndDeletesNothing()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        Establish(n, 0x73, Set(Smf, 1));
        var body = PfcpCodec.Encode(new SessionSetDeletionRequest(n.SmfNodeId), 0x000888, seid: null).ToList();
        // An FQ-CSID with a reserved Node-ID type (5), one CSID.
        body.AddRange([0x00, 0x41, 0x00, 0x07, 0x51, 192, 0, 2, 50, 0x00, 0x01]);
        var length = body.Count - 4;
        body[2] = (byte)(length >> 8);
        body[3] = (byte)length;

        n.SendRaw([.. body]);
        var answer = Assert.IsType<SessionSetDeletionResponse>(n.WaitResponse(0x000888).Body);

        Assert.Equal(PfcpCause.MandatoryIeIncorrect, answer.Cause);
        Assert.Equal((ushort)IeType.FqCsid, answer.OffendingIe);
        Assert.Single(Seids(n));
    }

    [Theory]
    [InlineData(2)] // a session belongs to one set of each node
    [InlineData(0)] // no set at all
    public void AnEstablishmentWhoseFqCsidDoesNotNameExactlyOneSet_IsMandatoryIeIncorrect(int csids)
    {
        using var n = new NodeUnderTest();
        n.Associate();

        var response = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x81) with
        {
            FqCsids = [new FqCsid(Smf, ValueList.Create<ushort>([.. Enumerable.Range(1, csids).Select(i => (ushort)i)]))],
        }).Body);

        Assert.Equal(PfcpCause.MandatoryIeIncorrect, response.Cause);
        Assert.Equal((ushort)IeType.FqCsid, response.OffendingIe);
        Assert.Equal(0, n.Table.Count);
    }

    [Fact]
    public void AModification_MovesTheSessionToAnotherSetOfTheSameNode()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var seid = Establish(n, 0x91, Set(Smf, 1)).UpFSeid!.Seid;

        var modified = Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { FqCsids = [Set(Smf, 4)] }, seid).Body);
        Assert.Equal(PfcpCause.RequestAccepted, modified.Cause);

        Assert.Equal(PfcpCause.RequestAccepted, DeleteSets(n, sets: [Set(Smf, 1)]).Cause);
        Assert.Equal([seid], Seids(n)); // no longer in set 1
        Assert.Equal(PfcpCause.RequestAccepted, DeleteSets(n, sets: [Set(Smf, 4)]).Cause);
        Assert.Empty(Seids(n));
    }

    [Fact]
    public void AModificationRemovingTheFqCsidOfANodeType_TakesTheSessionOutOfThatSet()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var typed = new FqCsid(Sgw, ValueList.Of<ushort>(9), NodeType: 1);
        var seid = Establish(n, 0x92, Set(Smf, 1), typed).UpFSeid!.Seid;
        var removal = new FqCsid(CsidNode.Of(IPAddress.Any), ValueList<ushort>.Empty, NodeType: 1); // Number of CSIDs 0, address zero

        Assert.Equal(PfcpCause.RequestAccepted,
            Assert.IsType<SessionModificationResponse>(n.Request(new SessionModificationRequest { FqCsids = [removal] }, seid).Body).Cause);

        DeleteSets(n, sets: [Set(Sgw, 9)]);
        Assert.Equal([seid], Seids(n));
        DeleteSets(n, sets: [Set(Smf, 1)]);
        Assert.Empty(Seids(n));
    }

    [Fact]
    public void AModificationWithAnFqCsidOfNoSetAndNoNodeType_IsRefused_AndTheSessionKeepsItsSet()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var seid = Establish(n, 0x93, Set(Smf, 1)).UpFSeid!.Seid;

        var modified = Assert.IsType<SessionModificationResponse>(
            n.Request(new SessionModificationRequest { FqCsids = [new FqCsid(Smf, ValueList<ushort>.Empty)] }, seid).Body);

        Assert.Equal(PfcpCause.MandatoryIeIncorrect, modified.Cause);
        Assert.Equal((ushort)IeType.FqCsid, modified.OffendingIe);
        DeleteSets(n, sets: [Set(Smf, 1)]);
        Assert.Empty(Seids(n));
    }

    [Fact]
    public void TheSetsOfASession_SurviveARestart()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        Establish(n, 0xA1, Set(Smf, 1));
        var other = Establish(n, 0xA2, Set(Smf, 2)).UpFSeid!.Seid;

        n.Restart();

        Assert.Equal(PfcpCause.RequestAccepted, DeleteSets(n, sets: [Set(Smf, 1)]).Cause);
        Assert.Equal([other], Seids(n));
    }
}

using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// The node's receive thread holds the map writes of a batch's establishments and commits them
/// before the batch's answers go out: an SMF sees the same answers, and never an acceptance
/// for a session the datapath refused.
/// </summary>
public class HeldEstablishmentTests
{
    private static uint[] Burst(NodeUnderTest n, int count, ulong firstCpSeid)
    {
        var sequences = new uint[count];
        for (int i = 0; i < count; i++)
        {
            sequences[i] = n.NextSequence();
            n.SendRaw(PfcpCodec.Encode(n.EstablishmentRequest(firstCpSeid + (ulong)i), sequences[i], 0));
        }
        return sequences;
    }

    private static SessionEstablishmentResponse Answer(NodeUnderTest n, uint sequence) =>
        Assert.IsType<SessionEstablishmentResponse>(n.WaitResponse(sequence).Body);

    [Fact]
    public void ABurstOfEstablishments_IsAnsweredInFull_WithEverySessionInTheMapsWhenItsAnswerArrives()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var fteids = (MemoryTable<FteidKey, MatchEntry>)n.Tables.Fteids;

        var sequences = Burst(n, 12, 0x100);

        for (int i = 0; i < sequences.Length; i++)
        {
            var answer = Answer(n, sequences[i]);
            Assert.Equal(PfcpCause.RequestAccepted, answer.Cause);
            var teid = answer.CreatedPdrs.Single(c => c.PdrId == 1).LocalFTeid!.Teid;
            // Read once the answer is here, as the gNB's first packet would come.
            Assert.True(fteids.Entries.ContainsKey(FteidKey.Create(teid, NodeUnderTest.N3)), $"request {i}: TEID 0x{teid:x8} not in the map");
            Assert.Equal(IPAddress.Parse($"192.0.2.{i + 1}"), answer.CreatedPdrs[0].UeIpAddresses[0].Ipv4);
        }
        Assert.Equal(12, n.Table.Count);
        Assert.Equal(0, n.Table.HeldWrites);
    }

    [Fact]
    public void AnEstablishmentWhoseMapWriteTheKernelRefuses_IsAnsweredSystemFailure_AndFreesWhatItTook()
    {
        var refuse = true;
        var refused = AddressBytes.Ipv4Word(IPAddress.Parse("192.0.2.2"));
        var inner = DatapathTables.InMemory();
        var tables = inner with { Ue4 = new RefusingTable<uint, MatchEntry>(inner.Ue4, (ue, _) => refuse && ue == refused) };
        using var n = new NodeUnderTest(tables: tables);
        n.Associate();

        // Two requests, the second taking 192.0.2.2. (A third in the same burst could land in the
        // next batch and take 192.0.2.2 again once it is given back: the table-level tests cover
        // refused and accepted sessions in one commit.)
        var sequences = Burst(n, 2, 0x200);

        Assert.Equal(PfcpCause.RequestAccepted, Answer(n, sequences[0]).Cause);
        var failed = Answer(n, sequences[1]);
        Assert.Equal(PfcpCause.SystemFailure, failed.Cause);
        Assert.Null(failed.UpFSeid);
        Assert.Empty(failed.CreatedPdrs);
        Assert.Equal(1, n.Table.Count);
        Assert.Equal([0x200UL], n.Node.Sessions().Select(s => s.CpSeid));
        Assert.False(((MemoryTable<uint, MatchEntry>)inner.Ue4).Entries.ContainsKey(refused));
        Assert.Single(((MemoryTable<FteidKey, MatchEntry>)inner.Fteids).Entries);

        // A retransmission of the refused request gets the same answer from the cache.
        n.SendRaw(PfcpCodec.Encode(n.EstablishmentRequest(0x201), sequences[1], 0));
        Assert.Equal(PfcpCause.SystemFailure, Answer(n, sequences[1]).Cause);
        Assert.Equal(1, n.Table.Count);

        // Its UE address went back to the pool: the next establishment gets it.
        refuse = false;
        var next = Answer(n, Burst(n, 1, 0x202)[0]);
        Assert.Equal(PfcpCause.RequestAccepted, next.Cause);
        Assert.Equal(IPAddress.Parse("192.0.2.2"), next.CreatedPdrs[0].UeIpAddresses[0].Ipv4);
    }

    /// <summary>Modifications are not held: a PDR write (with its FAR) the kernel refuses is undone by the compiler and refused with System failure.</summary>
    [Fact]
    public void AModificationWhoseMapWriteTheKernelRefuses_IsSystemFailure_AndLeavesTheSessionAsItWas()
    {
        var refusedTeid = (uint)IPAddress.HostToNetworkOrder(0xbad0);
        var inner = DatapathTables.InMemory();
        var tables = inner with { Pdrs = new RefusingTable<uint, PdrEntry>(inner.Pdrs, (_, pdr) => pdr.Forwarding.Teid == refusedTeid) };
        using var n = new NodeUnderTest(tables: tables);
        n.Associate();
        var seid = Answer(n, Burst(n, 1, 0x300)[0]).UpFSeid!.Seid;
        Assert.True(n.Table.TryGet(seid, out var before));

        var refused = Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0xbad0), seid).Body);

        Assert.Equal(PfcpCause.SystemFailure, refused.Cause);
        Assert.True(n.Table.TryGet(seid, out var current));
        Assert.Same(before, current);
        var accepted = Assert.IsType<SessionModificationResponse>(n.Request(NodeUnderTest.GnbKnown(0x900d), seid).Body);
        Assert.Equal(PfcpCause.RequestAccepted, accepted.Cause);
    }

    [Fact]
    public void ADeletionTheKernelRefuses_IsSystemFailure_AndTheSessionStaysUntilADeletionSucceeds()
    {
        var refusing = false;
        var inner = DatapathTables.InMemory();
        var tables = inner with { Ue4 = new RefusingTable<uint, MatchEntry>(inner.Ue4, (_, _) => false, _ => refusing) };
        using var n = new NodeUnderTest(tables: tables);
        n.Associate();
        var seid = Answer(n, Burst(n, 1, 0x400)[0]).UpFSeid!.Seid;

        refusing = true;
        var refused = Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), seid).Body);

        Assert.Equal(PfcpCause.SystemFailure, refused.Cause);
        Assert.Single(n.Node.Sessions());
        Assert.Equal(1, n.Table.Count);
        Assert.Single(((MemoryTable<FteidKey, MatchEntry>)inner.Fteids).Entries);
        refusing = false;
        var deleted = Assert.IsType<SessionDeletionResponse>(n.Request(new SessionDeletionRequest(), seid).Body);
        Assert.Equal(PfcpCause.RequestAccepted, deleted.Cause);
        Assert.Empty(n.Node.Sessions());
        Assert.Equal(0, n.Table.Count);
    }
}

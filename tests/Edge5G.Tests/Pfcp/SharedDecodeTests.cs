using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;
using LoxiLb.Edge5G.Tests.Pfcp.Node;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>
/// The decode and translation caches are process-wide and direct-mapped: any other decode may
/// take a slot between two of these calls. The tests that assert sharing (the same instance
/// twice) therefore run in a collection of their own, after the parallel ones and alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCachesCollection
{
    public const string Name = "Process-wide decode caches";
}

[Collection(ProcessWideCachesCollection.Name)]
public class SharedDecodeTests
{
    /// <summary>
    /// Sessions of one DNN and profile carry the same FAR, QER and URR templates: identical
    /// octets decode to one shared record; any octet that differs decodes afresh, and a broken
    /// one still fails as before (nothing is cached for it).
    /// </summary>
    [Fact]
    public void RepeatedRuleTemplates_DecodeToSharedRecords_AndOnlyIdenticalOctetsShare()
    {
        static PfcpIe Far(uint id, byte action) => PfcpIe.Group(IeType.CreateFar,
            PfcpIe.Raw(IeType.FarId, new byte[] { (byte)(id >> 24), (byte)(id >> 16), (byte)(id >> 8), (byte)id }),
            PfcpIe.Raw(IeType.ApplyAction, new byte[] { action }));
        // Decoded from received messages, as the node does: each one a fresh copy of the bytes.
        static CreateFar Received(PfcpIe ie) => CreateFar.DecodeShared(PfcpIe.Parse(ie.ToBytes()));

        var first = Received(Far(0x7e57_0001, 0x01)); // DROP
        var again = Received(Far(0x7e57_0001, 0x01));
        var otherAction = Received(Far(0x7e57_0001, 0x0C)); // BUFF, NOCP
        var otherId = Received(Far(0x7e57_0002, 0x01));

        Assert.Same(first, again);
        Assert.NotSame(first, otherAction);
        Assert.Equal((0x7e57_0001u, ApplyActionFlags.Buff | ApplyActionFlags.Nocp), (otherAction.FarId, otherAction.ApplyAction.Flags));
        Assert.Equal((0x7e57_0002u, ApplyActionFlags.Drop), (otherId.FarId, otherId.ApplyAction.Flags));
        Assert.Equal(CreateFar.Decode(Far(0x7e57_0001, 0x01)), first);

        // A FAR without its Apply Action fails the same way every time (nothing was cached for it).
        var broken = PfcpIe.Group(IeType.CreateFar, PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 9 }));
        for (var i = 0; i < 2; i++)
        {
            var e = Assert.Throws<PfcpFormatException>(() => Received(broken));
            Assert.Equal(PfcpCause.MandatoryIeMissing, e.Cause);
        }
    }

    /// <summary>
    /// Sessions keep their decoded rules for their lifetime, so repeated names and rule ids are
    /// shared instances; sharing must not change what they are equal to or how they encode.
    /// </summary>
    [Fact]
    public void RepeatedNamesAndSingleRuleIds_AreSharedInstances_WithValueEquality()
    {
        static CreatePdr Pdr(ushort id, params uint[] qers) => CreatePdr.Decode(PfcpIe.Group(IeType.CreatePdr,
            [PfcpIe.Raw(IeType.PdrId, new byte[] { 0, (byte)id }),
             PfcpIe.Group(IeType.Pdi, PfcpIe.Raw(IeType.SourceInterface, new byte[] { 0x01 }),
                PfcpIe.Raw(IeType.NetworkInstance, DnsName.FromLabels("internet").Raw)),
             PfcpIe.Raw(IeType.FarId, new byte[] { 0, 0, 0, 1 }),
             .. qers.Select(q => PfcpIe.Raw(IeType.QerId, new byte[] { 0, 0, (byte)(q >> 8), (byte)q }))]));
        var a = Pdr(1, 7);
        var b = Pdr(2, 7);
        var many = Pdr(3, 7, 8);
        var large = Pdr(4, 300);

        Assert.Same(a.Pdi.NetworkInstance, b.Pdi.NetworkInstance);
        Assert.Same(a.QerIds, b.QerIds);
        Assert.Equal([7u, 8u], many.QerIds);
        Assert.Equal([300u], large.QerIds);
        // Equality is by octets only, whether or not the text was computed and cached.
        var fresh = DnsName.FromLabels("internet");
        _ = a.Pdi.NetworkInstance!.Text;
        Assert.Equal(fresh, a.Pdi.NetworkInstance);
        Assert.Equal(fresh.GetHashCode(), a.Pdi.NetworkInstance.GetHashCode());
        // A copy with other octets does not keep the cached text of the original.
        Assert.Equal("ims", (a.Pdi.NetworkInstance with { Raw = DnsName.FromLabels("ims").Raw }).Text);

        // One-octet apply actions and gate statuses are shared; the two-octet form keeps its length.
        Assert.Same(ApplyAction.Decode([0x02]), ApplyAction.Decode([0x02]));
        var twoOctets = ApplyAction.Decode([0x02, 0x00]);
        Assert.Equal((ApplyActionFlags.Forw, 2), (twoOctets.Flags, twoOctets.Octets));
        Assert.Same(GateStatus.Decode([0x04]), GateStatus.Decode([0x04]));
        Assert.Equal(new GateStatus(GateState.Closed, GateState.Open), GateStatus.Decode([0x04]));

        // So are one-octet outer header removals and repeated reporting triggers, each form kept.
        Assert.Same(OuterHeaderRemoval.Decode([0x00]), OuterHeaderRemoval.Decode([0x00]));
        Assert.Equal((byte?)0x01, OuterHeaderRemoval.Decode([0x00, 0x01]).ExtensionHeaderDeletion);
        Assert.Same(ReportingTriggers.Decode([0x02, 0x00]), ReportingTriggers.Decode([0x02, 0x00]));
        var threeOctets = ReportingTriggers.Decode([0x02, 0x00, 0x00]);
        Assert.Equal((ReportingTriggerFlags.Volth, 3), (threeOctets.Flags, threeOctets.Octets));
        Assert.Equal(2, ReportingTriggers.Decode([0x02, 0x00]).Octets);
    }

    /// <summary>
    /// Sessions set up from one template share their FAR, QER and URR records and model objects
    /// (the held state per session is smaller); what differs per session is not shared.
    /// </summary>
    [Fact]
    public void SessionsFromOneTemplate_ShareTheirRuleRecordsAndModels_AndNotWhatDiffers()
    {
        using var n = new NodeUnderTest();
        n.Associate();
        var first = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x31)).Body).UpFSeid!.Seid;
        var second = Assert.IsType<SessionEstablishmentResponse>(n.Request(n.EstablishmentRequest(0x32)).Body).UpFSeid!.Seid;
        Assert.True(n.Table.TryGet(first, out var a));
        Assert.True(n.Table.TryGet(second, out var b));

        foreach (var far in a.Session.Fars)
            Assert.Same(far, b.Session.Fars.Single(f => f.Id == far.Id));
        Assert.Same(Assert.Single(a.Session.QerList), Assert.Single(b.Session.QerList));
        // The PDRs carry each session's own TEID and UE address.
        foreach (var pdr in a.Session.Pdrs)
        {
            var other = b.Session.Pdrs.Single(p => p.Id == pdr.Id);
            Assert.NotSame(pdr, other);
            Assert.NotEqual(pdr.Pdi.UeIpv4, other.Pdi.UeIpv4);
        }
    }
}

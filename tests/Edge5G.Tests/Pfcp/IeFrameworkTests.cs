using System.Diagnostics;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Tests.Pfcp;

public class IeFrameworkTests
{
    private static readonly byte[] RecoveryTimeStamp = [0x00, 0x60, 0x00, 0x04, 0xE9, 0x3C, 0x7F, 0x00];

    private static byte[] Heartbeat(params byte[][] ies)
    {
        var body = ies.SelectMany(ie => ie).ToArray();
        int length = 4 + body.Length;
        return [0x20, 0x01, (byte)(length >> 8), (byte)length, 0x00, 0x00, 0x01, 0x00, .. body];
    }

    [Fact]
    public void UnknownIe_IsKeptAsRawBytes_InItsPlace_AndInTheTypedRecord()
    {
        byte[] unknown = [0x7F, 0xF0, 0x00, 0x03, 0xAA, 0xBB, 0xCC]; // type 32752 (spare range), 3 octets
        var datagram = Heartbeat(unknown, RecoveryTimeStamp);

        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(datagram));
        PfcpAssert.SameOctets(datagram, decoded.Message.Encode());
        var heartbeat = Assert.IsType<HeartbeatRequest>(decoded.Body);
        var kept = Assert.Single(heartbeat.Other);
        Assert.Equal(0x7FF0, kept.Type);
        Assert.Equal(OctetString.FromHex("AABBCC"), kept.Value);
        Assert.Null(kept.Children);
    }

    [Fact]
    public void VendorSpecificIe_CarriesItsEnterpriseIdInsideTheLength()
    {
        byte[] bytes =
        [
            0x80, 0x05,             // type 32773: vendor bit + 5
            0x00, 0x06,             // length 6 = Enterprise ID (2) + value (4)
            0x48, 0xF9,             // Enterprise ID 18681 (Travelping)
            0x01, 0x02, 0x03, 0x04, // vendor value
        ];
        var ie = PfcpIe.Parse(bytes);
        Assert.True(ie.IsVendorSpecific);
        Assert.Equal((ushort)18681, ie.EnterpriseId);
        Assert.Equal(OctetString.FromHex("01020304"), ie.Value);
        Assert.Equal(PfcpIe.Vendor(0x8005, 18681, OctetString.FromHex("01020304")), ie);
        PfcpAssert.SameOctets(bytes, ie.ToBytes());
        Assert.Equal("vendor IE 5", ie.Name);
    }

    [Fact]
    public void VendorSpecificIe_TooShortForItsEnterpriseId_IsInvalidLength()
    {
        var e = PfcpAssert.Fails(PfcpCause.InvalidLength, () => PfcpIe.Parse([0x80, 0x05, 0x00, 0x01, 0x48]));
        Assert.Equal((ushort)0x8005, e.OffendingIe);
    }

    [Fact]
    public void VendorBitAndEnterpriseId_GoTogether()
    {
        Assert.Throws<ArgumentException>(() => PfcpIe.Raw(0x8001, OctetString.Empty));
        Assert.Throws<ArgumentException>(() => PfcpIe.Vendor(0x0001, 1, OctetString.Empty));
    }

    /// <summary>Create PDR { PDR ID 1, PDI { Source Interface Access, F-TEID 0x11223344 @ 10.0.0.1 } }.</summary>
    private static readonly byte[] CreatePdrBytes =
    [
        0x00, 0x01, 0x00, 0x1C,             // Create PDR, length 28
        0x00, 0x38, 0x00, 0x02, 0x00, 0x01, //   PDR ID 1
        0x00, 0x02, 0x00, 0x12,             //   PDI, length 18
        0x00, 0x14, 0x00, 0x01, 0x00,       //     Source Interface: Access
        0x00, 0x15, 0x00, 0x09,             //     F-TEID, length 9
        0x01,                               //       flags: V4
        0x11, 0x22, 0x33, 0x44,             //       TEID
        10, 0, 0, 1,                        //       IPv4 address
    ];

    [Fact]
    public void GroupedIe_IsParsedRecursively_AndKeepsItsChildOctetsAsValue()
    {
        var createPdr = PfcpIe.Parse(CreatePdrBytes);
        Assert.True(createPdr.IsGrouped);
        Assert.Equal(CreatePdrBytes.Length - 4, createPdr.Value.Length);
        var pdi = createPdr.Child(IeType.Pdi)!;
        Assert.True(pdi.IsGrouped);
        var fteid = pdi.Child(IeType.FTeid)!;
        Assert.False(fteid.IsGrouped);
        Assert.Equal(FTeid.Of(0x11223344, System.Net.IPAddress.Parse("10.0.0.1")), FTeid.Decode(fteid.Value.Span));
        PfcpAssert.SameOctets(CreatePdrBytes, createPdr.ToBytes());
    }

    [Fact]
    public void GroupedIe_BuiltFromChildren_EqualsTheParsedForm()
    {
        var built = PfcpIe.Group(IeType.CreatePdr,
            PfcpIe.Raw(IeType.PdrId, new byte[] { 0x00, 0x01 }),
            PfcpIe.Group(IeType.Pdi,
                PfcpIe.Raw(IeType.SourceInterface, new byte[] { 0x00 }),
                PfcpIe.Of(IeType.FTeid, FTeid.Of(0x11223344, System.Net.IPAddress.Parse("10.0.0.1")))));
        Assert.Equal(PfcpIe.Parse(CreatePdrBytes), built);
    }

    [Fact]
    public void GroupedIe_WithAChildRunningPastItsEnd_IsInvalidLength_NamingTheChild()
    {
        var bad = (byte[])CreatePdrBytes.Clone();
        bad[22] = 0x0A; // F-TEID claims 10 octets, its PDI leaves room for 9
        var e = PfcpAssert.Fails(PfcpCause.InvalidLength, () => PfcpIe.Parse(bad));
        Assert.Equal((ushort)IeType.FTeid, e.OffendingIe);
        Assert.Equal("CreatePdr[0]/Pdi[0]/FTeid", e.Path);
    }

    [Fact]
    public void IeLengthPastTheEndOfTheMessage_IsRejectedWithInvalidLength_NamingTheIe()
    {
        var datagram = Heartbeat(RecoveryTimeStamp);
        datagram[11] = 0x05; // Recovery Time Stamp claims 5 octets, 4 follow
        var rejected = Assert.IsType<PfcpRejected>(PfcpCodec.Decode(datagram));
        Assert.Equal(PfcpCause.InvalidLength, rejected.Cause);
        Assert.Equal((ushort)IeType.RecoveryTimeStamp, rejected.OffendingIe);
        Assert.Null(rejected.Message);
    }

    [Fact]
    public void TrailingOctetsTooShortForAnIeHeader_AreInvalidLength()
    {
        var rejected = Assert.IsType<PfcpRejected>(PfcpCodec.Decode(Heartbeat(RecoveryTimeStamp, [0x00, 0x13, 0x00])));
        Assert.Equal(PfcpCause.InvalidLength, rejected.Cause);
        Assert.Equal((ushort)IeType.Cause, rejected.OffendingIe);
    }

    [Fact]
    public void GroupedIesNestedDeeperThanTheLimit_AreRejected_WithoutRecursingFurther()
    {
        // PDI inside PDI inside PDI ... 20 deep: legal framing, absurd nesting.
        byte[] ie = [0x00, 0x14, 0x00, 0x01, 0x00];
        for (int i = 0; i < 20; i++)
            ie = [0x00, 0x02, (byte)(ie.Length >> 8), (byte)ie.Length, .. ie];
        var rejected = Assert.IsType<PfcpRejected>(PfcpCodec.Decode(Heartbeat(RecoveryTimeStamp, ie)));
        Assert.Equal(PfcpCause.RequestRejected, rejected.Cause);
        Assert.Contains("nested deeper", rejected.Detail);
    }

    [Fact]
    public void NestingUpToTheLimit_IsAccepted()
    {
        byte[] ie = [0x00, 0x14, 0x00, 0x01, 0x00];
        for (int i = 0; i < PfcpLimits.MaxNestingDepth - 1; i++)
            ie = [0x00, 0x02, (byte)(ie.Length >> 8), (byte)ie.Length, .. ie];
        Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(Heartbeat(RecoveryTimeStamp, ie)));
    }

    [Fact]
    public void HugeSequenceOfIes_IsRejectedAtTheLimit_Quickly()
    {
        var empties = Enumerable.Repeat(new byte[] { 0x7F, 0xFF, 0x00, 0x00 }, 16_000).ToArray();
        var clock = Stopwatch.StartNew();
        var rejected = Assert.IsType<PfcpRejected>(PfcpCodec.Decode(Heartbeat([RecoveryTimeStamp, .. empties])));
        Assert.Equal(PfcpCause.RequestRejected, rejected.Cause);
        Assert.Contains($"more than {PfcpLimits.MaxIesPerMessage} IEs", rejected.Detail);
        Assert.True(clock.ElapsedMilliseconds < 5000, $"took {clock.ElapsedMilliseconds} ms"); // linear, not quadratic: generous for a loaded CI box
    }

    [Fact]
    public void ManyUnknownIesBelowTheLimit_AreCarriedThrough()
    {
        var empties = Enumerable.Repeat(new byte[] { 0x7F, 0xFF, 0x00, 0x00 }, PfcpLimits.MaxIesPerMessage - 1).ToArray();
        var datagram = Heartbeat([RecoveryTimeStamp, .. empties]);
        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(datagram));
        Assert.Equal(PfcpLimits.MaxIesPerMessage - 1, Assert.IsType<HeartbeatRequest>(decoded.Body).Other.Count);
        PfcpAssert.SameOctets(datagram, decoded.Message.Encode());
    }

    /// <summary>
    /// A received message's IEs are slices of one copy of it (not one array per IE per level);
    /// their values, equality and re-encoding are what copies gave.
    /// </summary>
    [Fact]
    public void DecodedIes_AreSlicesOfOneCopyOfTheMessage_WithTheSameValuesAndEncoding()
    {
        var pdi = PfcpIe.Group(IeType.Pdi,
            PfcpIe.Raw(IeType.SourceInterface, new byte[] { 0x01 }),
            PfcpIe.Raw(IeType.NetworkInstance, DnsName.FromLabels("internet").Raw));
        var datagram = Heartbeat([RecoveryTimeStamp, pdi.ToBytes(), [0x7F, 0xFF, 0x00, 0x02, 0xAB, 0xCD]]);
        var decoded = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(datagram));
        var ies = decoded.Message.Ies;
        var group = ies[1];
        var child = group.Children![1];

        static byte[] Owner(OctetString o) =>
            System.Runtime.InteropServices.MemoryMarshal.TryGetArray(o.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException("not an array");
        Assert.Same(Owner(ies[0].Value), Owner(group.Value));
        Assert.Same(Owner(group.Value), Owner(child.Value));
        Assert.Same(Owner(group.Value), Owner(ies[2].Value));
        Assert.NotSame(datagram, Owner(group.Value)); // a copy: the receive buffer is reused
        Assert.Equal(DnsName.FromLabels("internet").Raw, child.Value);
        Assert.Equal(DnsName.FromLabels("internet").Raw.GetHashCode(), child.Value.GetHashCode());
        Assert.Equal(new byte[] { 0xAB, 0xCD }, ies[2].Value.ToArray());
        Assert.Equal(pdi, group);
        PfcpAssert.SameOctets(datagram, decoded.Message.Encode());

        // What outlives the message gets octets of its own: a decoded name, an opaque value.
        var name = IeDecoders.DnsName(child);
        Assert.Equal(child.Value, name.Raw);
        var unknown = IeDecoders.Octets(ies[2]);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, unknown.ToArray());
        Assert.NotSame(Owner(group.Value), Owner(unknown));
        Assert.Equal(2, Owner(unknown).Length);
    }


    [Fact]
    public void RecentDecodes_ComparesTheOctetsInFull_AndASlotTakenByOtherOctetsDecodesAgain()
    {
        var cache = new RecentDecodes<string>(1); // one slot: every key collides
        var decoded = 0;
        string Get(byte[] octets) => cache.Get(octets, octets, o => { decoded++; return Convert.ToHexString(o); });

        Assert.Equal("0102", Get([1, 2]));
        Assert.Same(Get([1, 2]), Get([1, 2]));
        Assert.Equal(1, decoded);
        Assert.Equal("0103", Get([1, 3])); // same slot, other octets: decoded, not the cached value
        Assert.Equal("0102", Get([1, 2]));
        Assert.Equal(3, decoded);
    }

    [Fact]
    public void OctetStringSlices_CompareByContent_AndRefuseRangesOutsideTheArray()
    {
        var array = new byte[] { 1, 2, 3, 4, 5 };
        var slice = OctetString.Slice(array, 1, 3);
        Assert.Equal(new byte[] { 2, 3, 4 }, slice.ToArray());
        Assert.Equal(3, slice.Length);
        Assert.Equal(new OctetString([2, 3, 4]), slice);
        Assert.Equal(new OctetString([2, 3, 4]).GetHashCode(), slice.GetHashCode());
        Assert.Equal(OctetString.Empty, OctetString.Slice(array, 5, 0));
        Assert.True(OctetString.Slice(array, 2, 0).IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => OctetString.Slice(array, 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => OctetString.Slice(array, -1, 2));
    }

    /// <summary>Which IEs the typed decoder took is kept in bits for 64 and in an array past that.</summary>
    [Fact]
    public void IeSet_LeavesTheIesNobodyTook_InOrder_PastSixtyFourIes()
    {
        var ies = Enumerable.Range(0, 70).Select(i => i % 10 == 3
            ? PfcpIe.Raw(IeType.Precedence, new byte[] { 0, 0, 0, (byte)i })
            : PfcpIe.Raw(0x7FFF, new byte[] { (byte)i })).ToArray();
        var set = new IeSet(ValueList.Create<PfcpIe>(ies));
        var precedences = set.Many(IeType.Precedence, ie => ie.Value[3]);
        Assert.Equal([3, 13, 23, 33, 43, 53, 63], precedences.Select(b => (int)b));
        var rest = set.Rest();
        Assert.Equal(63, rest.Count);
        Assert.Equal(Enumerable.Range(0, 70).Where(i => i % 10 != 3).Select(i => (byte)i), rest.Select(ie => ie.Value[0]));
    }

    [Fact]
    public void ValueList_ForeachUsesAStructEnumerator_AndAllocatesNothing()
    {
        ValueList<int> list = [1, 2, 3];
        var sum = 0;
        foreach (var i in list) // warm: the first call may allocate in the runtime
            sum += i;
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var i in list)
            sum += i;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(12, sum);
        Assert.Equal([1, 2, 3], list.Select(i => i)); // LINQ still sees IEnumerable<T>
    }

    [Fact]
    public void RepeatedOptionalIe_TheFirstCounts_AndTheRepeatStaysInOther()
    {
        var pdi = PfcpIe.Group(IeType.Pdi,
            PfcpIe.Raw(IeType.SourceInterface, new byte[] { 0x01 }),
            PfcpIe.Raw(IeType.NetworkInstance, DnsName.FromLabels("internet").Raw),
            PfcpIe.Raw(IeType.NetworkInstance, DnsName.FromLabels("ims").Raw));
        var decoded = Pdi.Decode(pdi);
        Assert.Equal("internet", decoded.NetworkInstance!.Text);
        Assert.Equal(DnsName.FromLabels("ims").Raw, Assert.Single(decoded.Other).Value);
    }


    [Fact]
    public void IeValueLongerThan65535Octets_CannotBeWritten()
    {
        var writer = new PfcpWriter();
        int mark = writer.BeginIe(IeType.ApplicationId);
        writer.Bytes(new byte[70_000]);
        Assert.Throws<InvalidOperationException>(() => writer.EndIe(mark));
    }

    [Theory]
    [InlineData((ushort)21, "FTeid")]
    [InlineData((ushort)30000, "IE 30000")]
    [InlineData((ushort)0x8002, "vendor IE 2")]
    public void IeTypes_HaveReadableNames(ushort type, string name) => Assert.Equal(name, IeTypes.Name(type));
}

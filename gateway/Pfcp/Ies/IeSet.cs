using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Turns one received IE into a typed value, or throws <see cref="PfcpFormatException"/>.</summary>
public delegate T IeDecoder<out T>(PfcpIe ie);

/// <summary>
/// The IEs of one message or grouped IE, read by type for typed decoding. It enforces presence
/// (missing mandatory IE → cause 66), single instances (a repeated mandatory IE → cause 69; a
/// repeated optional IE: the first counts and the rest stay in <see cref="Rest"/>), and names
/// the failing IE with its path when a value does not decode. IEs nobody asked for are kept,
/// in order, by <see cref="Rest"/> so typed records lose nothing.
/// </summary>
public sealed class IeSet
{
    private readonly ValueList<PfcpIe> _ies;
    // Which IEs the typed decoder consumed: bits for the first 64 (every group and nearly
    // every message), an array only past that.
    private ulong _takenBits;
    private readonly bool[]? _takenPast64;

    public IeSet(ValueList<PfcpIe> ies)
    {
        _ies = ies;
        if (ies.Count > 64)
            _takenPast64 = new bool[ies.Count - 64];
    }

    private bool Taken(int i) => i < 64 ? (_takenBits & (1UL << i)) != 0 : _takenPast64![i - 64];

    private void Take(int i)
    {
        if (i < 64)
            _takenBits |= 1UL << i;
        else
            _takenPast64![i - 64] = true;
    }

    /// <summary>The children of a grouped IE.</summary>
    public static IeSet Of(PfcpIe grouped) =>
        new(grouped.Children ?? throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, "expected a grouped IE", grouped.Type));

    public bool Has(IeType type) => IndexOf(type, 0) >= 0;

    public T Mandatory<T>(IeType type, IeDecoder<T> decode)
    {
        int first = IndexOf(type, 0);
        if (first < 0)
            throw new PfcpFormatException(PfcpCause.MandatoryIeMissing, "mandatory IE is missing", (ushort)type, IeTypes.Name(type));
        if (IndexOf(type, first + 1) >= 0)
            throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect,
                $"mandatory IE appears {Count(type)} times where one is allowed", (ushort)type, IeTypes.Name(type));
        return DecodeAt(first, decode, type);
    }

    public T? Optional<T>(IeType type, IeDecoder<T> decode) where T : class
    {
        int first = IndexOf(type, 0);
        return first < 0 ? null : DecodeAt(first, decode, type);
    }

    public T? OptionalValue<T>(IeType type, IeDecoder<T> decode) where T : struct
    {
        int first = IndexOf(type, 0);
        return first < 0 ? null : DecodeAt(first, decode, type);
    }

    /// <summary>Every instance of a repeatable IE, in order.</summary>
    public ValueList<T> Many<T>(IeType type, IeDecoder<T> decode)
    {
        var first = IndexOf(type, 0);
        if (first < 0)
            return ValueList<T>.Empty;
        var one = DecodeAt(first, decode, type, 0);
        var next = IndexOf(type, first + 1);
        if (next < 0)
            return ValueList.Of(one); // the usual case: no list or array to build it from
        var items = new List<T> { one };
        for (int i = next, n = 1; i >= 0; i = IndexOf(type, i + 1))
            items.Add(DecodeAt(i, decode, type, n++));
        return ValueList.From(items);
    }

    /// <summary>
    /// Repeated rule ids (QER ID, URR ID of a PDR). Most PDRs name one small id, so a list of
    /// one id below <see cref="SharedIds"/> is a shared instance instead of two objects per PDR
    /// that every session keeps for its lifetime (lists are immutable, so sharing is safe).
    /// </summary>
    public ValueList<uint> Ids(IeType type)
    {
        var ids = Many(type, IeDecoders.U32);
        return ids.Count == 1 && ids[0] < SharedIds ? OneId[ids[0]] : ids;
    }

    /// <summary>Repeated one-octet values (QFIs, traffic endpoint ids): a single value is a shared list, as for <see cref="Ids"/>.</summary>
    public ValueList<byte> Octets(IeType type, IeDecoder<byte> decode)
    {
        var values = Many(type, decode);
        return values.Count == 1 ? OneOctet[values[0]] : values;
    }

    private static readonly ValueList<byte>[] OneOctet = [.. Enumerable.Range(0, 256).Select(i => ValueList.Create<byte>([(byte)i]))];

    private const int SharedIds = 256;
    private static readonly ValueList<uint>[] OneId = [.. Enumerable.Range(0, SharedIds).Select(i => ValueList.Create<uint>([(uint)i]))];

    /// <summary>A repeatable IE of which at least one instance is mandatory.</summary>
    public ValueList<T> AtLeastOne<T>(IeType type, IeDecoder<T> decode)
    {
        if (!Has(type))
            throw new PfcpFormatException(PfcpCause.MandatoryIeMissing, "mandatory IE is missing", (ushort)type, IeTypes.Name(type));
        return Many(type, decode);
    }

    /// <summary>
    /// IEs not consumed by the typed decoder (unknown, unmodelled or repeated), in wire order,
    /// with octets of their own: typed records keep them past the message.
    /// </summary>
    public ValueList<PfcpIe> Rest()
    {
        List<PfcpIe>? rest = null;
        for (int i = 0; i < _ies.Count; i++)
            if (!Taken(i))
                (rest ??= []).Add(_ies[i].Compact());
        return rest is null ? ValueList<PfcpIe>.Empty : ValueList.From(rest);
    }

    /// <summary>Decodes one IE; <paramref name="instance"/> is its index among repeated IEs, -1 for a single one.</summary>
    private T DecodeAt<T>(int index, IeDecoder<T> decode, IeType type, int instance = -1)
    {
        Take(index);
        var ie = _ies[index];
        try
        {
            return decode(ie);
        }
        catch (PfcpFormatException e)
        {
            // The path segment is only built on failure: most IEs decode fine.
            var name = IeTypes.Name(type);
            throw e.In(ie.Type, instance < 0 ? name : $"{name}[{instance}]");
        }
    }

    private int IndexOf(IeType type, int from)
    {
        for (int i = from; i < _ies.Count; i++)
            if (_ies[i].Type == (ushort)type)
                return i;
        return -1;
    }

    private int Count(IeType type)
    {
        int n = 0;
        foreach (var ie in _ies)
            if (ie.Type == (ushort)type)
                n++;
        return n;
    }
}

/// <summary>Decoders for the IEs whose value is a plain number, enum, time or string.</summary>
public static class IeDecoders
{
    public static readonly IeDecoder<byte> U8 = ie => new PfcpReader(ie.Value.Span).U8(ie.Name);
    public static readonly IeDecoder<ushort> U16 = ie => new PfcpReader(ie.Value.Span).U16(ie.Name);
    public static readonly IeDecoder<uint> U32 = ie => new PfcpReader(ie.Value.Span).U32(ie.Name);
    public static readonly IeDecoder<DateTime> Ntp = ie => NtpTime.ToDateTime(U32(ie));
    public static readonly IeDecoder<OctetString> Octets = ie => ie.Value.Compact(); // typed records outlive the message
    public static readonly IeDecoder<PfcpIe> Raw = ie => ie;
    public static readonly IeDecoder<byte> Qfi = ie => (byte)(U8(ie) & 0x3F);
    public static readonly IeDecoder<PfcpCause> Cause = ie => (PfcpCause)U8(ie);
    public static readonly IeDecoder<SourceInterface> SourceInterface = ie => (SourceInterface)(U8(ie) & 0x0F);
    public static readonly IeDecoder<DestinationInterface> DestinationInterface = ie => (DestinationInterface)(U8(ie) & 0x0F);
    public static readonly IeDecoder<ThreeGppInterfaceType> InterfaceType = ie => (ThreeGppInterfaceType)(U8(ie) & 0x3F);
    public static readonly IeDecoder<PdnType> PdnType = ie => (PdnType)(U8(ie) & 0x07);
    public static readonly IeDecoder<DnsName> DnsName = ie => ie.Value.IsEmpty
        ? throw new PfcpFormatException(PfcpCause.InvalidLength, "name is empty")
        : Ies.DnsName.Intern(ie.Value);

    public static readonly IeDecoder<NodeId> NodeId = ie => Ies.NodeId.Decode(ie.Value.Span);
    public static readonly IeDecoder<FSeid> FSeid = ie => Ies.FSeid.Decode(ie.Value.Span);
    public static readonly IeDecoder<FqCsid> FqCsid = ie => Ies.FqCsid.Decode(ie.Value.Span);
    public static readonly IeDecoder<FTeid> FTeid = ie => Ies.FTeid.Decode(ie.Value.Span);
    public static readonly IeDecoder<UeIpAddress> UeIpAddress = ie => Ies.UeIpAddress.Decode(ie.Value.Span);
    public static readonly IeDecoder<SdfFilter> SdfFilter = ie => Ies.SdfFilter.Decode(ie.Value.Span);
    public static readonly IeDecoder<ApplyAction> ApplyAction = ie => Ies.ApplyAction.Decode(ie.Value.Span);
    public static readonly IeDecoder<OuterHeaderCreation> OuterHeaderCreation = ie => Ies.OuterHeaderCreation.Decode(ie.Value.Span);
    public static readonly IeDecoder<OuterHeaderRemoval> OuterHeaderRemoval = ie => Ies.OuterHeaderRemoval.Decode(ie.Value.Span);
    public static readonly IeDecoder<GateStatus> GateStatus = ie => Ies.GateStatus.Decode(ie.Value.Span);
    public static readonly IeDecoder<BitRate> BitRate = ie => Ies.BitRate.Decode(ie.Value.Span);
    public static readonly IeDecoder<Volume> Volume = ie => Ies.Volume.Decode(ie.Value.Span);
    public static readonly IeDecoder<VolumeMeasurement> VolumeMeasurement = ie => Ies.VolumeMeasurement.Decode(ie.Value.Span);
    public static readonly IeDecoder<ReportingTriggers> ReportingTriggers = ie => Ies.ReportingTriggers.Decode(ie.Value.Span);
    public static readonly IeDecoder<UsageReportTrigger> UsageReportTrigger = ie => Ies.UsageReportTrigger.Decode(ie.Value.Span);
    public static readonly IeDecoder<UpFunctionFeatures> UpFunctionFeatures = ie => Ies.UpFunctionFeatures.Decode(ie.Value.Span);
    public static readonly IeDecoder<CpFunctionFeatures> CpFunctionFeatures = ie => Ies.CpFunctionFeatures.Decode(ie.Value.Span);
    public static readonly IeDecoder<TimerValue> Timer = ie => TimerValue.Decode(ie.Value.Span);
    public static readonly IeDecoder<UserPlaneIpResourceInformation> UserPlaneIpResourceInformation = ie => Ies.UserPlaneIpResourceInformation.Decode(ie.Value.Span);
    public static readonly IeDecoder<DownlinkDataServiceInformation> DownlinkDataServiceInformation = ie => Ies.DownlinkDataServiceInformation.Decode(ie.Value.Span);
    public static readonly IeDecoder<FailedRuleId> FailedRuleId = ie => Ies.FailedRuleId.Decode(ie.Value.Span);
    public static readonly IeDecoder<Snssai> Snssai = ie => Ies.Snssai.Decode(ie.Value.Span);
    public static readonly IeDecoder<SourceIpAddress> SourceIpAddress = ie => Ies.SourceIpAddress.Decode(ie.Value.Span);
    public static readonly IeDecoder<MeasurementMethod> MeasurementMethod = ie => (MeasurementMethod)U8(ie);
    public static readonly IeDecoder<ReportType> ReportType = ie => (ReportType)U8(ie);
    public static readonly IeDecoder<PfcpSmReqFlags> SmReqFlags = ie => (PfcpSmReqFlags)U8(ie);
    public static readonly IeDecoder<PfcpSrRspFlags> SrRspFlags = ie => (PfcpSrRspFlags)U8(ie);
    public static readonly IeDecoder<AssociationReleaseRequestFlags> AssociationReleaseRequest = ie => (AssociationReleaseRequestFlags)U8(ie);
    public static readonly IeDecoder<NodeReportType> NodeReportType = ie => (NodeReportType)U8(ie);
    public static readonly IeDecoder<OciFlags> OciFlags = ie => (OciFlags)U8(ie);
}

/// <summary>Shorthands for writing optional and repeated IEs.</summary>
public static class IeWriting
{
    public static void Opt(this PfcpWriter w, IeType type, IIeValue? value)
    {
        if (value is not null)
            w.Ie(type, value);
    }

    public static void OptU8(this PfcpWriter w, IeType type, byte? value)
    {
        if (value is { } v)
            w.IeU8(type, v);
    }

    public static void OptU16(this PfcpWriter w, IeType type, ushort? value)
    {
        if (value is { } v)
            w.IeU16(type, v);
    }

    public static void OptU32(this PfcpWriter w, IeType type, uint? value)
    {
        if (value is { } v)
            w.IeU32(type, v);
    }

    public static void IeNtp(this PfcpWriter w, IeType type, DateTime time) => w.IeU32(type, NtpTime.FromDateTime(time));

    public static void OptNtp(this PfcpWriter w, IeType type, DateTime? time)
    {
        if (time is { } t)
            w.IeNtp(type, t);
    }

    public static void OptName(this PfcpWriter w, IeType type, DnsName? name)
    {
        if (name is not null)
            w.Ie(type, name.Raw.Span);
    }

    public static void Each<T>(this PfcpWriter w, IeType type, ValueList<T> items) where T : IIeValue
    {
        foreach (var item in items)
            w.Ie(type, item);
    }

    public static void EachU32(this PfcpWriter w, IeType type, ValueList<uint> items)
    {
        foreach (var item in items)
            w.IeU32(type, item);
    }

    public static void EachOctets(this PfcpWriter w, IeType type, ValueList<OctetString> items)
    {
        foreach (var item in items)
            w.Ie(type, item.Span);
    }

    /// <summary>Writes IEs kept verbatim (unmodelled children), in their original order.</summary>
    public static void Verbatim(this PfcpWriter w, ValueList<PfcpIe> ies)
    {
        foreach (var ie in ies)
            ie.WriteTo(w);
    }
}

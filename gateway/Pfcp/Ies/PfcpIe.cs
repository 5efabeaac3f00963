using System.Buffers.Binary;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// One IE as it is on the wire: type, optional Enterprise ID, and value octets. Grouped IEs also
/// carry their parsed children; <see cref="Value"/> is always the exact received (or encoded)
/// octets, so writing an IE back reproduces its bytes exactly, including unknown IEs.
/// </summary>
public sealed record PfcpIe
{
    private PfcpIe(ushort type, ushort? enterpriseId, OctetString value, ValueList<PfcpIe>? children)
    {
        Type = type;
        EnterpriseId = enterpriseId;
        Value = value;
        Children = children;
    }

    /// <summary>The 16-bit type, with <see cref="IeTypes.VendorBit"/> set for vendor-specific IEs.</summary>
    public ushort Type { get; }

    /// <summary>Present exactly when the IE is vendor-specific.</summary>
    public ushort? EnterpriseId { get; }

    /// <summary>Octets after the type, length (and Enterprise ID); for grouped IEs, the encoded children.</summary>
    public OctetString Value { get; }

    /// <summary>Parsed child IEs, in wire order, for grouped IE types; null otherwise.</summary>
    public ValueList<PfcpIe>? Children { get; }

    public bool IsVendorSpecific => EnterpriseId.HasValue;
    public bool IsGrouped => Children is not null;
    public string Name => IeTypes.Name(Type);

    /// <summary>Octets this IE takes on the wire.</summary>
    public int EncodedLength => 4 + (EnterpriseId.HasValue ? 2 : 0) + Value.Length;

    /// <summary>A non-grouped IE with the given value octets.</summary>
    public static PfcpIe Raw(ushort type, OctetString value)
    {
        if (IeTypes.IsVendorSpecific(type))
            throw new ArgumentException($"type {type} is vendor-specific: use {nameof(Vendor)}", nameof(type));
        CheckLength(value.Length);
        return new PfcpIe(type, null, value, null);
    }

    public static PfcpIe Raw(IeType type, OctetString value) => Raw((ushort)type, value);

    public static PfcpIe Vendor(ushort type, ushort enterpriseId, OctetString value)
    {
        if (!IeTypes.IsVendorSpecific(type))
            throw new ArgumentException($"type {type} lacks the vendor bit 0x8000", nameof(type));
        CheckLength(value.Length + 2);
        return new PfcpIe(type, enterpriseId, value, null);
    }

    /// <summary>A grouped IE built from children (encoded at once, so it equals the decoded form).</summary>
    public static PfcpIe Group(IeType type, IEnumerable<PfcpIe> children)
    {
        var list = ValueList.From(children);
        var writer = new PfcpWriter();
        foreach (var child in list)
            child.WriteTo(writer);
        CheckLength(writer.Length);
        return new PfcpIe((ushort)type, null, OctetString.Own(writer.ToArray()), list);
    }

    public static PfcpIe Group(IeType type, params PfcpIe[] children) => Group(type, (IEnumerable<PfcpIe>)children);

    /// <summary>An IE holding a typed value; grouped types get their children parsed back.</summary>
    public static PfcpIe Of(IeType type, IIeValue value)
    {
        var writer = new PfcpWriter();
        value.WriteValue(writer);
        return FromValue((ushort)type, null, writer.ToArray());
    }

    /// <summary>Decodes exactly one IE occupying all of <paramref name="bytes"/>.</summary>
    public static PfcpIe Parse(ReadOnlySpan<byte> bytes)
    {
        int budget = PfcpLimits.MaxIesPerMessage;
        var list = IeListCodec.Parse(bytes.ToArray(), depth: 1, ref budget);
        if (list.Count != 1)
            throw new PfcpFormatException(PfcpCause.InvalidLength, $"expected one IE, found {list.Count}");
        return list[0];
    }

    internal static PfcpIe FromValue(ushort type, ushort? enterpriseId, byte[] value)
    {
        CheckLength(value.Length + (enterpriseId.HasValue ? 2 : 0));
        ValueList<PfcpIe>? children = null;
        if (enterpriseId is null && IeTypes.IsGrouped(type))
        {
            int budget = PfcpLimits.MaxIesPerMessage;
            children = IeListCodec.Parse(value, depth: 2, ref budget);
        }
        return new PfcpIe(type, enterpriseId, OctetString.Own(value), children);
    }

    internal static PfcpIe Decoded(ushort type, ushort? enterpriseId, OctetString value, ValueList<PfcpIe>? children) =>
        new(type, enterpriseId, value, children);

    /// <summary>
    /// This IE with octets of its own (children re-parsed from them) when it is a slice of a
    /// received message: for IEs a record keeps past the message, so they do not keep it alive.
    /// </summary>
    public PfcpIe Compact() => Value.IsCompact ? this : FromValue(Type, EnterpriseId, Value.ToArray());

    public void WriteTo(PfcpWriter writer)
    {
        int mark = writer.BeginIe(Type, EnterpriseId);
        writer.Bytes(Value.Span);
        writer.EndIe(mark);
    }

    public byte[] ToBytes()
    {
        var writer = new PfcpWriter(EncodedLength);
        WriteTo(writer);
        return writer.ToArray();
    }

    /// <summary>First child of the given type, if this is a grouped IE holding one.</summary>
    public PfcpIe? Child(IeType type) => Children?.FirstOrDefault(c => c.Type == (ushort)type);

    private static void CheckLength(int length)
    {
        if (length > ushort.MaxValue)
            throw new ArgumentException($"IE value of {length} octets exceeds the 16-bit length field");
    }

    public override string ToString() =>
        Children is { } children
            ? $"{Name}{{{string.Join(", ", children)}}}"
            : EnterpriseId is { } id ? $"{Name}@{id}:{Value}" : $"{Name}:{Value}";
}

/// <summary>Parses a run of TLV IEs, recursing into grouped ones, within the limits of <see cref="PfcpLimits"/>.</summary>
internal static class IeListCodec
{
    /// <summary>All of <paramref name="owner"/>: the IEs' values are slices of it, so it must not change afterwards.</summary>
    public static ValueList<PfcpIe> Parse(byte[] owner, int depth, ref int budget) => Parse(owner, 0, owner.Length, depth, ref budget);

    /// <summary>
    /// The IEs in <c>owner[start..start+octets]</c>. Every value (a grouped IE's too) is a slice
    /// of <paramref name="owner"/>, not a copy: one array per message, not one per IE per level.
    /// </summary>
    public static ValueList<PfcpIe> Parse(byte[] owner, int start, int octets, int depth, ref int budget)
    {
        var data = new ReadOnlySpan<byte>(owner, start, octets);
        if (data.IsEmpty)
            return ValueList<PfcpIe>.Empty;
        // Sized by a first walk over the framing, so the list neither grows nor is copied at
        // the end; where the framing breaks the loop below throws before the array fills.
        var ies = new PfcpIe[CountFramed(data)];
        int count = 0;
        int offset = 0;
        while (offset < data.Length)
        {
            var rest = data[offset..];
            if (rest.Length < 4)
            {
                ushort? partialType = rest.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(rest) : null;
                throw new PfcpFormatException(PfcpCause.InvalidLength,
                    $"{rest.Length} trailing octet(s) cannot hold an IE header", partialType);
            }
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(rest);
            int length = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
            string name = IeTypes.Name(type);
            if (length > rest.Length - 4)
                throw new PfcpFormatException(PfcpCause.InvalidLength,
                    $"IE length {length} runs past the end ({rest.Length - 4} octets left)", type, name);
            if (--budget < 0)
                throw new PfcpFormatException(PfcpCause.RequestRejected,
                    $"more than {PfcpLimits.MaxIesPerMessage} IEs in one message", type, name);

            var body = rest.Slice(4, length);
            PfcpIe ie;
            if (IeTypes.IsVendorSpecific(type))
            {
                if (length < 2)
                    throw new PfcpFormatException(PfcpCause.InvalidLength,
                        $"vendor-specific IE of length {length} cannot hold its Enterprise ID", type, name);
                ie = PfcpIe.Decoded(type, BinaryPrimitives.ReadUInt16BigEndian(body), OctetString.Slice(owner, start + offset + 6, length - 2), null);
            }
            else if (IeTypes.IsGrouped(type))
            {
                if (depth >= PfcpLimits.MaxNestingDepth)
                    throw new PfcpFormatException(PfcpCause.RequestRejected,
                        $"grouped IEs nested deeper than {PfcpLimits.MaxNestingDepth}", type, name);
                ValueList<PfcpIe> children;
                try
                {
                    children = Parse(owner, start + offset + 4, length, depth + 1, ref budget);
                }
                catch (PfcpFormatException e)
                {
                    throw e.In(type, $"{name}[{CountOf(ies.AsSpan(0, count), type)}]");
                }
                ie = PfcpIe.Decoded(type, null, OctetString.Slice(owner, start + offset + 4, length), children);
            }
            else
            {
                ie = PfcpIe.Decoded(type, null, OctetString.Slice(owner, start + offset + 4, length), null);
            }
            ies[count++] = ie;
            offset += 4 + length;
        }
        return new ValueList<PfcpIe>(ies);
    }

    /// <summary>IEs whose header and value fit in <paramref name="data"/>, counted up to the first that does not.</summary>
    private static int CountFramed(ReadOnlySpan<byte> data)
    {
        int n = 0, offset = 0;
        while (data.Length - offset >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 2)..]);
            if (length > data.Length - offset - 4)
                break;
            n++;
            offset += 4 + length;
        }
        return n;
    }

    /// <summary>
    /// Finds the value of the first top-level IE of a type without parsing anything else, as far
    /// as the framing holds: used to salvage a field (the peer's F-SEID) from a message whose
    /// later IEs are broken.
    /// </summary>
    public static bool TryFindTopLevel(ReadOnlySpan<byte> data, ushort wanted, out ReadOnlySpan<byte> value)
    {
        value = default;
        int offset = 0;
        while (data.Length - offset >= 4)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 2)..]);
            if (length > data.Length - offset - 4)
                return false;
            if (type == wanted)
            {
                value = data.Slice(offset + 4, length);
                return true;
            }
            offset += 4 + length;
        }
        return false;
    }

    private static int CountOf(ReadOnlySpan<PfcpIe> ies, ushort type)
    {
        int n = 0;
        foreach (var ie in ies)
            if (ie.Type == type)
                n++;
        return n;
    }
}

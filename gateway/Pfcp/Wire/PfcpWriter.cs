using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Pfcp.Ies;

namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Growable big-endian buffer for building PFCP messages. IE lengths are patched when an IE
/// ends, so grouped IEs are written in one pass without intermediate arrays.
/// </summary>
public sealed class PfcpWriter
{
    private byte[] _buffer;
    private int _length;

    public PfcpWriter(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public byte[] ToArray() => WrittenSpan.ToArray();

    private Span<byte> Take(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void U8(byte value) => Take(1)[0] = value;
    public void U16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Take(2), value);

    public void U24(uint value)
    {
        if (value > 0xFF_FFFF)
            throw new ArgumentOutOfRangeException(nameof(value), value, "does not fit in 24 bits");
        var span = Take(3);
        span[0] = (byte)(value >> 16);
        span[1] = (byte)(value >> 8);
        span[2] = (byte)value;
    }

    public void U32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Take(4), value);

    public void U40(ulong value)
    {
        if (value > 0xFF_FFFF_FFFF)
            throw new ArgumentOutOfRangeException(nameof(value), value, "does not fit in 40 bits");
        var span = Take(5);
        span[0] = (byte)(value >> 32);
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
    }

    public void U64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Take(8), value);

    public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));

    public void Ipv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        if (!address.TryWriteBytes(Take(4), out _))
            throw new InvalidOperationException("IPv4 address did not fit in 4 octets");
    }

    public void Ipv6(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException($"{address} is not an IPv6 address", nameof(address));
        if (!address.TryWriteBytes(Take(16), out _))
            throw new InvalidOperationException("IPv6 address did not fit in 16 octets");
    }

    /// <summary>Writes an IE header with a placeholder length; returns the mark for <see cref="EndIe"/>.</summary>
    public int BeginIe(ushort type, ushort? enterpriseId = null)
    {
        bool vendor = (type & IeTypes.VendorBit) != 0;
        if (vendor != enterpriseId.HasValue)
            throw new ArgumentException(vendor
                ? $"vendor-specific IE type {type} needs an enterprise ID"
                : $"3GPP IE type {type} must not carry an enterprise ID");
        U16(type);
        int mark = _length;
        U16(0);
        if (enterpriseId is { } id)
            U16(id);
        return mark;
    }

    public int BeginIe(IeType type) => BeginIe((ushort)type);

    /// <summary>Patches the length of the IE begun at <paramref name="mark"/> (enterprise ID included, as on the wire).</summary>
    public void EndIe(int mark)
    {
        int length = _length - mark - 2;
        if (length > ushort.MaxValue)
            throw new InvalidOperationException($"IE value of {length} octets exceeds the 16-bit length field");
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(mark), (ushort)length);
    }

    /// <summary>Overwrites two octets at an absolute offset (used for the message length).</summary>
    internal void PatchU16(int offset, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(offset), value);

    public void Ie(IeType type, ReadOnlySpan<byte> value)
    {
        int mark = BeginIe(type);
        Bytes(value);
        EndIe(mark);
    }

    public void IeU8(IeType type, byte value) { int m = BeginIe(type); U8(value); EndIe(m); }
    public void IeU16(IeType type, ushort value) { int m = BeginIe(type); U16(value); EndIe(m); }
    public void IeU32(IeType type, uint value) { int m = BeginIe(type); U32(value); EndIe(m); }

    public void Ie(IeType type, IIeValue value)
    {
        int mark = BeginIe(type);
        value.WriteValue(this);
        EndIe(mark);
    }
}

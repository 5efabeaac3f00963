using System.Buffers.Binary;
using System.Net;
using LoxiLb.Edge5G.Pfcp.Ies;

namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Big-endian cursor over an IE value. Running out of octets throws a
/// <see cref="PfcpFormatException"/> with cause Invalid Length; the IE decoder adds the IE type.
/// </summary>
public ref struct PfcpReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public PfcpReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _data.Length - _position;
    public readonly bool AtEnd => _position >= _data.Length;

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count < 0 || Remaining < count)
            throw new PfcpFormatException(PfcpCause.InvalidLength,
                $"{field} needs {count} octet(s) at offset {_position}, only {Remaining} left");
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    public byte U8(string field) => Take(1, field)[0];
    public ushort U16(string field) => BinaryPrimitives.ReadUInt16BigEndian(Take(2, field));

    public uint U24(string field)
    {
        var s = Take(3, field);
        return (uint)(s[0] << 16 | s[1] << 8 | s[2]);
    }

    public uint U32(string field) => BinaryPrimitives.ReadUInt32BigEndian(Take(4, field));

    public ulong U40(string field)
    {
        var s = Take(5, field);
        return (ulong)s[0] << 32 | BinaryPrimitives.ReadUInt32BigEndian(s[1..]);
    }

    public ulong U64(string field) => BinaryPrimitives.ReadUInt64BigEndian(Take(8, field));
    public ReadOnlySpan<byte> Bytes(int count, string field) => Take(count, field);
    public ReadOnlySpan<byte> Rest() => Take(Remaining, "rest");
    public IPAddress Ipv4(string field) => new(Take(4, field));
    public IPAddress Ipv6(string field) => new(Take(16, field));
}

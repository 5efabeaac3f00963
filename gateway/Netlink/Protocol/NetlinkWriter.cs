using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Netlink.Protocol;

/// <summary>
/// Builds one netlink request in a caller-provided span: header, fixed family struct, then
/// attributes, each padded to 4 bytes. The sequence number is filled in by the socket.
/// </summary>
internal ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private readonly string _operation;
    private int _length;

    public NetlinkWriter(Span<byte> buffer, ushort type, ushort flags, string operation)
    {
        _buffer = buffer;
        _operation = operation;
        _length = 0;
        var header = new NlMsgHdr { Type = type, Flags = flags };
        Append(MemoryMarshal.AsBytes(new ReadOnlySpan<NlMsgHdr>(in header)));
    }

    public void Header<T>(in T value) where T : unmanaged =>
        Append(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    public void Attribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        var attribute = new RtAttr { Type = type, Length = checked((ushort)(Rtnl.AttributeHeaderLength + value.Length)) };
        Append(MemoryMarshal.AsBytes(new ReadOnlySpan<RtAttr>(in attribute)));
        Append(value);
    }

    public void AttributeU32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        Attribute(type, bytes);
    }

    public void Attribute(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
            throw new NetlinkFormatException(_operation, $"cannot encode address {address}");
        Attribute(type, bytes[..written]);
    }

    /// <summary>The finished message, with nlmsg_len set.</summary>
    public readonly Span<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        return _buffer[.._length];
    }

    private void Append(scoped ReadOnlySpan<byte> bytes)
    {
        var padded = Rtnl.Align(bytes.Length);
        if (_length + padded > _buffer.Length)
            throw new NetlinkFormatException(_operation,
                $"request needs more than the {_buffer.Length} bytes of its buffer");
        bytes.CopyTo(_buffer[_length..]);
        _buffer.Slice(_length + bytes.Length, padded - bytes.Length).Clear();
        _length += padded;
    }
}

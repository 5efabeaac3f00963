using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace LoxiLb.Edge5G.Netlink.Protocol;

/// <summary>
/// Walks the netlink messages of one received datagram. Every length field is checked
/// against the bytes actually present before it is trusted; a lie throws
/// <see cref="NetlinkFormatException"/> naming the operation and the byte offset.
/// </summary>
internal ref struct NetlinkMessageReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _operation;
    private int _offset;

    public NetlinkMessageReader(ReadOnlySpan<byte> buffer, string operation)
    {
        _buffer = buffer;
        _operation = operation;
        _offset = 0;
        Current = default;
    }

    public NetlinkMessage Current { get; private set; }

    public readonly NetlinkMessageReader GetEnumerator() => this;

    public bool MoveNext()
    {
        var left = _buffer.Length - _offset;
        if (left == 0)
            return false;
        if (left < Rtnl.HeaderLength)
            throw new NetlinkFormatException(_operation,
                $"truncated netlink header at byte {_offset}: {left} bytes left, a header needs {Rtnl.HeaderLength}");
        var header = MemoryMarshal.Read<NlMsgHdr>(_buffer[_offset..]);
        if (header.Length < Rtnl.HeaderLength)
            throw new NetlinkFormatException(_operation,
                $"netlink message at byte {_offset} declares length {header.Length}, shorter than its own {Rtnl.HeaderLength}-byte header");
        if (header.Length > left)
            throw new NetlinkFormatException(_operation,
                $"netlink message at byte {_offset} declares length {header.Length} but only {left} bytes remain");
        var length = (int)header.Length;
        Current = new NetlinkMessage(header, _buffer.Slice(_offset + Rtnl.HeaderLength, length - Rtnl.HeaderLength), _offset, _operation);
        // The last message of a datagram may omit its alignment padding.
        _offset = Math.Min(_buffer.Length, _offset + Rtnl.Align(length));
        return true;
    }
}

/// <summary>One netlink message: its header fields and the payload after the header.</summary>
internal readonly ref struct NetlinkMessage
{
    private readonly NlMsgHdr _header;

    public NetlinkMessage(NlMsgHdr header, ReadOnlySpan<byte> payload, int offset, string operation)
    {
        _header = header;
        Payload = payload;
        Offset = offset;
        Operation = operation;
    }

    public ushort Type => _header.Type;
    public ushort Flags => _header.Flags;
    public uint Sequence => _header.Sequence;
    public uint PortId => _header.PortId;
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Byte offset of the message in its datagram (for error messages).</summary>
    public int Offset { get; }

    public string Operation { get; }

    /// <summary>The fixed family header (rtmsg, ndmsg, ifinfomsg...) that opens the payload.</summary>
    public T Header<T>() where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        if (Payload.Length < size)
            throw new NetlinkFormatException(Operation,
                $"message type {Type} at byte {Offset} has a {Payload.Length}-byte payload, too short for its {size}-byte {typeof(T).Name}");
        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes following the fixed header <typeparamref name="T"/>.</summary>
    public NetlinkAttributeReader Attributes<T>() where T : unmanaged
    {
        Header<T>(); // length check
        var start = Math.Min(Payload.Length, Rtnl.Align(Unsafe.SizeOf<T>()));
        return new NetlinkAttributeReader(Payload[start..], $"message type {Type} at byte {Offset}", Operation);
    }
}

/// <summary>Walks rtattr/nlattr attributes with the same bounds checks as the message reader.</summary>
internal ref struct NetlinkAttributeReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _owner;
    private readonly string _operation;
    private int _offset;

    public NetlinkAttributeReader(ReadOnlySpan<byte> buffer, string owner, string operation)
    {
        _buffer = buffer;
        _owner = owner;
        _operation = operation;
        _offset = 0;
        Current = default;
    }

    public NetlinkAttribute Current { get; private set; }

    public readonly NetlinkAttributeReader GetEnumerator() => this;

    public bool MoveNext()
    {
        var left = _buffer.Length - _offset;
        if (left == 0)
            return false;
        if (left < Rtnl.AttributeHeaderLength)
            throw new NetlinkFormatException(_operation,
                $"truncated attribute header at byte {_offset} of the attributes of {_owner}: {left} bytes left, a header needs {Rtnl.AttributeHeaderLength}");
        var header = MemoryMarshal.Read<RtAttr>(_buffer[_offset..]);
        var type = (ushort)(header.Type & Rtnl.NLA_TYPE_MASK);
        if (header.Length < Rtnl.AttributeHeaderLength)
            throw new NetlinkFormatException(_operation,
                $"attribute type {type} at byte {_offset} of the attributes of {_owner} declares length {header.Length}, shorter than its header");
        if (header.Length > left)
            throw new NetlinkFormatException(_operation,
                $"attribute type {type} at byte {_offset} of the attributes of {_owner} declares length {header.Length} but only {left} bytes remain");
        Current = new NetlinkAttribute(type, _buffer.Slice(_offset + Rtnl.AttributeHeaderLength, header.Length - Rtnl.AttributeHeaderLength), _owner, _operation);
        _offset = Math.Min(_buffer.Length, _offset + Rtnl.Align(header.Length));
        return true;
    }
}

/// <summary>One attribute; the accessors check the value has the size its type demands.</summary>
internal readonly ref struct NetlinkAttribute
{
    private readonly string _owner;
    private readonly string _operation;

    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> value, string owner, string operation)
    {
        Type = type;
        Value = value;
        _owner = owner;
        _operation = operation;
    }

    public ushort Type { get; }
    public ReadOnlySpan<byte> Value { get; }

    public uint U32()
    {
        Expect(4, "a u32");
        return BinaryPrimitives.ReadUInt32LittleEndian(Value);
    }

    /// <summary>A u16 in host order (as IFLA_VLAN_ID is).</summary>
    public ushort U16()
    {
        Expect(2, "a u16");
        return BinaryPrimitives.ReadUInt16LittleEndian(Value);
    }

    public byte U8()
    {
        Expect(1, "a u8");
        return Value[0];
    }

    /// <summary>An IPv4 or IPv6 address of the given family (network byte order on the wire).</summary>
    public IPAddress Address(int family)
    {
        var size = family == Interop.NetlinkNative.AF_INET6 ? 16 : 4;
        Expect(size, $"an address of family {family}");
        return new IPAddress(Value[..size]);
    }

    /// <summary>A NUL-terminated string (the terminator is optional on input).</summary>
    public string String()
    {
        var end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Value : Value[..end]);
    }

    public NetlinkAttributeReader Nested() =>
        new(Value, $"attribute {Type} of {_owner}", _operation);

    private void Expect(int size, string what)
    {
        if (Value.Length < size)
            throw new NetlinkFormatException(_operation,
                $"attribute type {Type} of {_owner} has {Value.Length} bytes, {what} needs {size}");
    }
}

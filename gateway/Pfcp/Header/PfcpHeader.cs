using System.Buffers.Binary;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp;

/// <summary>
/// The PFCP message header (TS 29.244 clause 7.2.2). Octet 1 holds Version (bits 8-6), FO (bit 3),
/// MP (bit 2) and S (bit 1); then message type and a length counting everything after octet 4.
/// With S=1 an 8-octet SEID follows; then a 24-bit sequence number and one octet whose upper
/// nibble is the message priority when MP=1.
/// </summary>
public sealed record PfcpHeader
{
    public const byte SupportedVersion = 1;
    public const int NodeHeaderLength = 8;
    public const int SessionHeaderLength = 16;
    public const uint MaxSequenceNumber = 0xFF_FFFF;

    public PfcpHeader(PfcpMessageType messageType, uint sequenceNumber, ulong? seid = null, byte? messagePriority = null, bool followOn = false)
    {
        if (sequenceNumber > MaxSequenceNumber)
            throw new ArgumentOutOfRangeException(nameof(sequenceNumber), sequenceNumber, "sequence numbers are 24 bits");
        if (messagePriority > 15)
            throw new ArgumentOutOfRangeException(nameof(messagePriority), messagePriority, "message priority is 4 bits");
        if (messagePriority is not null && seid is null)
            throw new ArgumentException("message priority is only carried in session message headers (S=1)", nameof(messagePriority));
        MessageType = messageType;
        SequenceNumber = sequenceNumber;
        Seid = seid;
        MessagePriority = messagePriority;
        FollowOn = followOn;
    }

    public PfcpMessageType MessageType { get; init; }
    public uint SequenceNumber { get; init; }

    /// <summary>The SEID when the S flag is set; null for node messages.</summary>
    public ulong? Seid { get; init; }

    /// <summary>Priority 0 (highest) .. 15 when the MP flag is set.</summary>
    public byte? MessagePriority { get; init; }

    /// <summary>FO flag: another PFCP message follows in the same datagram.</summary>
    public bool FollowOn { get; init; }

    /// <summary>
    /// Spare bits as received: bits 5-4 of octet 1 (mask 0x18) and the spare part of the last
    /// header octet (all of it without MP, its low nibble with MP). Senders set them to 0 and
    /// receivers ignore them; they are kept only so a decoded message re-encodes exactly.
    /// </summary>
    public byte SpareFlagBits { get; init; }
    public byte SpareOctetBits { get; init; }

    public int Length => Seid.HasValue ? SessionHeaderLength : NodeHeaderLength;

    /// <summary>
    /// Reads the header at the start of <paramref name="datagram"/>; see <see cref="PfcpHeaderStatus"/>
    /// for what is checked. <paramref name="header"/> is set whenever its octets were all present,
    /// even if a later check failed, so a caller can log what it drops.
    /// </summary>
    /// <param name="messageLength">Octets of this message (header included) per its length field, when readable.</param>
    public static PfcpHeaderStatus TryDecode(ReadOnlySpan<byte> datagram, out PfcpHeader? header, out int messageLength)
    {
        header = null;
        messageLength = 0;
        if (datagram.Length < NodeHeaderLength)
            return PfcpHeaderStatus.Truncated;

        byte flags = datagram[0];
        int version = flags >> 5;
        if (version != SupportedVersion)
            return PfcpHeaderStatus.UnsupportedVersion;

        bool followOn = (flags & 0x04) != 0;
        bool hasPriority = (flags & 0x02) != 0;
        bool hasSeid = (flags & 0x01) != 0;
        var type = (PfcpMessageType)datagram[1];
        messageLength = 4 + BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);

        int headerLength = hasSeid ? SessionHeaderLength : NodeHeaderLength;
        if (datagram.Length < headerLength)
            return PfcpHeaderStatus.Truncated;
        // MP is defined only with S=1 (the priority octet exists only in the session header).
        if (hasPriority && !hasSeid)
            return PfcpHeaderStatus.Malformed;

        var rest = datagram[(hasSeid ? 12 : 4)..];
        header = new PfcpHeader(
            type,
            (uint)(rest[0] << 16 | rest[1] << 8 | rest[2]),
            hasSeid ? BinaryPrimitives.ReadUInt64BigEndian(datagram[4..]) : null,
            hasPriority ? (byte)(rest[3] >> 4) : null,
            followOn)
        {
            SpareFlagBits = (byte)(flags & 0x18),
            SpareOctetBits = (byte)(rest[3] & (hasPriority ? 0x0F : 0xFF)),
        };

        if (messageLength < headerLength)
            return PfcpHeaderStatus.Malformed;
        if (messageLength > datagram.Length)
            return PfcpHeaderStatus.LengthExceedsDatagram;
        if (messageLength < datagram.Length && !followOn)
            return PfcpHeaderStatus.LengthShorterThanDatagram;
        if (type.IsKnown() && type.IsSessionMessage() != hasSeid)
            return PfcpHeaderStatus.SeidFlagMismatch;
        return PfcpHeaderStatus.Ok;
    }

    /// <summary>
    /// Best-effort sequence number of a datagram whose header was refused (for a Version Not
    /// Supported Response): read where a version 1 header keeps it.
    /// </summary>
    public static uint? PeekSequenceNumber(ReadOnlySpan<byte> datagram)
    {
        int at = datagram.Length > 0 && (datagram[0] & 0x01) != 0 ? 12 : 4;
        return datagram.Length >= at + 3 ? (uint)(datagram[at] << 16 | datagram[at + 1] << 8 | datagram[at + 2]) : null;
    }

    /// <summary>Writes this header with a zero length; <see cref="PatchLength"/> fixes it once the IEs are written.</summary>
    public void WriteTo(PfcpWriter writer)
    {
        byte flags = (byte)(SupportedVersion << 5 | (SpareFlagBits & 0x18));
        if (FollowOn) flags |= 0x04;
        if (MessagePriority.HasValue) flags |= 0x02;
        if (Seid.HasValue) flags |= 0x01;
        writer.U8(flags);
        writer.U8((byte)MessageType);
        writer.U16(0);
        if (Seid is { } seid)
            writer.U64(seid);
        writer.U24(SequenceNumber);
        writer.U8(MessagePriority is { } priority ? (byte)(priority << 4 | (SpareOctetBits & 0x0F)) : SpareOctetBits);
    }

    /// <summary>Sets the length field of a message that starts at <paramref name="start"/> and ends at the writer's end.</summary>
    public static void PatchLength(PfcpWriter writer, int start)
    {
        int length = writer.Length - start - 4;
        if (length > ushort.MaxValue)
            throw new InvalidOperationException($"PFCP message of {length + 4} octets exceeds the 16-bit length field");
        writer.PatchU16(start + 2, (ushort)length);
    }
}

/// <summary>Result of reading a PFCP header.</summary>
public enum PfcpHeaderStatus
{
    Ok,
    /// <summary>Fewer octets than the header needs: drop.</summary>
    Truncated,
    /// <summary>Version other than 1: answer Version Not Supported Response.</summary>
    UnsupportedVersion,
    /// <summary>Length field smaller than the header itself, or MP set without S: drop.</summary>
    Malformed,
    /// <summary>Length field claims more octets than the datagram holds: drop.</summary>
    LengthExceedsDatagram,
    /// <summary>Octets left after the message while FO=0: drop.</summary>
    LengthShorterThanDatagram,
    /// <summary>S flag set on a node message, or clear on a session message: drop.</summary>
    SeidFlagMismatch,
}

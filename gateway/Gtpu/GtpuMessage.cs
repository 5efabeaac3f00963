using System.Buffers.Binary;
using System.Net;

namespace LoxiLb.Edge5G.Gtpu;

/// <summary>GTP-U message types of TS 29.281 the gateway handles.</summary>
public enum GtpuMessageType : byte
{
    EchoRequest = 1,
    EchoResponse = 2,
    ErrorIndication = 26,
    SupportedExtensionHeadersNotification = 31,
    EndMarker = 254,
    GPdu = 255,
}

/// <summary>PDU Session Container (TS 38.415): DL or UL PDU SESSION INFORMATION with a QFI.</summary>
public sealed record PduSessionContainer(byte PduType, byte Qfi)
{
    public const byte Downlink = 0;
    public const byte Uplink = 1;
}

/// <summary>An extension header as raw content (without its length and next-type octets).</summary>
public sealed record GtpuExtension(byte Type, byte[] Content);

/// <summary>
/// A GTP-U message (TS 29.281 5.1): flags, type, TEID, optional sequence number and N-PDU
/// number, extension headers (a PDU Session Container or raw ones), payload.
/// </summary>
public sealed record GtpuMessage(
    GtpuMessageType Type,
    uint Teid,
    byte[] Payload,
    ushort? Sequence = null,
    byte? NPduNumber = null,
    PduSessionContainer? Container = null,
    IReadOnlyList<GtpuExtension>? Extensions = null)
{
    public const int Port = 2152;
    public const byte ExtPduSessionContainer = 0x85;

    /// <summary>A G-PDU carrying an IP packet.</summary>
    public static GtpuMessage GPdu(uint teid, byte[] packet, byte? qfi = null, byte pduType = PduSessionContainer.Uplink) =>
        new(GtpuMessageType.GPdu, teid, packet, Container: qfi is { } q ? new PduSessionContainer(pduType, q) : null);

    /// <summary>Echo Request with a sequence number.</summary>
    public static GtpuMessage EchoRequest(ushort sequence) => new(GtpuMessageType.EchoRequest, 0, [], Sequence: sequence);

    /// <summary>Error Indication for our TEID, naming the sender's address (TS 29.281 7.3.1).</summary>
    public static GtpuMessage ErrorIndication(uint teid, IPAddress peer, ushort sequence = 0)
    {
        var address = peer.GetAddressBytes();
        var ies = new byte[5 + 3 + address.Length];
        ies[0] = 16; // TEID Data I
        BinaryPrimitives.WriteUInt32BigEndian(ies.AsSpan(1), teid);
        ies[5] = 133; // GTP-U Peer Address
        BinaryPrimitives.WriteUInt16BigEndian(ies.AsSpan(6), (ushort)address.Length);
        address.CopyTo(ies, 8);
        return new GtpuMessage(GtpuMessageType.ErrorIndication, 0, ies, Sequence: sequence);
    }

    public byte[] Encode()
    {
        var exts = new List<(byte Type, byte[] Content)>();
        if (Container is { } c)
            exts.Add((ExtPduSessionContainer, [(byte)(c.PduType << 4), (byte)(c.Qfi & 0x3f)]));
        foreach (var e in Extensions ?? [])
            exts.Add((e.Type, e.Content));
        var optional = Sequence is not null || NPduNumber is not null || exts.Count > 0;
        var extLength = exts.Sum(e => Padded(e.Content.Length));
        var length = (optional ? 4 : 0) + extLength + Payload.Length;
        var buffer = new byte[8 + length];
        buffer[0] = (byte)(0x30 | (exts.Count > 0 ? 0x04 : 0) | (Sequence is not null ? 0x02 : 0) | (NPduNumber is not null ? 0x01 : 0));
        buffer[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)length);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), Teid);
        var offset = 8;
        if (optional)
        {
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(8), Sequence ?? 0);
            buffer[10] = NPduNumber ?? 0;
            buffer[11] = exts.Count > 0 ? exts[0].Type : (byte)0;
            offset = 12;
        }
        for (int i = 0; i < exts.Count; i++)
        {
            var size = Padded(exts[i].Content.Length);
            buffer[offset] = (byte)(size / 4);
            exts[i].Content.CopyTo(buffer, offset + 1);
            buffer[offset + size - 1] = i + 1 < exts.Count ? exts[i + 1].Type : (byte)0;
            offset += size;
        }
        Payload.CopyTo(buffer, offset);
        return buffer;
    }

    // Extension length counts 4-octet units including the length and next-type octets.
    private static int Padded(int content) => (content + 2 + 3) / 4 * 4;

    /// <summary>Decodes a GTP-U message; throws FormatException with the reason when malformed.</summary>
    public static GtpuMessage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8)
            throw new FormatException($"GTP-U header needs 8 bytes, got {data.Length}");
        var flags = data[0];
        if ((flags & 0xe0) != 0x20 || (flags & 0x10) == 0)
            throw new FormatException($"not GTPv1-U (flags 0x{flags:x2})");
        var length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        if (8 + length > data.Length)
            throw new FormatException($"GTP-U length {length} exceeds the {data.Length - 8} bytes present");
        var body = data.Slice(8, length);
        ushort? sequence = null;
        byte? npdu = null;
        PduSessionContainer? container = null;
        var extensions = new List<GtpuExtension>();
        var offset = 0;
        if ((flags & 0x07) != 0)
        {
            if (body.Length < 4)
                throw new FormatException("GTP-U optional fields truncated");
            if ((flags & 0x02) != 0) sequence = BinaryPrimitives.ReadUInt16BigEndian(body);
            if ((flags & 0x01) != 0) npdu = body[2];
            var next = (flags & 0x04) != 0 ? body[3] : (byte)0;
            offset = 4;
            while (next != 0)
            {
                if (offset >= body.Length || body[offset] == 0)
                    throw new FormatException("GTP-U extension header truncated or of length 0");
                var size = body[offset] * 4;
                if (offset + size > body.Length)
                    throw new FormatException("GTP-U extension header runs past the message");
                var content = body.Slice(offset + 1, size - 2).ToArray();
                if (next == ExtPduSessionContainer)
                    container = new PduSessionContainer((byte)(content[0] >> 4), (byte)(content[1] & 0x3f));
                else
                    extensions.Add(new GtpuExtension(next, content));
                next = body[offset + size - 1];
                offset += size;
            }
        }
        return new GtpuMessage((GtpuMessageType)data[1], BinaryPrimitives.ReadUInt32BigEndian(data[4..]), body[offset..].ToArray(),
            sequence, npdu, container, extensions.Count > 0 ? extensions : null);
    }
}

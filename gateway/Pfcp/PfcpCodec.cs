using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp;

/// <summary>
/// Entry points for the PFCP node: datagram in, <see cref="PfcpDecodeOutcome"/> out (never an
/// exception); typed body plus header in, octets out.
/// </summary>
public static class PfcpCodec
{
    /// <summary>Decodes the first (normally the only) message of a datagram, down to its typed body.</summary>
    public static PfcpDecodeOutcome Decode(ReadOnlySpan<byte> datagram) => DecodeOne(datagram, typed: true, out _);

    /// <summary>Decodes header and IEs only; the body is an <see cref="UnmodeledMessage"/>.</summary>
    public static PfcpDecodeOutcome DecodeGeneric(ReadOnlySpan<byte> datagram) => DecodeOne(datagram, typed: false, out _);

    /// <summary>
    /// Decodes every message of a datagram that bundles several with the FO flag (clause 6.6,
    /// "PFCP message bundling"). Stops at the first message that is not <see cref="PfcpDecoded"/>
    /// or <see cref="PfcpRejected"/>.
    /// </summary>
    public static IReadOnlyList<PfcpDecodeOutcome> DecodeDatagram(ReadOnlySpan<byte> datagram)
    {
        var outcomes = new List<PfcpDecodeOutcome>();
        while (true)
        {
            var outcome = DecodeOne(datagram, typed: true, out int consumed);
            outcomes.Add(outcome);
            var header = outcome switch { PfcpDecoded d => d.Header, PfcpRejected r => r.Header, _ => null };
            if (header is null || !header.FollowOn || consumed >= datagram.Length)
                return outcomes;
            datagram = datagram[consumed..];
        }
    }

    /// <summary>Encodes a typed body behind the given header.</summary>
    public static byte[] Encode(PfcpHeader header, IPfcpMessageBody body)
    {
        if (header.MessageType != body.MessageType)
            throw new ArgumentException($"header says {header.MessageType} but the body is {body.MessageType}", nameof(body));
        if (header.MessageType.IsKnown() && header.MessageType.IsSessionMessage() != header.Seid.HasValue)
            throw new ArgumentException(header.Seid.HasValue
                ? $"{header.MessageType} is a node message and must not carry an SEID"
                : $"{header.MessageType} is a session message and needs an SEID", nameof(header));
        var writer = new PfcpWriter();
        header.WriteTo(writer);
        body.WriteIes(writer);
        PfcpHeader.PatchLength(writer, 0);
        return writer.ToArray();
    }

    /// <summary>Encodes a typed body; <paramref name="seid"/> is required for session messages and forbidden otherwise.</summary>
    public static byte[] Encode(IPfcpMessageBody body, uint sequenceNumber, ulong? seid = null, byte? messagePriority = null) =>
        Encode(new PfcpHeader(body.MessageType, sequenceNumber, seid, messagePriority), body);

    private static PfcpDecodeOutcome DecodeOne(ReadOnlySpan<byte> datagram, bool typed, out int consumed)
    {
        consumed = datagram.Length;
        PfcpHeader? header = null;
        try
        {
            var status = PfcpHeader.TryDecode(datagram, out header, out int messageLength);
            if (status != PfcpHeaderStatus.Ok)
                return Refused(status, datagram, messageLength, header);
            consumed = messageLength;
            if (!header!.MessageType.IsKnown())
                return new PfcpDropped(PfcpDropReason.UnknownMessageType, $"message type {(byte)header.MessageType} is not defined") { Header = header };

            var ieOctets = datagram[header.Length..messageLength];
            ValueList<PfcpIe> ies;
            try
            {
                int budget = PfcpLimits.MaxIesPerMessage;
                // One copy of the message's IEs; every IE value is a slice of it.
                ies = IeListCodec.Parse(ieOctets.ToArray(), depth: 1, ref budget);
            }
            catch (PfcpFormatException e)
            {
                return Rejected(header, e, null, ieOctets);
            }

            var message = new PfcpMessage(header, ies);
            if (!typed)
                return new PfcpDecoded(message, new UnmodeledMessage(header.MessageType, ies));
            try
            {
                return new PfcpDecoded(message, PfcpMessageBodies.Decode(header.MessageType, ies));
            }
            catch (PfcpFormatException e)
            {
                return Rejected(header, e, message, ieOctets);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any other exception is a decoder bug; a hostile datagram must not take the node down.
            return new PfcpDropped(PfcpDropReason.DecoderFault, $"{e.GetType().Name}: {e.Message}") { Header = header };
        }
    }

    private static PfcpDecodeOutcome Refused(PfcpHeaderStatus status, ReadOnlySpan<byte> datagram, int messageLength, PfcpHeader? header)
    {
        var outcome = Describe(status, datagram, messageLength);
        return outcome is PfcpDropped dropped ? dropped with { Header = header } : outcome;
    }

    private static PfcpDecodeOutcome Describe(PfcpHeaderStatus status, ReadOnlySpan<byte> datagram, int messageLength) => status switch
    {
        PfcpHeaderStatus.UnsupportedVersion => new PfcpVersionNotSupported(datagram[0] >> 5, PfcpHeader.PeekSequenceNumber(datagram)),
        PfcpHeaderStatus.Truncated => new PfcpDropped(PfcpDropReason.Truncated, $"{datagram.Length} octet(s) cannot hold a PFCP header"),
        PfcpHeaderStatus.Malformed => new PfcpDropped(PfcpDropReason.MalformedHeader, "length field below the header size, or MP set without S"),
        PfcpHeaderStatus.LengthExceedsDatagram => new PfcpDropped(PfcpDropReason.LengthExceedsDatagram,
            $"length field says {messageLength} octets, datagram has {datagram.Length}"),
        PfcpHeaderStatus.LengthShorterThanDatagram => new PfcpDropped(PfcpDropReason.LengthShorterThanDatagram,
            $"length field says {messageLength} octets, datagram has {datagram.Length} and FO is clear"),
        PfcpHeaderStatus.SeidFlagMismatch => new PfcpDropped(PfcpDropReason.SeidFlagMismatch,
            $"S flag does not match message type {datagram[1]}"),
        _ => new PfcpDropped(PfcpDropReason.DecoderFault, $"unexpected header status {status}"),
    };

    private static PfcpRejected Rejected(PfcpHeader header, PfcpFormatException e, PfcpMessage? message, ReadOnlySpan<byte> ieOctets) =>
        new(header, e.Cause, e.OffendingIe, e.Path, e.Detail)
        {
            Message = message,
            PeerFSeid = header.MessageType == PfcpMessageType.SessionEstablishmentRequest ? TryPeerFSeid(ieOctets) : null,
        };

    private static FSeid? TryPeerFSeid(ReadOnlySpan<byte> ieOctets)
    {
        if (!IeListCodec.TryFindTopLevel(ieOctets, (ushort)IeType.FSeid, out var value))
            return null;
        try
        {
            return FSeid.Decode(value);
        }
        catch (PfcpFormatException)
        {
            return null;
        }
    }
}

using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;

namespace LoxiLb.Edge5G.Pfcp;

/// <summary>
/// What a received datagram turned out to be. Exactly one of: <see cref="PfcpDecoded"/> (use
/// it), <see cref="PfcpRejected"/> (answer a request with the cause and offending IE),
/// <see cref="PfcpVersionNotSupported"/> (answer with a Version Not Supported Response) or
/// <see cref="PfcpDropped"/> (count it and send nothing).
/// </summary>
public abstract record PfcpDecodeOutcome;

/// <summary>A well-formed message: generic form (byte-exact) and typed body.</summary>
public sealed record PfcpDecoded(PfcpMessage Message, IPfcpMessageBody Body) : PfcpDecodeOutcome
{
    public PfcpHeader Header => Message.Header;
}

/// <summary>
/// A message with a readable header whose IEs are wrong. For a request, the node answers with
/// <see cref="ResponseType"/> carrying <see cref="Cause"/> and, when known, the Offending IE;
/// a rejected response is simply treated as failed.
/// </summary>
public sealed record PfcpRejected(PfcpHeader Header, PfcpCause Cause, ushort? OffendingIe, string Path, string Detail) : PfcpDecodeOutcome
{
    /// <summary>The generic form when the IE framing was sound (the typed checks failed).</summary>
    public PfcpMessage? Message { get; init; }

    /// <summary>
    /// The CP F-SEID of a rejected Session Establishment Request when it could be read: its SEID
    /// goes in the header of the rejecting response (clause 7.2.2.4.2).
    /// </summary>
    public FSeid? PeerFSeid { get; init; }

    public PfcpMessageType? ResponseType => Header.MessageType.ResponseType();

    public override string ToString() =>
        $"{Header.MessageType} seq {Header.SequenceNumber} rejected: {Cause}" +
        (OffendingIe is { } ie ? $" (offending IE {IeTypes.Name(ie)}" + (Path.Length > 0 ? $" at {Path})" : ")") : "") +
        $": {Detail}";
}

/// <summary>A message of another PFCP version: answer with a Version Not Supported Response.</summary>
public sealed record PfcpVersionNotSupported(int Version, uint? SequenceNumber) : PfcpDecodeOutcome;

/// <summary>A datagram that cannot be answered: count it and discard it.</summary>
public sealed record PfcpDropped(PfcpDropReason Reason, string Detail) : PfcpDecodeOutcome
{
    /// <summary>The header when it was readable (e.g. a length mismatch or an unknown message type).</summary>
    public PfcpHeader? Header { get; init; }
}

public enum PfcpDropReason
{
    /// <summary>Shorter than a PFCP header.</summary>
    Truncated,
    /// <summary>Header fields that contradict each other (length below the header size, MP without S).</summary>
    MalformedHeader,
    /// <summary>The length field claims more octets than the datagram holds.</summary>
    LengthExceedsDatagram,
    /// <summary>Octets left over after the message while FO (follow on) is not set.</summary>
    LengthShorterThanDatagram,
    /// <summary>S flag set on a node message or clear on a session message.</summary>
    SeidFlagMismatch,
    /// <summary>A message type TS 29.244 does not define: silently discarded.</summary>
    UnknownMessageType,
    /// <summary>An unexpected decoder failure (a bug): the datagram is discarded rather than crashing the node.</summary>
    DecoderFault,
}

using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Messages;

/// <summary>
/// The IEs of one PFCP message as a typed record (the header travels separately, see
/// <see cref="PfcpHeader"/>). Every record keeps the IEs it does not model in an
/// <c>Other</c> list and writes them back after the modelled ones.
/// </summary>
public interface IPfcpMessageBody
{
    PfcpMessageType MessageType { get; }

    void WriteIes(PfcpWriter writer);
}

/// <summary>A message type without a typed model (PFD management, Session Set Modification...): its IEs as received.</summary>
public sealed record UnmodeledMessage(PfcpMessageType MessageType, ValueList<PfcpIe> Ies) : IPfcpMessageBody
{
    public void WriteIes(PfcpWriter writer) => writer.Verbatim(Ies);
}

/// <summary>Typed decoders per message type.</summary>
public static class PfcpMessageBodies
{
    private static readonly Dictionary<PfcpMessageType, Func<IeSet, IPfcpMessageBody>> Decoders = new()
    {
        [PfcpMessageType.HeartbeatRequest] = HeartbeatRequest.Decode,
        [PfcpMessageType.HeartbeatResponse] = HeartbeatResponse.Decode,
        [PfcpMessageType.AssociationSetupRequest] = AssociationSetupRequest.Decode,
        [PfcpMessageType.AssociationSetupResponse] = AssociationSetupResponse.Decode,
        [PfcpMessageType.AssociationUpdateRequest] = AssociationUpdateRequest.Decode,
        [PfcpMessageType.AssociationUpdateResponse] = AssociationUpdateResponse.Decode,
        [PfcpMessageType.AssociationReleaseRequest] = AssociationReleaseRequest.Decode,
        [PfcpMessageType.AssociationReleaseResponse] = AssociationReleaseResponse.Decode,
        [PfcpMessageType.VersionNotSupportedResponse] = VersionNotSupportedResponse.Decode,
        [PfcpMessageType.NodeReportRequest] = NodeReportRequest.Decode,
        [PfcpMessageType.NodeReportResponse] = NodeReportResponse.Decode,
        [PfcpMessageType.SessionSetDeletionRequest] = SessionSetDeletionRequest.Decode,
        [PfcpMessageType.SessionSetDeletionResponse] = SessionSetDeletionResponse.Decode,
        [PfcpMessageType.SessionEstablishmentRequest] = SessionEstablishmentRequest.Decode,
        [PfcpMessageType.SessionEstablishmentResponse] = SessionEstablishmentResponse.Decode,
        [PfcpMessageType.SessionModificationRequest] = SessionModificationRequest.Decode,
        [PfcpMessageType.SessionModificationResponse] = SessionModificationResponse.Decode,
        [PfcpMessageType.SessionDeletionRequest] = SessionDeletionRequest.Decode,
        [PfcpMessageType.SessionDeletionResponse] = SessionDeletionResponse.Decode,
        [PfcpMessageType.SessionReportRequest] = SessionReportRequest.Decode,
        [PfcpMessageType.SessionReportResponse] = SessionReportResponse.Decode,
    };

    public static bool IsModeled(PfcpMessageType type) => Decoders.ContainsKey(type);

    /// <summary>Typed body for the IEs of a message; throws <see cref="PfcpFormatException"/> when they do not fit.</summary>
    public static IPfcpMessageBody Decode(PfcpMessageType type, ValueList<PfcpIe> ies) =>
        Decoders.TryGetValue(type, out var decode) ? decode(new IeSet(ies)) : new UnmodeledMessage(type, ies);

    internal static PfcpFormatException ConditionalMissing(IeType type, string why) =>
        new(PfcpCause.ConditionalIeMissing, why, (ushort)type, IeTypes.Name(type));
}

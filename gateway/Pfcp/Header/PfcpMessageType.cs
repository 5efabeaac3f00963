namespace LoxiLb.Edge5G.Pfcp;

/// <summary>PFCP message types (TS 29.244 Table 7.3-1). 1..49 are node messages, 50..99 session messages.</summary>
public enum PfcpMessageType : byte
{
    HeartbeatRequest = 1,
    HeartbeatResponse = 2,
    PfdManagementRequest = 3,
    PfdManagementResponse = 4,
    AssociationSetupRequest = 5,
    AssociationSetupResponse = 6,
    AssociationUpdateRequest = 7,
    AssociationUpdateResponse = 8,
    AssociationReleaseRequest = 9,
    AssociationReleaseResponse = 10,
    VersionNotSupportedResponse = 11,
    NodeReportRequest = 12,
    NodeReportResponse = 13,
    SessionSetDeletionRequest = 14,
    SessionSetDeletionResponse = 15,
    SessionSetModificationRequest = 16,
    SessionSetModificationResponse = 17,
    SessionEstablishmentRequest = 50,
    SessionEstablishmentResponse = 51,
    SessionModificationRequest = 52,
    SessionModificationResponse = 53,
    SessionDeletionRequest = 54,
    SessionDeletionResponse = 55,
    SessionReportRequest = 56,
    SessionReportResponse = 57,
}

public static class PfcpMessageTypes
{
    public static bool IsKnown(this PfcpMessageType type) => Enum.IsDefined(type);

    /// <summary>Session messages (50..99) carry an SEID; node messages must not (clause 7.2.2.1).</summary>
    public static bool IsSessionMessage(this PfcpMessageType type) => (byte)type >= 50;

    /// <summary>Whether the type is a request (answered by the next message type number).</summary>
    public static bool IsRequest(this PfcpMessageType type) => type switch
    {
        PfcpMessageType.HeartbeatRequest or PfcpMessageType.PfdManagementRequest
            or PfcpMessageType.AssociationSetupRequest or PfcpMessageType.AssociationUpdateRequest
            or PfcpMessageType.AssociationReleaseRequest or PfcpMessageType.NodeReportRequest
            or PfcpMessageType.SessionSetDeletionRequest or PfcpMessageType.SessionSetModificationRequest
            or PfcpMessageType.SessionEstablishmentRequest or PfcpMessageType.SessionModificationRequest
            or PfcpMessageType.SessionDeletionRequest or PfcpMessageType.SessionReportRequest => true,
        _ => false,
    };

    /// <summary>The response type answering a request type (null for responses).</summary>
    public static PfcpMessageType? ResponseType(this PfcpMessageType type) =>
        type.IsRequest() ? (PfcpMessageType)((byte)type + 1) : null;
}

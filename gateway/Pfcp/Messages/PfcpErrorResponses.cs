using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Messages;

/// <summary>Builds the response that rejects a request the codec could not accept.</summary>
public static class PfcpErrorResponses
{
    /// <summary>
    /// The response body answering <paramref name="rejected"/> with its cause and Offending IE, or
    /// null when there is nothing to answer (a rejected response, or a Heartbeat Request: its
    /// response cannot carry a cause). Send it with the request's sequence number; for session
    /// messages the header SEID is the peer's SEID for the session (for a Session Establishment
    /// Request, <see cref="PfcpRejected.PeerFSeid"/>, or 0 when unreadable).
    /// </summary>
    public static IPfcpMessageBody? For(PfcpRejected rejected, NodeId localNodeId, DateTime localRecoveryTimeStamp) =>
        For(rejected.Header.MessageType, rejected.Cause, rejected.OffendingIe, localNodeId, localRecoveryTimeStamp);

    /// <summary>The response to a request of type <paramref name="request"/> carrying only a cause (null: none can).</summary>
    public static IPfcpMessageBody? For(PfcpMessageType request, PfcpCause cause, ushort? offending, NodeId localNodeId, DateTime localRecoveryTimeStamp)
    {
        return request switch
        {
            PfcpMessageType.AssociationSetupRequest => new AssociationSetupResponse(localNodeId, cause, localRecoveryTimeStamp),
            PfcpMessageType.AssociationUpdateRequest => new AssociationUpdateResponse(localNodeId, cause),
            PfcpMessageType.AssociationReleaseRequest => new AssociationReleaseResponse(localNodeId, cause),
            PfcpMessageType.NodeReportRequest => new NodeReportResponse(localNodeId, cause) { OffendingIe = offending },
            PfcpMessageType.PfdManagementRequest => Unmodeled(PfcpMessageType.PfdManagementResponse, null, cause, offending),
            PfcpMessageType.SessionSetDeletionRequest => new SessionSetDeletionResponse(localNodeId, cause) { OffendingIe = offending },
            PfcpMessageType.SessionSetModificationRequest => Unmodeled(PfcpMessageType.SessionSetModificationResponse, localNodeId, cause, offending),
            PfcpMessageType.SessionEstablishmentRequest => new SessionEstablishmentResponse(localNodeId, cause) { OffendingIe = offending },
            PfcpMessageType.SessionModificationRequest => new SessionModificationResponse(cause) { OffendingIe = offending },
            PfcpMessageType.SessionDeletionRequest => new SessionDeletionResponse(cause) { OffendingIe = offending },
            PfcpMessageType.SessionReportRequest => new SessionReportResponse(cause) { OffendingIe = offending },
            _ => null,
        };
    }

    private static UnmodeledMessage Unmodeled(PfcpMessageType type, NodeId? node, PfcpCause cause, ushort? offending)
    {
        var ies = new List<PfcpIe>();
        if (node is not null)
            ies.Add(PfcpIe.Of(IeType.NodeId, node));
        ies.Add(PfcpIe.Raw(IeType.Cause, new[] { (byte)cause }));
        if (offending is { } ie)
            ies.Add(PfcpIe.Raw(IeType.OffendingIe, new[] { (byte)(ie >> 8), (byte)ie }));
        return new UnmodeledMessage(type, ValueList.From(ies));
    }
}

using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Messages;

/// <summary>
/// Heartbeat Request (clause 7.4.2.1). A Recovery Time Stamp newer than the one last seen means
/// the peer restarted and lost its sessions.
/// </summary>
public sealed record HeartbeatRequest(DateTime RecoveryTimeStamp) : IPfcpMessageBody
{
    public SourceIpAddress? SourceIpAddress { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.HeartbeatRequest;

    public static HeartbeatRequest Decode(IeSet s) =>
        new(s.Mandatory(IeType.RecoveryTimeStamp, IeDecoders.Ntp))
        {
            SourceIpAddress = s.Optional(IeType.SourceIpAddress, IeDecoders.SourceIpAddress),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.IeNtp(IeType.RecoveryTimeStamp, RecoveryTimeStamp);
        w.Opt(IeType.SourceIpAddress, SourceIpAddress);
        w.Verbatim(Other);
    }
}

/// <summary>Heartbeat Response (clause 7.4.2.2).</summary>
public sealed record HeartbeatResponse(DateTime RecoveryTimeStamp) : IPfcpMessageBody
{
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.HeartbeatResponse;

    public static HeartbeatResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.RecoveryTimeStamp, IeDecoders.Ntp)) { Other = s.Rest() };

    public void WriteIes(PfcpWriter w)
    {
        w.IeNtp(IeType.RecoveryTimeStamp, RecoveryTimeStamp);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Association Setup Request (Table 7.4.4.1-1). UP or CP Function Features are conditional on
/// which side sends it; the codec cannot tell, so the node checks the one it expects.
/// </summary>
public sealed record AssociationSetupRequest(NodeId NodeId, DateTime RecoveryTimeStamp) : IPfcpMessageBody
{
    public UpFunctionFeatures? UpFunctionFeatures { get; init; }
    public CpFunctionFeatures? CpFunctionFeatures { get; init; }
    public ValueList<UserPlaneIpResourceInformation> UserPlaneIpResources { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.AssociationSetupRequest;

    public static AssociationSetupRequest Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.RecoveryTimeStamp, IeDecoders.Ntp))
        {
            UpFunctionFeatures = s.Optional(IeType.UpFunctionFeatures, IeDecoders.UpFunctionFeatures),
            CpFunctionFeatures = s.Optional(IeType.CpFunctionFeatures, IeDecoders.CpFunctionFeatures),
            UserPlaneIpResources = s.Many(IeType.UserPlaneIpResourceInformation, IeDecoders.UserPlaneIpResourceInformation),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeNtp(IeType.RecoveryTimeStamp, RecoveryTimeStamp);
        w.Opt(IeType.UpFunctionFeatures, UpFunctionFeatures);
        w.Opt(IeType.CpFunctionFeatures, CpFunctionFeatures);
        w.Each(IeType.UserPlaneIpResourceInformation, UserPlaneIpResources);
        w.Verbatim(Other);
    }
}

/// <summary>Association Setup Response (Table 7.4.4.2-1).</summary>
public sealed record AssociationSetupResponse(NodeId NodeId, PfcpCause Cause, DateTime RecoveryTimeStamp) : IPfcpMessageBody
{
    public UpFunctionFeatures? UpFunctionFeatures { get; init; }
    public CpFunctionFeatures? CpFunctionFeatures { get; init; }
    public ValueList<UserPlaneIpResourceInformation> UserPlaneIpResources { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.AssociationSetupResponse;

    public static AssociationSetupResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.Cause, IeDecoders.Cause),
            s.Mandatory(IeType.RecoveryTimeStamp, IeDecoders.Ntp))
        {
            UpFunctionFeatures = s.Optional(IeType.UpFunctionFeatures, IeDecoders.UpFunctionFeatures),
            CpFunctionFeatures = s.Optional(IeType.CpFunctionFeatures, IeDecoders.CpFunctionFeatures),
            UserPlaneIpResources = s.Many(IeType.UserPlaneIpResourceInformation, IeDecoders.UserPlaneIpResourceInformation),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.Cause, (byte)Cause);
        w.IeNtp(IeType.RecoveryTimeStamp, RecoveryTimeStamp);
        w.Opt(IeType.UpFunctionFeatures, UpFunctionFeatures);
        w.Opt(IeType.CpFunctionFeatures, CpFunctionFeatures);
        w.Each(IeType.UserPlaneIpResourceInformation, UserPlaneIpResources);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Association Update Request (Table 7.4.4.3-1). A UP function asks for the association to be
/// released with the PFCP Association Release Request IE (SARR) and may give a Graceful
/// Release Period.
/// </summary>
public sealed record AssociationUpdateRequest(NodeId NodeId) : IPfcpMessageBody
{
    public UpFunctionFeatures? UpFunctionFeatures { get; init; }
    public CpFunctionFeatures? CpFunctionFeatures { get; init; }
    public AssociationReleaseRequestFlags? ReleaseRequest { get; init; }
    public TimerValue? GracefulReleasePeriod { get; init; }
    public ValueList<UserPlaneIpResourceInformation> UserPlaneIpResources { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.AssociationUpdateRequest;

    public static AssociationUpdateRequest Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId))
        {
            UpFunctionFeatures = s.Optional(IeType.UpFunctionFeatures, IeDecoders.UpFunctionFeatures),
            CpFunctionFeatures = s.Optional(IeType.CpFunctionFeatures, IeDecoders.CpFunctionFeatures),
            ReleaseRequest = s.OptionalValue(IeType.PfcpAssociationReleaseRequest, IeDecoders.AssociationReleaseRequest),
            GracefulReleasePeriod = s.Optional(IeType.GracefulReleasePeriod, IeDecoders.Timer),
            UserPlaneIpResources = s.Many(IeType.UserPlaneIpResourceInformation, IeDecoders.UserPlaneIpResourceInformation),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.Opt(IeType.UpFunctionFeatures, UpFunctionFeatures);
        w.Opt(IeType.CpFunctionFeatures, CpFunctionFeatures);
        if (ReleaseRequest is { } release) w.IeU8(IeType.PfcpAssociationReleaseRequest, (byte)release);
        w.Opt(IeType.GracefulReleasePeriod, GracefulReleasePeriod);
        w.Each(IeType.UserPlaneIpResourceInformation, UserPlaneIpResources);
        w.Verbatim(Other);
    }
}

/// <summary>Association Update Response (Table 7.4.4.4-1).</summary>
public sealed record AssociationUpdateResponse(NodeId NodeId, PfcpCause Cause) : IPfcpMessageBody
{
    public UpFunctionFeatures? UpFunctionFeatures { get; init; }
    public CpFunctionFeatures? CpFunctionFeatures { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.AssociationUpdateResponse;

    public static AssociationUpdateResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            UpFunctionFeatures = s.Optional(IeType.UpFunctionFeatures, IeDecoders.UpFunctionFeatures),
            CpFunctionFeatures = s.Optional(IeType.CpFunctionFeatures, IeDecoders.CpFunctionFeatures),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.Cause, (byte)Cause);
        w.Opt(IeType.UpFunctionFeatures, UpFunctionFeatures);
        w.Opt(IeType.CpFunctionFeatures, CpFunctionFeatures);
        w.Verbatim(Other);
    }
}

/// <summary>Association Release Request (Table 7.4.4.5-1).</summary>
public sealed record AssociationReleaseRequest(NodeId NodeId) : IPfcpMessageBody
{
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.AssociationReleaseRequest;

    public static AssociationReleaseRequest Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId)) { Other = s.Rest() };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.Verbatim(Other);
    }
}

/// <summary>Association Release Response (Table 7.4.4.6-1).</summary>
public sealed record AssociationReleaseResponse(NodeId NodeId, PfcpCause Cause) : IPfcpMessageBody
{
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.AssociationReleaseResponse;

    public static AssociationReleaseResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.Cause, IeDecoders.Cause)) { Other = s.Rest() };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.Cause, (byte)Cause);
        w.Verbatim(Other);
    }
}

/// <summary>Version Not Supported Response (clause 7.4.4.7): header only, sent for a request of another PFCP version.</summary>
public sealed record VersionNotSupportedResponse : IPfcpMessageBody
{
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.VersionNotSupportedResponse;

    public static VersionNotSupportedResponse Decode(IeSet s) => new() { Other = s.Rest() };

    public void WriteIes(PfcpWriter w) => w.Verbatim(Other);
}

/// <summary>
/// Node Report Request (Table 7.4.5.1-1). The path failure / recovery reports are conditional on
/// the UPFR / UPRR report types; their Remote GTP-U Peer children are kept as raw IEs.
/// </summary>
public sealed record NodeReportRequest(NodeId NodeId, NodeReportType ReportType) : IPfcpMessageBody
{
    public PfcpIe? UserPlanePathFailureReport { get; init; }
    public PfcpIe? UserPlanePathRecoveryReport { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.NodeReportRequest;

    public static NodeReportRequest Decode(IeSet s)
    {
        var request = new NodeReportRequest(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.NodeReportType, IeDecoders.NodeReportType))
        {
            UserPlanePathFailureReport = s.Optional(IeType.UserPlanePathFailureReport, IeDecoders.Raw),
            UserPlanePathRecoveryReport = s.Optional(IeType.UserPlanePathRecoveryReport, IeDecoders.Raw),
            Other = s.Rest(),
        };
        if (request.ReportType.HasFlag(NodeReportType.Upfr) && request.UserPlanePathFailureReport is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.UserPlanePathFailureReport, "report type UPFR needs a User Plane Path Failure Report");
        if (request.ReportType.HasFlag(NodeReportType.Uprr) && request.UserPlanePathRecoveryReport is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.UserPlanePathRecoveryReport, "report type UPRR needs a User Plane Path Recovery Report");
        return request;
    }

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.NodeReportType, (byte)ReportType);
        UserPlanePathFailureReport?.WriteTo(w);
        UserPlanePathRecoveryReport?.WriteTo(w);
        w.Verbatim(Other);
    }
}

/// <summary>Node Report Response (Table 7.4.5.2-1).</summary>
public sealed record NodeReportResponse(NodeId NodeId, PfcpCause Cause) : IPfcpMessageBody
{
    public ushort? OffendingIe { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.NodeReportResponse;

    public static NodeReportResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            OffendingIe = s.OptionalValue(IeType.OffendingIe, IeDecoders.U16),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.Cause, (byte)Cause);
        w.OptU16(IeType.OffendingIe, OffendingIe);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Session Set Deletion Request (Table 7.4.6.1-1): the CP function's Node ID and the FQ-CSIDs
/// (SGW-C, PGW-C/SMF, SGW-U/PGW-U/UPF, TWAN, ePDG, MME: one IE type) of the connection sets
/// whose sessions are to go (TS 23.527 4.6: partial failure handling).
/// </summary>
public sealed record SessionSetDeletionRequest(NodeId NodeId) : IPfcpMessageBody
{
    public ValueList<FqCsid> FqCsids { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionSetDeletionRequest;

    public static SessionSetDeletionRequest Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId))
        {
            FqCsids = s.Many(IeType.FqCsid, IeDecoders.FqCsid),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.Each(IeType.FqCsid, FqCsids);
        w.Verbatim(Other);
    }
}

/// <summary>Session Set Deletion Response (Table 7.4.6.2-1).</summary>
public sealed record SessionSetDeletionResponse(NodeId NodeId, PfcpCause Cause) : IPfcpMessageBody
{
    public ushort? OffendingIe { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionSetDeletionResponse;

    public static SessionSetDeletionResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            OffendingIe = s.OptionalValue(IeType.OffendingIe, IeDecoders.U16),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.Cause, (byte)Cause);
        w.OptU16(IeType.OffendingIe, OffendingIe);
        w.Verbatim(Other);
    }
}

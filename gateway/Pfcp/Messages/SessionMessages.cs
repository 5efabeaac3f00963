using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Messages;

/// <summary>
/// Session Establishment Request (Table 7.5.2.1-1): the CP function's F-SEID and at least one
/// Create PDR and Create FAR. The FQ-CSIDs (SGW-C, MME, PGW-C/SMF, ePDG, TWAN: one IE type,
/// told apart by node) name the CP side's connection sets; User ID, Trace Information and the
/// other rarer IEs stay in <see cref="Other"/>.
/// </summary>
public sealed record SessionEstablishmentRequest(NodeId NodeId, FSeid CpFSeid, ValueList<CreatePdr> CreatePdrs, ValueList<CreateFar> CreateFars) : IPfcpMessageBody
{
    public ValueList<CreateUrr> CreateUrrs { get; init; } = [];
    public ValueList<CreateQer> CreateQers { get; init; } = [];
    public CreateBar? CreateBar { get; init; }
    public ValueList<TrafficEndpoint> CreateTrafficEndpoints { get; init; } = [];
    public PdnType? PdnType { get; init; }
    public ValueList<FqCsid> FqCsids { get; init; } = [];
    public uint? UserPlaneInactivityTimer { get; init; }
    public DnsName? ApnDnn { get; init; }
    public Snssai? Snssai { get; init; }
    public DateTime? RecoveryTimeStamp { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionEstablishmentRequest;

    public static SessionEstablishmentRequest Decode(IeSet s) =>
        new(s.Mandatory(IeType.NodeId, IeDecoders.NodeId),
            s.Mandatory(IeType.FSeid, IeDecoders.FSeid),
            s.AtLeastOne(IeType.CreatePdr, CreatePdr.Decode),
            s.AtLeastOne(IeType.CreateFar, CreateFar.DecodeShared))
        {
            CreateUrrs = s.Many(IeType.CreateUrr, CreateUrr.DecodeShared),
            CreateQers = s.Many(IeType.CreateQer, CreateQer.DecodeShared),
            CreateBar = s.Optional(IeType.CreateBar, Rules.CreateBar.Decode),
            CreateTrafficEndpoints = s.Many(IeType.CreateTrafficEndpoint, TrafficEndpoint.Decode),
            PdnType = s.OptionalValue(IeType.PdnType, IeDecoders.PdnType),
            FqCsids = s.Many(IeType.FqCsid, IeDecoders.FqCsid),
            UserPlaneInactivityTimer = s.OptionalValue(IeType.UserPlaneInactivityTimer, IeDecoders.U32),
            ApnDnn = s.Optional(IeType.ApnDnn, IeDecoders.DnsName),
            Snssai = s.Optional(IeType.Snssai, IeDecoders.Snssai),
            RecoveryTimeStamp = s.OptionalValue(IeType.RecoveryTimeStamp, IeDecoders.Ntp),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.Ie(IeType.FSeid, CpFSeid);
        w.Each(IeType.CreatePdr, CreatePdrs);
        w.Each(IeType.CreateFar, CreateFars);
        w.Each(IeType.CreateUrr, CreateUrrs);
        w.Each(IeType.CreateQer, CreateQers);
        w.Opt(IeType.CreateBar, CreateBar);
        w.Each(IeType.CreateTrafficEndpoint, CreateTrafficEndpoints);
        if (PdnType is { } pdn) w.IeU8(IeType.PdnType, (byte)pdn);
        w.Each(IeType.FqCsid, FqCsids);
        w.OptU32(IeType.UserPlaneInactivityTimer, UserPlaneInactivityTimer);
        w.OptName(IeType.ApnDnn, ApnDnn);
        w.Opt(IeType.Snssai, Snssai);
        w.OptNtp(IeType.RecoveryTimeStamp, RecoveryTimeStamp);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Session Establishment Response (Table 7.5.3.1-1). On acceptance the UP F-SEID is required;
/// a rule creation failure (cause 73) must name the Failed Rule ID.
/// </summary>
public sealed record SessionEstablishmentResponse(NodeId NodeId, PfcpCause Cause) : IPfcpMessageBody
{
    public ushort? OffendingIe { get; init; }
    public FSeid? UpFSeid { get; init; }
    public ValueList<CreatedPdr> CreatedPdrs { get; init; } = [];
    public LoadControlInformation? LoadControlInformation { get; init; }
    public OverloadControlInformation? OverloadControlInformation { get; init; }
    /// <summary>The UP function's FQ-CSID for the session (SGW-U / PGW-U / UPF FQ-CSID: one type, one node).</summary>
    public FqCsid? UpFqCsid { get; init; }
    public FailedRuleId? FailedRuleId { get; init; }
    public ValueList<TrafficEndpoint> CreatedTrafficEndpoints { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionEstablishmentResponse;

    public static SessionEstablishmentResponse Decode(IeSet s)
    {
        var response = new SessionEstablishmentResponse(s.Mandatory(IeType.NodeId, IeDecoders.NodeId), s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            OffendingIe = s.OptionalValue(IeType.OffendingIe, IeDecoders.U16),
            UpFSeid = s.Optional(IeType.FSeid, IeDecoders.FSeid),
            CreatedPdrs = s.Many(IeType.CreatedPdr, CreatedPdr.Decode),
            LoadControlInformation = s.Optional(IeType.LoadControlInformation, Rules.LoadControlInformation.Decode),
            OverloadControlInformation = s.Optional(IeType.OverloadControlInformation, Rules.OverloadControlInformation.Decode),
            UpFqCsid = s.Optional(IeType.FqCsid, IeDecoders.FqCsid),
            FailedRuleId = s.Optional(IeType.FailedRuleId, IeDecoders.FailedRuleId),
            CreatedTrafficEndpoints = s.Many(IeType.CreatedTrafficEndpoint, TrafficEndpoint.Decode),
            Other = s.Rest(),
        };
        if (response.Cause.IsAcceptance() && response.UpFSeid is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.FSeid, "an accepted session needs the UP F-SEID");
        if (response.Cause == PfcpCause.RuleCreationModificationFailure && response.FailedRuleId is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.FailedRuleId, "a rule creation failure must name the failed rule");
        return response;
    }

    public void WriteIes(PfcpWriter w)
    {
        w.Ie(IeType.NodeId, NodeId);
        w.IeU8(IeType.Cause, (byte)Cause);
        w.OptU16(IeType.OffendingIe, OffendingIe);
        w.Opt(IeType.FSeid, UpFSeid);
        w.Each(IeType.CreatedPdr, CreatedPdrs);
        w.Opt(IeType.LoadControlInformation, LoadControlInformation);
        w.Opt(IeType.OverloadControlInformation, OverloadControlInformation);
        w.Opt(IeType.FqCsid, UpFqCsid);
        w.Opt(IeType.FailedRuleId, FailedRuleId);
        w.Each(IeType.CreatedTrafficEndpoint, CreatedTrafficEndpoints);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Session Modification Request (Table 7.5.4.1-1). Every IE is conditional; Remove and Query
/// IEs are exposed as lists of rule IDs. PFCPSMReq-Flags carries SNDEM (send End Marker),
/// DROBU and QAURR (query all URRs).
/// </summary>
public sealed record SessionModificationRequest : IPfcpMessageBody
{
    public FSeid? CpFSeid { get; init; }
    public ValueList<ushort> RemovePdrs { get; init; } = [];
    public ValueList<uint> RemoveFars { get; init; } = [];
    public ValueList<uint> RemoveUrrs { get; init; } = [];
    public ValueList<uint> RemoveQers { get; init; } = [];
    public byte? RemoveBar { get; init; }
    public ValueList<byte> RemoveTrafficEndpoints { get; init; } = [];
    public ValueList<CreatePdr> CreatePdrs { get; init; } = [];
    public ValueList<CreateFar> CreateFars { get; init; } = [];
    public ValueList<CreateUrr> CreateUrrs { get; init; } = [];
    public ValueList<CreateQer> CreateQers { get; init; } = [];
    public CreateBar? CreateBar { get; init; }
    public ValueList<TrafficEndpoint> CreateTrafficEndpoints { get; init; } = [];
    public ValueList<UpdatePdr> UpdatePdrs { get; init; } = [];
    public ValueList<UpdateFar> UpdateFars { get; init; } = [];
    public ValueList<UpdateUrr> UpdateUrrs { get; init; } = [];
    public ValueList<UpdateQer> UpdateQers { get; init; } = [];
    public UpdateBar? UpdateBar { get; init; }
    public ValueList<TrafficEndpoint> UpdateTrafficEndpoints { get; init; } = [];
    public PfcpSmReqFlags? Flags { get; init; }
    public ValueList<uint> QueryUrrs { get; init; } = [];
    /// <summary>CP-side FQ-CSIDs that changed (TS 23.527 4.6): each replaces the one of its node.</summary>
    public ValueList<FqCsid> FqCsids { get; init; } = [];
    public uint? UserPlaneInactivityTimer { get; init; }
    public uint? QueryUrrReference { get; init; }
    public NodeId? NodeId { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionModificationRequest;

    public static SessionModificationRequest Decode(IeSet s) => new()
    {
        CpFSeid = s.Optional(IeType.FSeid, IeDecoders.FSeid),
        RemovePdrs = s.Many(IeType.RemovePdr, RuleReferences.PdrId),
        RemoveFars = s.Many(IeType.RemoveFar, RuleReferences.FarId),
        RemoveUrrs = s.Many(IeType.RemoveUrr, RuleReferences.UrrId),
        RemoveQers = s.Many(IeType.RemoveQer, RuleReferences.QerId),
        RemoveBar = s.OptionalValue(IeType.RemoveBar, RuleReferences.BarId),
        RemoveTrafficEndpoints = s.Many(IeType.RemoveTrafficEndpoint, RuleReferences.TrafficEndpointId),
        CreatePdrs = s.Many(IeType.CreatePdr, CreatePdr.Decode),
        CreateFars = s.Many(IeType.CreateFar, CreateFar.DecodeShared),
        CreateUrrs = s.Many(IeType.CreateUrr, CreateUrr.DecodeShared),
        CreateQers = s.Many(IeType.CreateQer, CreateQer.DecodeShared),
        CreateBar = s.Optional(IeType.CreateBar, Rules.CreateBar.Decode),
        CreateTrafficEndpoints = s.Many(IeType.CreateTrafficEndpoint, TrafficEndpoint.Decode),
        UpdatePdrs = s.Many(IeType.UpdatePdr, UpdatePdr.Decode),
        UpdateFars = s.Many(IeType.UpdateFar, UpdateFar.Decode),
        UpdateUrrs = s.Many(IeType.UpdateUrr, UpdateUrr.Decode),
        UpdateQers = s.Many(IeType.UpdateQer, UpdateQer.Decode),
        UpdateBar = s.Optional(IeType.UpdateBarSessionModificationRequest, Rules.UpdateBar.Decode),
        UpdateTrafficEndpoints = s.Many(IeType.UpdateTrafficEndpoint, TrafficEndpoint.Decode),
        Flags = s.OptionalValue(IeType.PfcpSmReqFlags, IeDecoders.SmReqFlags),
        QueryUrrs = s.Many(IeType.QueryUrr, RuleReferences.UrrId),
        FqCsids = s.Many(IeType.FqCsid, IeDecoders.FqCsid),
        UserPlaneInactivityTimer = s.OptionalValue(IeType.UserPlaneInactivityTimer, IeDecoders.U32),
        QueryUrrReference = s.OptionalValue(IeType.QueryUrrReference, IeDecoders.U32),
        NodeId = s.Optional(IeType.NodeId, IeDecoders.NodeId),
        Other = s.Rest(),
    };

    public void WriteIes(PfcpWriter w)
    {
        w.Opt(IeType.FSeid, CpFSeid);
        foreach (var id in RemovePdrs) RuleReferences.WritePdr(w, IeType.RemovePdr, id);
        foreach (var id in RemoveFars) RuleReferences.WriteU32(w, IeType.RemoveFar, IeType.FarId, id);
        foreach (var id in RemoveUrrs) RuleReferences.WriteU32(w, IeType.RemoveUrr, IeType.UrrId, id);
        foreach (var id in RemoveQers) RuleReferences.WriteU32(w, IeType.RemoveQer, IeType.QerId, id);
        if (RemoveBar is { } bar) RuleReferences.WriteBar(w, IeType.RemoveBar, bar);
        foreach (var id in RemoveTrafficEndpoints) RuleReferences.WriteU8(w, IeType.RemoveTrafficEndpoint, IeType.TrafficEndpointId, id);
        w.Each(IeType.CreatePdr, CreatePdrs);
        w.Each(IeType.CreateFar, CreateFars);
        w.Each(IeType.CreateUrr, CreateUrrs);
        w.Each(IeType.CreateQer, CreateQers);
        w.Opt(IeType.CreateBar, CreateBar);
        w.Each(IeType.CreateTrafficEndpoint, CreateTrafficEndpoints);
        w.Each(IeType.UpdatePdr, UpdatePdrs);
        w.Each(IeType.UpdateFar, UpdateFars);
        w.Each(IeType.UpdateUrr, UpdateUrrs);
        w.Each(IeType.UpdateQer, UpdateQers);
        w.Opt(IeType.UpdateBarSessionModificationRequest, UpdateBar);
        w.Each(IeType.UpdateTrafficEndpoint, UpdateTrafficEndpoints);
        if (Flags is { } flags) w.IeU8(IeType.PfcpSmReqFlags, (byte)flags);
        foreach (var id in QueryUrrs) RuleReferences.WriteU32(w, IeType.QueryUrr, IeType.UrrId, id);
        w.Each(IeType.FqCsid, FqCsids);
        w.OptU32(IeType.UserPlaneInactivityTimer, UserPlaneInactivityTimer);
        w.OptU32(IeType.QueryUrrReference, QueryUrrReference);
        w.Opt(IeType.NodeId, NodeId);
        w.Verbatim(Other);
    }
}

/// <summary>Session Modification Response (Table 7.5.5.1-1). Usage reports travel as IE type 78.</summary>
public sealed record SessionModificationResponse(PfcpCause Cause) : IPfcpMessageBody
{
    public ushort? OffendingIe { get; init; }
    public ValueList<CreatedPdr> CreatedPdrs { get; init; } = [];
    public LoadControlInformation? LoadControlInformation { get; init; }
    public OverloadControlInformation? OverloadControlInformation { get; init; }
    public ValueList<UsageReport> UsageReports { get; init; } = [];
    public FailedRuleId? FailedRuleId { get; init; }
    public ValueList<TrafficEndpoint> CreatedTrafficEndpoints { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionModificationResponse;

    public static SessionModificationResponse Decode(IeSet s)
    {
        var response = new SessionModificationResponse(s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            OffendingIe = s.OptionalValue(IeType.OffendingIe, IeDecoders.U16),
            CreatedPdrs = s.Many(IeType.CreatedPdr, CreatedPdr.Decode),
            LoadControlInformation = s.Optional(IeType.LoadControlInformation, Rules.LoadControlInformation.Decode),
            OverloadControlInformation = s.Optional(IeType.OverloadControlInformation, Rules.OverloadControlInformation.Decode),
            UsageReports = s.Many(IeType.UsageReportSessionModificationResponse, UsageReport.Decode),
            FailedRuleId = s.Optional(IeType.FailedRuleId, IeDecoders.FailedRuleId),
            CreatedTrafficEndpoints = s.Many(IeType.CreatedTrafficEndpoint, TrafficEndpoint.Decode),
            Other = s.Rest(),
        };
        if (response.Cause == PfcpCause.RuleCreationModificationFailure && response.FailedRuleId is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.FailedRuleId, "a rule modification failure must name the failed rule");
        return response;
    }

    public void WriteIes(PfcpWriter w)
    {
        w.IeU8(IeType.Cause, (byte)Cause);
        w.OptU16(IeType.OffendingIe, OffendingIe);
        w.Each(IeType.CreatedPdr, CreatedPdrs);
        w.Opt(IeType.LoadControlInformation, LoadControlInformation);
        w.Opt(IeType.OverloadControlInformation, OverloadControlInformation);
        w.Each(IeType.UsageReportSessionModificationResponse, UsageReports);
        w.Opt(IeType.FailedRuleId, FailedRuleId);
        w.Each(IeType.CreatedTrafficEndpoint, CreatedTrafficEndpoints);
        w.Verbatim(Other);
    }
}

/// <summary>Session Deletion Request (Table 7.5.6.1-1): normally empty; the SEID in the header names the session.</summary>
public sealed record SessionDeletionRequest : IPfcpMessageBody
{
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionDeletionRequest;

    public static SessionDeletionRequest Decode(IeSet s) => new() { Other = s.Rest() };

    public void WriteIes(PfcpWriter w) => w.Verbatim(Other);
}

/// <summary>Session Deletion Response (Table 7.5.7.1-1): final usage reports travel as IE type 79.</summary>
public sealed record SessionDeletionResponse(PfcpCause Cause) : IPfcpMessageBody
{
    public ushort? OffendingIe { get; init; }
    public LoadControlInformation? LoadControlInformation { get; init; }
    public OverloadControlInformation? OverloadControlInformation { get; init; }
    public ValueList<UsageReport> UsageReports { get; init; } = [];
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionDeletionResponse;

    public static SessionDeletionResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            OffendingIe = s.OptionalValue(IeType.OffendingIe, IeDecoders.U16),
            LoadControlInformation = s.Optional(IeType.LoadControlInformation, Rules.LoadControlInformation.Decode),
            OverloadControlInformation = s.Optional(IeType.OverloadControlInformation, Rules.OverloadControlInformation.Decode),
            UsageReports = s.Many(IeType.UsageReportSessionDeletionResponse, UsageReport.Decode),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.IeU8(IeType.Cause, (byte)Cause);
        w.OptU16(IeType.OffendingIe, OffendingIe);
        w.Opt(IeType.LoadControlInformation, LoadControlInformation);
        w.Opt(IeType.OverloadControlInformation, OverloadControlInformation);
        w.Each(IeType.UsageReportSessionDeletionResponse, UsageReports);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Session Report Request (Table 7.5.8.1-1), sent by the UP function. Each report type flag
/// requires its report: DLDR a Downlink Data Report, USAR at least one Usage Report (IE type 80),
/// ERIR an Error Indication Report.
/// </summary>
public sealed record SessionReportRequest(ReportType ReportType) : IPfcpMessageBody
{
    public DownlinkDataReport? DownlinkDataReport { get; init; }
    public ValueList<UsageReport> UsageReports { get; init; } = [];
    public ErrorIndicationReport? ErrorIndicationReport { get; init; }
    public LoadControlInformation? LoadControlInformation { get; init; }
    public OverloadControlInformation? OverloadControlInformation { get; init; }
    public FSeid? OldCpFSeid { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionReportRequest;

    public static SessionReportRequest Decode(IeSet s)
    {
        var request = new SessionReportRequest(s.Mandatory(IeType.ReportType, IeDecoders.ReportType))
        {
            DownlinkDataReport = s.Optional(IeType.DownlinkDataReport, Rules.DownlinkDataReport.Decode),
            UsageReports = s.Many(IeType.UsageReportSessionReportRequest, UsageReport.Decode),
            ErrorIndicationReport = s.Optional(IeType.ErrorIndicationReport, Rules.ErrorIndicationReport.Decode),
            LoadControlInformation = s.Optional(IeType.LoadControlInformation, Rules.LoadControlInformation.Decode),
            OverloadControlInformation = s.Optional(IeType.OverloadControlInformation, Rules.OverloadControlInformation.Decode),
            OldCpFSeid = s.Optional(IeType.FSeid, IeDecoders.FSeid),
            Other = s.Rest(),
        };
        if (request.ReportType.HasFlag(ReportType.Dldr) && request.DownlinkDataReport is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.DownlinkDataReport, "report type DLDR needs a Downlink Data Report");
        if (request.ReportType.HasFlag(ReportType.Usar) && request.UsageReports.IsEmpty)
            throw PfcpMessageBodies.ConditionalMissing(IeType.UsageReportSessionReportRequest, "report type USAR needs a Usage Report");
        if (request.ReportType.HasFlag(ReportType.Erir) && request.ErrorIndicationReport is null)
            throw PfcpMessageBodies.ConditionalMissing(IeType.ErrorIndicationReport, "report type ERIR needs an Error Indication Report");
        return request;
    }

    public void WriteIes(PfcpWriter w)
    {
        w.IeU8(IeType.ReportType, (byte)ReportType);
        w.Opt(IeType.DownlinkDataReport, DownlinkDataReport);
        w.Each(IeType.UsageReportSessionReportRequest, UsageReports);
        w.Opt(IeType.ErrorIndicationReport, ErrorIndicationReport);
        w.Opt(IeType.LoadControlInformation, LoadControlInformation);
        w.Opt(IeType.OverloadControlInformation, OverloadControlInformation);
        w.Opt(IeType.FSeid, OldCpFSeid);
        w.Verbatim(Other);
    }
}

/// <summary>Session Report Response (Table 7.5.9.1-1). Update BAR here is IE type 12.</summary>
public sealed record SessionReportResponse(PfcpCause Cause) : IPfcpMessageBody
{
    public ushort? OffendingIe { get; init; }
    public UpdateBar? UpdateBar { get; init; }
    public PfcpSrRspFlags? Flags { get; init; }
    public FSeid? CpFSeid { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];
    public PfcpMessageType MessageType => PfcpMessageType.SessionReportResponse;

    public static SessionReportResponse Decode(IeSet s) =>
        new(s.Mandatory(IeType.Cause, IeDecoders.Cause))
        {
            OffendingIe = s.OptionalValue(IeType.OffendingIe, IeDecoders.U16),
            UpdateBar = s.Optional(IeType.UpdateBarSessionReportResponse, Rules.UpdateBar.Decode),
            Flags = s.OptionalValue(IeType.PfcpSrRspFlags, IeDecoders.SrRspFlags),
            CpFSeid = s.Optional(IeType.FSeid, IeDecoders.FSeid),
            Other = s.Rest(),
        };

    public void WriteIes(PfcpWriter w)
    {
        w.IeU8(IeType.Cause, (byte)Cause);
        w.OptU16(IeType.OffendingIe, OffendingIe);
        w.Opt(IeType.UpdateBarSessionReportResponse, UpdateBar);
        if (Flags is { } flags) w.IeU8(IeType.PfcpSrRspFlags, (byte)flags);
        w.Opt(IeType.FSeid, CpFSeid);
        w.Verbatim(Other);
    }
}

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Measurement Method (clause 8.2.40).</summary>
[Flags]
public enum MeasurementMethod : byte
{
    None = 0,
    /// <summary>Duration.</summary>
    Durat = 0x01,
    /// <summary>Volume.</summary>
    Volum = 0x02,
    /// <summary>Event.</summary>
    Event = 0x04,
}

/// <summary>Report Type of a Session Report Request (clause 8.2.21).</summary>
[Flags]
public enum ReportType : byte
{
    None = 0,
    /// <summary>Downlink Data Report.</summary>
    Dldr = 0x01,
    /// <summary>Usage Report.</summary>
    Usar = 0x02,
    /// <summary>Error Indication Report.</summary>
    Erir = 0x04,
    /// <summary>User Plane Inactivity Report.</summary>
    Upir = 0x08,
    /// <summary>TSC Management Information Report.</summary>
    Tmir = 0x10,
    /// <summary>Session Report.</summary>
    Sesr = 0x20,
    /// <summary>UP Initiated Session Request.</summary>
    Uisr = 0x40,
}

/// <summary>PFCPSMReq-Flags (clause 8.2.31) of a Session Modification Request.</summary>
[Flags]
public enum PfcpSmReqFlags : byte
{
    None = 0,
    /// <summary>Drop buffered packets.</summary>
    Drobu = 0x01,
    /// <summary>Send End Marker packets on the old path when the F-TEID changes.</summary>
    Sndem = 0x02,
    /// <summary>Query all URRs.</summary>
    Qaurr = 0x04,
    /// <summary>Stop of usage measurement to pause charging.</summary>
    Sumpc = 0x08,
    /// <summary>Resume of usage measurement.</summary>
    Rumuc = 0x10,
    /// <summary>Delete all DL N3mb / N19mb F-TEIDs.</summary>
    Deteid = 0x20,
    /// <summary>Home-routed session with SBO.</summary>
    Hrsbom = 0x40,
}

/// <summary>PFCPSRRsp-Flags (clause 8.2.32) of a Session Report Response.</summary>
[Flags]
public enum PfcpSrRspFlags : byte
{
    None = 0,
    /// <summary>Drop buffered packets.</summary>
    Drobu = 0x01,
}

/// <summary>PFCP Association Release Request IE (clause 8.2.77) in an Association Update Request.</summary>
[Flags]
public enum AssociationReleaseRequestFlags : byte
{
    None = 0,
    /// <summary>PFCP association release request.</summary>
    Sarr = 0x01,
    /// <summary>Non-zero usage reports for sessions are sent before release.</summary>
    Urss = 0x02,
}

/// <summary>Node Report Type (clause 8.2.69).</summary>
[Flags]
public enum NodeReportType : byte
{
    None = 0,
    /// <summary>User Plane Path Failure Report.</summary>
    Upfr = 0x01,
    /// <summary>User Plane Path Recovery Report.</summary>
    Uprr = 0x02,
    /// <summary>Clock Drift Report.</summary>
    Ckdr = 0x04,
    /// <summary>GTP-U Path QoS Report.</summary>
    Gpqr = 0x08,
    /// <summary>Peer UP Restart Report.</summary>
    Purr = 0x10,
}

/// <summary>OCI Flags (clause 8.2.76).</summary>
[Flags]
public enum OciFlags : byte
{
    None = 0,
    /// <summary>Associate OCI with the node ID.</summary>
    Aoci = 0x01,
}

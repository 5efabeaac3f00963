namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Source Interface (clause 8.2.2), octet 5 bits 4-1: where packets matched by a PDR come from.</summary>
public enum SourceInterface : byte
{
    Access = 0,
    Core = 1,
    SgiLanN6Lan = 2,
    CpFunction = 3,
    FiveGVnInternal = 4,
}

/// <summary>Destination Interface (clause 8.2.24), octet 5 bits 4-1: where a FAR forwards to.</summary>
public enum DestinationInterface : byte
{
    Access = 0,
    Core = 1,
    SgiLanN6Lan = 2,
    CpFunction = 3,
    LiFunction = 4,
    FiveGVnInternal = 5,
}

/// <summary>3GPP Interface Type (clause 8.2.118), octet 5 bits 6-1.</summary>
public enum ThreeGppInterfaceType : byte
{
    S1U = 0,
    S5S8U = 1,
    S4U = 2,
    S11U = 3,
    S12U = 4,
    GnGpU = 5,
    S2aU = 6,
    S2bU = 7,
    EnodebGtpuDlDataForwarding = 8,
    EnodebGtpuUlDataForwarding = 9,
    SgwUpfGtpuDlDataForwarding = 10,
    N3ThreeGppAccess = 11,
    N3TrustedNon3GppAccess = 12,
    N3UntrustedNon3GppAccess = 13,
    N3DataForwarding = 14,
    N9 = 15,
    SGi = 16,
    N6 = 17,
    N19 = 18,
}

/// <summary>PDN Type (clause 8.2.79), octet 5 bits 3-1.</summary>
public enum PdnType : byte
{
    Ipv4 = 1,
    Ipv6 = 2,
    Ipv4v6 = 3,
    NonIp = 4,
    Ethernet = 5,
}

/// <summary>Outer Header Removal description (clause 8.2.64, octet 5).</summary>
public enum OuterHeaderRemovalDescription : byte
{
    GtpuUdpIpv4 = 0,
    GtpuUdpIpv6 = 1,
    UdpIpv4 = 2,
    UdpIpv6 = 3,
    Ipv4 = 4,
    Ipv6 = 5,
    GtpuUdpIp = 6,
    VlanSTag = 7,
    STagAndCTag = 8,
}

public enum GateState : byte
{
    Open = 0,
    Closed = 1,
}

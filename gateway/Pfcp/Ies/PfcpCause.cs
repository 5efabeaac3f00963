namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Cause IE values (TS 29.244 clause 8.2.1, Table 8.2.1-1). Values 1-63 are acceptance, 64+ rejection.</summary>
public enum PfcpCause : byte
{
    Reserved = 0,
    RequestAccepted = 1,
    MoreUsageReportToSend = 2,
    RequestPartiallyAccepted = 3,
    RequestRejected = 64,
    SessionContextNotFound = 65,
    MandatoryIeMissing = 66,
    ConditionalIeMissing = 67,
    InvalidLength = 68,
    MandatoryIeIncorrect = 69,
    InvalidForwardingPolicy = 70,
    InvalidFTeidAllocationOption = 71,
    NoEstablishedPfcpAssociation = 72,
    RuleCreationModificationFailure = 73,
    PfcpEntityInCongestion = 74,
    NoResourcesAvailable = 75,
    ServiceNotSupported = 76,
    SystemFailure = 77,
    RedirectionRequested = 78,
    AllDynamicAddressesAreOccupied = 79,
    UnknownPreDefinedRule = 80,
    UnknownApplicationId = 81,
}

public static class PfcpCauses
{
    /// <summary>Acceptance causes are 1..63 (clause 8.2.1).</summary>
    public static bool IsAcceptance(this PfcpCause cause) => cause is >= PfcpCause.RequestAccepted and < PfcpCause.RequestRejected;
}

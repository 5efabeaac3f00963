namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>What kind of problem made the compiler refuse a session (PFCP maps it to a cause).</summary>
public enum RuleError
{
    /// <summary>A rule refers to a rule the session does not have, or ids repeat.</summary>
    Inconsistent,
    /// <summary>A value the datapath cannot implement or cannot parse.</summary>
    Invalid,
    /// <summary>A TEID or UE address already belongs to another session.</summary>
    Conflict,
    /// <summary>A table is full.</summary>
    NoResources,
    /// <summary>No session with that SEID.</summary>
    UnknownSession,
}

/// <summary>The compiler refused the change; nothing was written.</summary>
public sealed class RuleException(RuleError error, string message, string? rule = null) : Exception(message)
{
    public RuleError Error { get; } = error;

    /// <summary>The offending rule, e.g. "PDR 2" or "FAR 1", when there is one.</summary>
    public string? Rule { get; } = rule;
}

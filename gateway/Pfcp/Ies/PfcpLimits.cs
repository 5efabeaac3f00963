namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// Bounds that keep a hostile datagram from costing more than a normal one. A real Session
/// Establishment Request nests 4 levels (Create PDR / PDI / Ethernet Packet Filter / ...) and
/// carries a few hundred IEs.
/// </summary>
public static class PfcpLimits
{
    /// <summary>Deepest grouped-IE nesting accepted (top-level IEs are depth 1).</summary>
    public const int MaxNestingDepth = 8;

    /// <summary>Most IEs (all levels counted) accepted in one message.</summary>
    public const int MaxIesPerMessage = 4096;
}

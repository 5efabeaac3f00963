using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// Gives FARs their next hop: a slot of the nexthops map kept current by the provider, or
/// AbiConstants.None to let the program ask the FIB per packet.
/// </summary>
public interface INextHops
{
    /// <summary>A next hop towards a GTP-U peer, or (peer null) towards the data network.</summary>
    uint Acquire(IPAddress? peer);

    void Release(uint slot);
}

/// <summary>No resolved next hops: every packet goes through bpf_fib_lookup.</summary>
public sealed class FibOnlyNextHops : INextHops
{
    public static FibOnlyNextHops Instance { get; } = new();
    public uint Acquire(IPAddress? peer) => AbiConstants.None;
    public void Release(uint slot) { }
}

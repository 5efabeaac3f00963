using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Datapath.Abi;

/// <summary>struct edge5g_if_counters: per-CPU packets/bytes of one interface.</summary>
[AbiStruct("edge5g_if_counters")]
[StructLayout(LayoutKind.Sequential)]
public struct IfCounters
{
    public ulong Packets;
    public ulong Bytes;
}

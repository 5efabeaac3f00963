namespace LoxiLb.Edge5G.Bpf;

/// <summary>Kernel map types (enum bpf_map_type) the gateway uses or reports.</summary>
public enum BpfMapType : uint
{
    Unspecified = 0,
    Hash = 1,
    Array = 2,
    ProgramArray = 3,
    PerfEventArray = 4,
    PerCpuHash = 5,
    PerCpuArray = 6,
    LruHash = 9,
    LruPerCpuHash = 10,
    LpmTrie = 11,
    DevMap = 14,
    DevMapHash = 25,
    RingBuffer = 27,
}

public static class BpfMapTypeExtensions
{
    public static bool IsPerCpu(this BpfMapType type) =>
        type is BpfMapType.PerCpuHash or BpfMapType.PerCpuArray or BpfMapType.LruPerCpuHash;
}

/// <summary>Program types (enum bpf_prog_type) the gateway attaches.</summary>
public enum BpfProgramType : uint
{
    Unspecified = 0,
    SchedCls = 3,
    Xdp = 6,
}

/// <summary>XDP verdicts (enum xdp_action).</summary>
public enum XdpAction : uint
{
    Aborted = 0,
    Drop = 1,
    Pass = 2,
    Tx = 3,
    Redirect = 4,
}

/// <summary>Flags of bpf_map_update_elem.</summary>
public enum BpfUpdate : ulong
{
    /// <summary>Create or replace.</summary>
    Any = 0,
    /// <summary>Create only; fails with EEXIST when the key is present.</summary>
    NoExist = 1,
    /// <summary>Replace only; fails with ENOENT when the key is absent.</summary>
    Exist = 2,
}

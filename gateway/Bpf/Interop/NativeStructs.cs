using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Datapath.Abi;

namespace LoxiLb.Edge5G.Bpf.Interop;

// Mirrors of libbpf 1.1.2 option structs (bpf/libbpf.h, bpf/bpf.h). Each starts with its own
// size so that libbpf accepts it whatever fields a newer version added.

[AbiStruct("bpf_object_open_opts", Header = "bpf/libbpf.h")]
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfObjectOpenOpts
{
    [AbiField("sz")] public nuint Size;
    public byte* ObjectName;
    public byte RelaxedMaps;       // bool, then 7 bytes of padding
    public byte* PinRootPath;
    [AbiField("")] public uint Unused; // removed attach_prog_fd, then 4 bytes of padding
    public byte* Kconfig;
    public byte* BtfCustomPath;
    [AbiField("kernel_log_buf")] public byte* KernelLogBuffer;
    public nuint KernelLogSize;
    public uint KernelLogLevel;
}

[AbiStruct("bpf_test_run_opts", Header = "bpf/bpf.h")]
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfTestRunOpts
{
    [AbiField("sz")] public nuint Size;
    public void* DataIn;
    public void* DataOut;
    public uint DataSizeIn;
    public uint DataSizeOut;
    [AbiField("ctx_in")] public void* ContextIn;
    [AbiField("ctx_out")] public void* ContextOut;
    [AbiField("ctx_size_in")] public uint ContextSizeIn;
    [AbiField("ctx_size_out")] public uint ContextSizeOut;
    [AbiField("retval")] public uint ReturnValue;
    public int Repeat;
    public uint Duration;
    public uint Flags;
    public uint Cpu;
    public uint BatchSize;
}

[AbiStruct("bpf_link_create_opts", Header = "bpf/bpf.h")]
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfLinkCreateOpts
{
    [AbiField("sz")] public nuint Size;
    public uint Flags;
    // The remaining fields (iter info, target BTF id, per-type unions) must stay zero for the
    // attach types we use; 64 bytes in all cover libbpf 1.1's struct.
    [AbiField("")] public fixed byte Rest[52];
}

[AbiStruct("bpf_link_update_opts", Header = "bpf/bpf.h")]
[StructLayout(LayoutKind.Sequential)]
internal struct BpfLinkUpdateOpts
{
    [AbiField("sz")] public nuint Size;
    public uint Flags;
    [AbiField("old_prog_fd")] public uint OldProgramFd;
}

/// <summary>struct xdp_md, the context BPF_PROG_TEST_RUN accepts for XDP programs.</summary>
[AbiStruct("xdp_md", Header = "linux/bpf.h")]
[StructLayout(LayoutKind.Sequential)]
internal struct XdpMd
{
    public uint Data;
    public uint DataEnd;
    public uint DataMeta;
    public uint IngressIfindex;
    public uint RxQueueIndex;
    public uint EgressIfindex;
}

/// <summary>struct btf_type: name offset, info (vlen, kind), size-or-type; members follow.</summary>
[AbiStruct("btf_type", Header = "linux/btf.h")]
[StructLayout(LayoutKind.Sequential)]
internal struct BtfType
{
    [AbiField("name_off")] public uint NameOffset;
    public uint Info;
    [AbiField("size")] public uint SizeOrType;

    public readonly int Vlen => (int)(Info & 0xffff);
    public readonly uint Kind => (Info >> 24) & 0x1f;
}

/// <summary>struct btf_var_secinfo: one variable inside a DATASEC.</summary>
[AbiStruct("btf_var_secinfo", Header = "linux/btf.h")]
[StructLayout(LayoutKind.Sequential)]
internal struct BtfVarSecInfo
{
    public uint Type;
    public uint Offset;
    public uint Size;
}

/// <summary>struct bpf_prog_info up to verified_insns; the fields between tag and run_time_ns are skipped.</summary>
[AbiStruct("bpf_prog_info", Header = "linux/bpf.h", LeadingFieldsOnly = true)]
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfProgInfoHead
{
    public uint Type;
    public uint Id;
    public fixed byte Tag[8];
    [AbiField("")] public fixed byte Skipped[176];
    public ulong RunTimeNs;
    public ulong RunCnt;
    public ulong RecursionMisses;
    public uint VerifiedInsns;
}

internal static class BpfConstants
{
    public const uint BtfKindVar = 14;
    public const uint BtfKindDatasec = 15;

    public const uint AttachXdp = 37;          // BPF_XDP
    public const uint AttachTcxIngress = 46;   // BPF_TCX_INGRESS (kernel >= 6.6)
    public const uint AttachTcxEgress = 47;    // BPF_TCX_EGRESS

    public const uint XdpFlagsSkbMode = 1u << 1;
    public const uint XdpFlagsDrvMode = 1u << 2;

    public const uint TestRunXdpLiveFrames = 1u << 1;

    public const ulong UpdateAny = 0, UpdateNoExist = 1, UpdateExist = 2;
}

/// <summary>struct bpf_map_info, the leading fields we read.</summary>
[AbiStruct("bpf_map_info", Header = "linux/bpf.h", LeadingFieldsOnly = true)]
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfMapInfoHead
{
    public uint Type;
    public uint Id;
    public uint KeySize;
    public uint ValueSize;
    public uint MaxEntries;
    public uint MapFlags;
    public fixed byte Name[16];
}

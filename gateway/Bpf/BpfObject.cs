using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>
/// A loaded BPF object: its programs are in the kernel and its maps exist. Programs and maps
/// are found by name; maps are handed out on their own descriptors (duplicated), so they stay
/// usable independently of this object's lifetime.
/// </summary>
public sealed unsafe class BpfObject : IDisposable
{
    private readonly BpfObjectHandle _handle;

    internal BpfObject(BpfObjectHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    public string Name { get; }

    private nint Obj => _handle.IsClosed ? throw new ObjectDisposedException(Name) : _handle.DangerousGetHandle();

    public IReadOnlyList<string> ProgramNames
    {
        get
        {
            var names = new List<string>();
            for (var p = LibBpf.bpf_object__next_program(Obj, 0); p != 0; p = LibBpf.bpf_object__next_program(Obj, p))
                names.Add(Marshal.PtrToStringUTF8((nint)LibBpf.bpf_program__name(p))!);
            return names;
        }
    }

    public IReadOnlyList<string> MapNames
    {
        get
        {
            var names = new List<string>();
            for (var m = LibBpf.bpf_object__next_map(Obj, 0); m != 0; m = LibBpf.bpf_object__next_map(Obj, m))
                names.Add(Marshal.PtrToStringUTF8((nint)LibBpf.bpf_map__name(m))!);
            return names;
        }
    }

    /// <summary>A program by its C function name.</summary>
    public BpfProgram Program(string name)
    {
        var p = LibBpf.bpf_object__find_program_by_name(Obj, name);
        if (p == 0)
            throw new BpfException($"find program '{name}'", 0,
                $"object '{Name}' has no program '{name}' (programs: {string.Join(", ", ProgramNames)})");
        return new BpfProgram(this, name, LibBpf.bpf_program__fd(p), (BpfProgramType)LibBpf.bpf_program__type(p));
    }

    internal int ProgramFd(BpfProgram program)
    {
        _ = Obj; // throws once the object is disposed: its program fds are closed then
        return program.RawFd;
    }

    /// <summary>A hash or array map with typed keys and values; sizes are checked against the kernel's map.</summary>
    public BpfMap<TKey, TValue> Map<TKey, TValue>(string name) where TKey : unmanaged where TValue : unmanaged =>
        BpfMap<TKey, TValue>.FromDescriptor(DuplicateMapFd(name), $"{Name}/{name}");

    /// <summary>A per-CPU map: one value per possible CPU.</summary>
    public BpfPerCpuMap<TKey, TValue> PerCpuMap<TKey, TValue>(string name) where TKey : unmanaged where TValue : unmanaged =>
        BpfPerCpuMap<TKey, TValue>.FromDescriptor(DuplicateMapFd(name), $"{Name}/{name}");

    /// <summary>A map's own descriptor (duplicated), e.g. to pin it.</summary>
    public BpfFdHandle MapDescriptor(string name) => DuplicateMapFd(name);

    private BpfFdHandle DuplicateMapFd(string name)
    {
        var m = LibBpf.bpf_object__find_map_by_name(Obj, name);
        if (m == 0)
            throw new BpfException($"find map '{name}'", 0,
                $"object '{Name}' has no map '{name}' (maps: {string.Join(", ", MapNames)})");
        var fd = LibC.fcntl(LibBpf.bpf_map__fd(m), LibC.F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            throw new BpfException($"duplicate descriptor of map '{name}'", BpfException.LastErrno(), "fcntl failed");
        return new BpfFdHandle(fd);
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>
/// Kernel-wide collection of program run time (BPF_ENABLE_STATS): on while this object lives.
/// It costs two clock reads per program run, so it is for measurements, not production.
/// </summary>
public sealed class BpfRunStats : IDisposable
{
    private readonly BpfFdHandle _fd;

    public BpfRunStats()
    {
        var fd = LibBpf.bpf_enable_stats(0 /* BPF_STATS_RUN_TIME */);
        _fd = new BpfFdHandle(BpfException.ThrowIfNegative(fd, "enable BPF run-time statistics", "BPF_ENABLE_STATS failed"));
    }

    public void Dispose() => _fd.Dispose();
}

/// <summary>A loaded program of a <see cref="BpfObject"/>.</summary>
public sealed class BpfProgram
{
    private readonly BpfObject _owner;

    internal BpfProgram(BpfObject owner, string name, int fd, BpfProgramType type)
    {
        _owner = owner;
        Name = name;
        RawFd = fd;
        Type = type;
    }

    public string Name { get; }
    public BpfProgramType Type { get; }
    internal int RawFd { get; }

    /// <summary>The program's descriptor; valid while its object is not disposed.</summary>
    public int Fd => _owner.ProgramFd(this);

    public string ObjectName => _owner.Name;

    /// <summary>The kernel's run statistics of the program (run time only counts while <see cref="BpfRunStats"/> is enabled).</summary>
    public unsafe (ulong RunTimeNs, ulong RunCount, uint VerifiedInstructions) RunStats()
    {
        BpfProgInfoHead info = default;
        uint length = (uint)sizeof(BpfProgInfoHead);
        BpfException.ThrowIfNegative(LibBpf.bpf_obj_get_info_by_fd(Fd, &info, &length), $"read info of program {this}", "BPF_OBJ_GET_INFO_BY_FD failed");
        return (info.RunTimeNs, info.RunCnt, info.VerifiedInsns);
    }

    public override string ToString() => $"{_owner.Name}/{Name}";
}

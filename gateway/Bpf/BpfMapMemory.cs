using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>
/// A read-only mapping of an mmap-able BPF array's values (a map made with BPF_F_MMAPABLE):
/// the program's stores are visible as plain memory, with no syscall and no copy per read.
/// Values are laid out at a stride of the value size rounded up to 8 bytes, as the kernel
/// lays out such arrays.
/// </summary>
public sealed unsafe class BpfMapMemory : SafeHandle
{
    private BpfMapMemory(nint address, nuint length, uint entries, uint stride, string name)
        : base(LibC.MAP_FAILED, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
        Entries = entries;
        Stride = stride;
        Name = name;
    }

    public nuint Length { get; }
    public uint Entries { get; }
    /// <summary>Bytes from one value to the next.</summary>
    public uint Stride { get; }
    public string Name { get; }

    public override bool IsInvalid => handle == LibC.MAP_FAILED || handle == 0;

    /// <summary>Maps the values of the array behind <paramref name="fd"/> for reading.</summary>
    internal static BpfMapMemory Map(BpfFdHandle fd, string name, BpfMapInfo info)
    {
        if (info.Type != BpfMapType.Array)
            throw new BpfException($"map '{name}' into memory", 0, $"it is {info.Type}; only an array made with BPF_F_MMAPABLE can be");
        var stride = (info.ValueSize + 7) & ~7u;
        var page = (nuint)Environment.SystemPageSize;
        var length = ((nuint)info.MaxEntries * stride + page - 1) / page * page;
        var address = (nint)LibC.mmap(null, length, LibC.PROT_READ, LibC.MAP_SHARED, fd.Fd, 0);
        if (address == LibC.MAP_FAILED)
            throw new BpfException($"map '{name}' into memory", BpfException.LastErrno(),
                $"mmap of {length} bytes failed (the map needs BPF_F_MMAPABLE)");
        return new BpfMapMemory(address, length, info.MaxEntries, stride, name);
    }

    /// <summary>The 64-bit value at <paramref name="index"/>, read once (the program may store to it meanwhile).</summary>
    public ulong ReadUInt64(uint index)
    {
        if (index >= Entries)
            throw new ArgumentOutOfRangeException(nameof(index), $"map '{Name}' has {Entries} entries");
        if (Stride < sizeof(ulong))
            throw new InvalidOperationException($"map '{Name}' values are {Stride} bytes, not 8");
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            return Volatile.Read(ref *(ulong*)((byte*)handle + (nuint)index * Stride));
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, Length) == 0;
}

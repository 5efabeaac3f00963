using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Bpf.Interop;

/// <summary>The few libc calls the datapath needs (descriptors, interfaces, namespaces, errno text).</summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint if_nametoindex(string name);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setns(int fd, int nstype);

    [LibraryImport(Lib)]
    internal static partial byte* strerrorname_np(int errnum);

    [LibraryImport(Lib)]
    internal static partial byte* strerror(int errnum);

    // fcntl is variadic; on x86-64 an int third argument travels in a register either way.
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int unlink(string path);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int munmap(void* address, nuint length);

    [LibraryImport(Lib)]
    internal static partial int vsnprintf(byte* buffer, nuint size, byte* format, nint args);

    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;
    public const int CLONE_NEWNET = 0x40000000;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int PROT_READ = 1;
    public const int MAP_SHARED = 1;
    public static readonly nint MAP_FAILED = -1;
}

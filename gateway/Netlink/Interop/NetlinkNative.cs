using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Netlink.Sockets;

namespace LoxiLb.Edge5G.Netlink.Interop;

/// <summary>
/// The libc socket calls rtnetlink needs. Calls on an open socket take its SafeHandle, so a
/// concurrent Dispose cannot close (and let the kernel reuse) the descriptor mid-call.
/// </summary>
internal static unsafe partial class NetlinkNative
{
    private const string Lib = "libc";

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bind(NetlinkSocketHandle fd, SockaddrNl* address, uint addressLength);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int getsockname(NetlinkSocketHandle fd, SockaddrNl* address, uint* addressLength);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setsockopt(NetlinkSocketHandle fd, int level, int option, void* value, uint valueLength);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint sendto(NetlinkSocketHandle fd, byte* buffer, nuint length, int flags, SockaddrNl* address, uint addressLength);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint recv(NetlinkSocketHandle fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int eventfd(uint initialValue, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint write(int fd, void* buffer, nuint count);

    public const int AF_UNSPEC = 0;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_ROUTE = 0;

    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_RCVBUFFORCE = 33;
    public const int SO_RCVTIMEO = 20; // struct timeval on x86-64 (old-style 64-bit time_t)
    public const int SOL_NETLINK = 270;
    public const int NETLINK_ADD_MEMBERSHIP = 1;
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int NETLINK_GET_STRICT_CHK = 12;

    public const int MSG_PEEK = 0x2;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;

    public const short POLLIN = 0x1;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINVAL = 22;
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int ENOBUFS = 105;
    public const int ENETUNREACH = 101;
    public const int EHOSTUNREACH = 113;
    public const int ETIMEDOUT = 110;
    public const int EMSGSIZE = 90;
}

[StructLayout(LayoutKind.Sequential)]
internal struct SockaddrNl
{
    public ushort Family;
    public ushort Pad;
    public uint PortId;
    public uint Groups;
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short Revents;
}

[StructLayout(LayoutKind.Sequential)]
internal struct Timeval
{
    public long Seconds;
    public long Microseconds;
}

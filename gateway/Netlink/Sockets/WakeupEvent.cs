using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Netlink.Interop;
using Microsoft.Win32.SafeHandles;

namespace LoxiLb.Edge5G.Netlink.Sockets;

/// <summary>
/// An eventfd a blocked poll() also watches, so another thread can wake it. Closing a socket
/// does not wake a thread blocked on it, and netlink sockets do not support shutdown().
/// </summary>
internal sealed unsafe class WakeupEvent : SafeHandleMinusOneIsInvalid
{
    public WakeupEvent() : base(ownsHandle: true)
    {
        var fd = NetlinkNative.eventfd(0, NetlinkNative.EFD_CLOEXEC | NetlinkNative.EFD_NONBLOCK);
        if (fd < 0)
            throw new NetlinkException("eventfd", Marshal.GetLastPInvokeError(), "cannot create the wake-up event");
        SetHandle(fd);
    }

    public int Fd => (int)handle;

    /// <summary>Makes the descriptor readable for good (nobody reads it back).</summary>
    public void Signal()
    {
        ulong one = 1;
        NetlinkNative.write(Fd, &one, sizeof(ulong));
    }

    protected override bool ReleaseHandle() => NetlinkNative.close((int)handle) == 0;
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Netlink.Interop;
using LoxiLb.Edge5G.Netlink.Protocol;
using Microsoft.Win32.SafeHandles;

namespace LoxiLb.Edge5G.Netlink.Sockets;

/// <summary>Owns a netlink socket descriptor.</summary>
internal sealed class NetlinkSocketHandle : SafeHandleMinusOneIsInvalid
{
    public NetlinkSocketHandle() : base(ownsHandle: true)
    {
    }

    internal NetlinkSocketHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);

    protected override bool ReleaseHandle() => NetlinkNative.close((int)handle) == 0;
}

/// <summary>
/// An AF_NETLINK/NETLINK_ROUTE socket. The kernel ties a socket to the network namespace of
/// the thread that created it, for its whole life: every request and every notification
/// concerns that namespace, whichever thread later uses the socket. Not thread-safe: the
/// owner serialises calls.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    public delegate void MessageHandler(in NetlinkMessage message);

    private readonly NetlinkSocketHandle _handle;
    private byte[] _buffer = new byte[32 * 1024];
    private uint _sequence;

    private NetlinkSocket(NetlinkSocketHandle handle, uint portId)
    {
        _handle = handle;
        PortId = portId;
    }

    /// <summary>The port id the kernel assigned at bind.</summary>
    public uint PortId { get; }

    /// <summary>
    /// Opens a socket in the calling thread's network namespace. Requests wait at most
    /// <paramref name="replyTimeout"/> for the kernel; <paramref name="groups"/> (RTNLGRP_*) are joined.
    /// </summary>
    public static NetlinkSocket Open(TimeSpan replyTimeout, IEnumerable<int>? groups = null, int receiveBufferBytes = 0)
    {
        var fd = NetlinkNative.socket(NetlinkNative.AF_NETLINK, NetlinkNative.SOCK_RAW | NetlinkNative.SOCK_CLOEXEC, NetlinkNative.NETLINK_ROUTE);
        if (fd < 0)
            throw LastError("socket(AF_NETLINK, NETLINK_ROUTE)", "cannot create a netlink socket");
        var handle = new NetlinkSocketHandle(fd);
        try
        {
            // Replies to failed requests carry the kernel's explanation (extended ack) and not
            // a copy of the request; strict checking rejects requests the kernel would misread.
            SetOption(handle, NetlinkNative.SOL_NETLINK, NetlinkNative.NETLINK_EXT_ACK, 1);
            SetOption(handle, NetlinkNative.SOL_NETLINK, NetlinkNative.NETLINK_CAP_ACK, 1);
            SetOption(handle, NetlinkNative.SOL_NETLINK, NetlinkNative.NETLINK_GET_STRICT_CHK, 1);
            if (receiveBufferBytes > 0)
                SetReceiveBuffer(handle, receiveBufferBytes);
            var timeout = new Timeval
            {
                Seconds = (long)replyTimeout.TotalSeconds,
                Microseconds = replyTimeout.Milliseconds * 1000L + replyTimeout.Microseconds,
            };
            if (NetlinkNative.setsockopt(handle, NetlinkNative.SOL_SOCKET, NetlinkNative.SO_RCVTIMEO, &timeout, (uint)sizeof(Timeval)) != 0)
                throw LastError("setsockopt(SO_RCVTIMEO)", "cannot set the reply timeout");

            var address = new SockaddrNl { Family = NetlinkNative.AF_NETLINK };
            if (NetlinkNative.bind(handle, &address, (uint)sizeof(SockaddrNl)) != 0)
                throw LastError("bind(AF_NETLINK)", "cannot bind the netlink socket");
            foreach (var group in groups ?? [])
                SetOption(handle, NetlinkNative.SOL_NETLINK, NetlinkNative.NETLINK_ADD_MEMBERSHIP, group, $"join rtnetlink group {group}");
            uint length = (uint)sizeof(SockaddrNl);
            if (NetlinkNative.getsockname(handle, &address, &length) != 0)
                throw LastError("getsockname(AF_NETLINK)", "cannot read the assigned port id");
            return new NetlinkSocket(handle, address.PortId);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> (built with NLM_F_ACK, or as a dump) and passes each reply
    /// to <paramref name="onReply"/> until the kernel's acknowledgement or the end of the dump.
    /// A kernel error becomes a <see cref="NetlinkException"/> carrying its errno.
    /// </summary>
    public void Request(Span<byte> request, string operation, MessageHandler? onReply)
    {
        var sequence = ++_sequence;
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
        Send(request, operation);
        while (true)
        {
            var length = Receive(0);
            if (length < 0)
            {
                var errno = (int)-length;
                throw errno == NetlinkNative.EAGAIN
                    ? new NetlinkException(operation, NetlinkNative.ETIMEDOUT, "no reply from the kernel in time")
                    : new NetlinkException(operation, errno, "recv failed");
            }
            foreach (var message in new NetlinkMessageReader(_buffer.AsSpan(0, (int)length), operation))
            {
                // A reply to an earlier request that timed out: not ours any more.
                if (message.Sequence != sequence || message.PortId != PortId)
                    continue;
                switch (message.Type)
                {
                    case Rtnl.NLMSG_ERROR:
                        var (error, text) = ParseError(message);
                        if (error != 0)
                            throw new NetlinkException(operation, error, "the kernel refused the request", text);
                        return; // the acknowledgement ends a request
                    case Rtnl.NLMSG_DONE:
                        // A dump that failed midway says so in the DONE message.
                        if (message.Payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(message.Payload) < 0)
                            throw new NetlinkException(operation, -BinaryPrimitives.ReadInt32LittleEndian(message.Payload), "the dump failed");
                        return;
                    case Rtnl.NLMSG_NOOP:
                        continue;
                    default:
                        onReply?.Invoke(message);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Receives one datagram into <see cref="Received"/> (grown to fit it). Returns its length,
    /// or -errno (EAGAIN when nothing arrived in time or MSG_DONTWAIT found nothing).
    /// </summary>
    public nint Receive(int flags)
    {
        while (true)
        {
            // Peek with MSG_TRUNC to learn the datagram's real size: a short read would
            // silently drop the rest of it.
            nint size;
            fixed (byte* p = _buffer)
                size = NetlinkNative.recv(_handle, p, (nuint)_buffer.Length, flags | NetlinkNative.MSG_PEEK | NetlinkNative.MSG_TRUNC);
            if (size < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == NetlinkNative.EINTR)
                    continue;
                return -errno;
            }
            if (size > _buffer.Length)
                _buffer = new byte[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size)];
            nint got;
            fixed (byte* p = _buffer)
                got = NetlinkNative.recv(_handle, p, (nuint)_buffer.Length, flags | NetlinkNative.MSG_DONTWAIT);
            if (got < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == NetlinkNative.EINTR)
                    continue;
                return -errno;
            }
            Received = _buffer.AsMemory(0, (int)got);
            return got;
        }
    }

    /// <summary>The datagram the last successful <see cref="Receive"/> returned.</summary>
    public ReadOnlyMemory<byte> Received { get; private set; }

    /// <summary>
    /// Blocks until the socket is readable (true) or <paramref name="stopFd"/> is (false), or the
    /// timeout passes (false with <paramref name="timedOut"/> set). -1 waits forever.
    /// </summary>
    public bool WaitReadable(int stopFd, int timeoutMilliseconds, out bool timedOut)
    {
        var added = false;
        _handle.DangerousAddRef(ref added);
        try
        {
            var fds = stackalloc PollFd[2];
            fds[0] = new PollFd { Fd = (int)_handle.DangerousGetHandle(), Events = NetlinkNative.POLLIN };
            fds[1] = new PollFd { Fd = stopFd, Events = NetlinkNative.POLLIN };
            while (true)
            {
                var n = NetlinkNative.poll(fds, 2, timeoutMilliseconds);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == NetlinkNative.EINTR)
                        continue;
                    throw new NetlinkException("poll(netlink socket)", errno, "cannot wait for notifications");
                }
                timedOut = n == 0;
                if (fds[1].Revents != 0)
                    return false;
                return fds[0].Revents != 0;
            }
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
        }
    }

    public void Dispose() => _handle.Dispose();

    private void Send(ReadOnlySpan<byte> request, string operation)
    {
        var kernel = new SockaddrNl { Family = NetlinkNative.AF_NETLINK };
        nint sent;
        fixed (byte* p = request)
        {
            do
                sent = NetlinkNative.sendto(_handle, p, (nuint)request.Length, 0, &kernel, (uint)sizeof(SockaddrNl));
            while (sent < 0 && Marshal.GetLastPInvokeError() == NetlinkNative.EINTR);
        }
        if (sent < 0)
            throw LastError(operation, "sendto failed");
        if (sent != request.Length)
            throw new NetlinkException(operation, NetlinkNative.EMSGSIZE, $"sendto sent {sent} of {request.Length} bytes");
    }

    /// <summary>errno and extended-ack text of an NLMSG_ERROR (0 for an acknowledgement).</summary>
    internal static (int Errno, string? Text) ParseError(in NetlinkMessage message)
    {
        var payload = message.Payload;
        if (payload.Length < 4)
            throw new NetlinkFormatException(message.Operation,
                $"NLMSG_ERROR at byte {message.Offset} has a {payload.Length}-byte payload, its error code needs 4");
        var errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        if ((message.Flags & Rtnl.NLM_F_ACK_TLVS) == 0)
            return (errno, null);
        // The failed request's header (capped) or whole request comes next, then the attributes.
        if (payload.Length < 4 + Rtnl.HeaderLength)
            throw new NetlinkFormatException(message.Operation, $"NLMSG_ERROR at byte {message.Offset} lacks the echoed request header");
        var echoed = (message.Flags & Rtnl.NLM_F_CAPPED) != 0
            ? Rtnl.HeaderLength
            : Rtnl.Align((int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]));
        if (4 + echoed > payload.Length)
            throw new NetlinkFormatException(message.Operation, $"NLMSG_ERROR at byte {message.Offset} echoes {echoed} bytes but holds {payload.Length - 4}");
        string? text = null;
        foreach (var a in new NetlinkAttributeReader(payload[(4 + echoed)..], $"NLMSG_ERROR at byte {message.Offset}", message.Operation))
            if (a.Type == Rtnl.NLMSGERR_ATTR_MSG)
                text = a.String();
        return (errno, text);
    }

    // A notification burst (a link flap withdrawing many routes) must not overflow the socket;
    // SO_RCVBUFFORCE (root) may exceed net.core.rmem_max, SO_RCVBUF is capped by it.
    private static void SetReceiveBuffer(NetlinkSocketHandle handle, int bytes)
    {
        if (NetlinkNative.setsockopt(handle, NetlinkNative.SOL_SOCKET, NetlinkNative.SO_RCVBUFFORCE, &bytes, sizeof(int)) != 0)
            SetOption(handle, NetlinkNative.SOL_SOCKET, NetlinkNative.SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
    }

    private static void SetOption(NetlinkSocketHandle handle, int level, int option, int value, string? operation = null)
    {
        if (NetlinkNative.setsockopt(handle, level, option, &value, sizeof(int)) != 0)
            throw LastError(operation ?? $"setsockopt({level}, {option})", "cannot set a socket option");
    }

    private static NetlinkException LastError(string operation, string detail)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new NetlinkException(operation, errno == 0 ? 5 : errno, detail);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// The node socket's datagrams a batch at a time: recvmmsg(2) takes every request already
/// waiting (blocking only for the first), sendmmsg(2) sends their answers together. Under load
/// that is one syscall per batch each way instead of one per datagram, and a peer waiting for
/// answers is woken once per batch; with one request at a time it costs what recvmsg and
/// sendmsg did. Buffers live in pinned arrays, so the kernel can be given their addresses.
/// </summary>
/// <remarks>Used by the node's receive thread alone.</remarks>
internal sealed unsafe partial class DatagramBatch
{
    /// <summary>Datagrams per batch, each way.</summary>
    public const int MaxDatagrams = 16;
    /// <summary>Every receive slot holds the largest UDP payload: nothing is ever truncated.</summary>
    private const int SlotBytes = 65536;
    private const int SendArenaBytes = 64 * 1024;
    private const int AddressBytes = 28; // sockaddr_in6, the larger of the two

    private readonly byte[] _received = GC.AllocateUninitializedArray<byte>(MaxDatagrams * SlotBytes, pinned: true);
    private readonly byte[] _receivedFrom = GC.AllocateArray<byte>(MaxDatagrams * AddressBytes, pinned: true);
    private readonly Message[] _rx = GC.AllocateArray<Message>(MaxDatagrams, pinned: true);
    private readonly Iovec[] _rxIov = GC.AllocateArray<Iovec>(MaxDatagrams, pinned: true);

    private readonly byte[] _toSend = GC.AllocateUninitializedArray<byte>(SendArenaBytes, pinned: true);
    private readonly byte[] _sendTo = GC.AllocateArray<byte>(MaxDatagrams * AddressBytes, pinned: true);
    private readonly Message[] _tx = GC.AllocateArray<Message>(MaxDatagrams, pinned: true);
    private readonly Iovec[] _txIov = GC.AllocateArray<Iovec>(MaxDatagrams, pinned: true);
    private int _queued, _queuedBytes;

    public DatagramBatch()
    {
        for (int i = 0; i < MaxDatagrams; i++)
            _rxIov[i] = new Iovec { Base = Address(_received, i * SlotBytes), Length = SlotBytes };
    }

    private static byte* Address<T>(T[] pinned, int index) where T : unmanaged =>
        (byte*)Unsafe.AsPointer(ref pinned[index]);

    // ------------------------------------------------------------------ receiving

    /// <summary>
    /// Waits for at least one datagram (up to the socket's receive timeout) and takes every one
    /// already waiting, up to <see cref="MaxDatagrams"/>. Returns how many (0: the timeout).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was closed.</exception>
    /// <exception cref="SocketException">Any other failure.</exception>
    public int Receive(Socket socket)
    {
        for (int i = 0; i < MaxDatagrams; i++)
            _rx[i] = new Message
            {
                Header = new Msghdr
                {
                    Name = Address(_receivedFrom, i * AddressBytes), NameLength = AddressBytes,
                    Iov = (Iovec*)Address(_rxIov, i), IovLength = 1,
                },
            };
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added); // the descriptor stays ours for the call
            while (true)
            {
                var n = recvmmsg((int)handle.DangerousGetHandle(), (Message*)Address(_rx, 0), MaxDatagrams, MsgWaitForOne, null);
                if (n >= 0)
                    return n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                    continue;
                if (errno is EAGAIN)
                    return 0;
                throw new SocketException(errno);
            }
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>Datagram <paramref name="i"/> of the last <see cref="Receive"/>.</summary>
    public Span<byte> Datagram(int i) => _received.AsSpan(i * SlotBytes, (int)_rx[i].Length);

    /// <summary>Copies the sender of datagram <paramref name="i"/> into <paramref name="into"/> (a native sockaddr).</summary>
    public void Sender(int i, SocketAddress into)
    {
        var length = (int)_rx[i].Header.NameLength;
        _receivedFrom.AsSpan(i * AddressBytes, length).CopyTo(into.Buffer.Span);
        into.Size = length;
    }

    // ------------------------------------------------------------------ sending

    public int Queued => _queued;

    /// <summary>Queues a datagram; false when it does not fit (the caller sends it alone).</summary>
    public bool TryQueue(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (_queued == MaxDatagrams || _queuedBytes + datagram.Length > SendArenaBytes || to.Size > AddressBytes)
            return false;
        datagram.CopyTo(_toSend.AsSpan(_queuedBytes));
        to.Buffer.Span[..to.Size].CopyTo(_sendTo.AsSpan(_queued * AddressBytes));
        _txIov[_queued] = new Iovec { Base = Address(_toSend, _queuedBytes), Length = (nuint)datagram.Length };
        _tx[_queued] = new Message
        {
            Header = new Msghdr
            {
                Name = Address(_sendTo, _queued * AddressBytes), NameLength = (uint)to.Size,
                Iov = (Iovec*)Address(_txIov, _queued), IovLength = 1,
            },
        };
        _queuedBytes += datagram.Length;
        _queued++;
        return true;
    }

    /// <summary>
    /// Sends everything queued and empties the queue. Returns how many datagrams could not be
    /// sent (0: all sent). A datagram the kernel refuses (say, to an unreachable peer) is
    /// skipped, not the ones after it: it is lost as a dropped datagram would be, and the peer's
    /// retransmission is answered from the answer cache.
    /// </summary>
    public int Flush(Socket socket)
    {
        var sent = 0;
        var lost = 0;
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            while (sent < _queued)
            {
                var n = sendmmsg((int)handle.DangerousGetHandle(), (Message*)Address(_tx, sent), (uint)(_queued - sent), 0);
                if (n >= 0)
                {
                    sent += n;
                }
                else if (Marshal.GetLastPInvokeError() != EINTR)
                {
                    sent++; // the kernel stops at the first datagram it refuses
                    lost++;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            lost += _queued - sent;
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
            _queued = 0;
            _queuedBytes = 0;
        }
        return lost;
    }

    // ------------------------------------------------------------------ libc

    private const int EINTR = 4, EAGAIN = 11;
    private const int MsgWaitForOne = 0x10000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int recvmmsg(int fd, Message* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sendmmsg(int fd, Message* messages, uint count, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct Iovec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Msghdr
    {
        public byte* Name;
        public uint NameLength;
        public Iovec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr: a message header and the length the kernel moved.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Message
    {
        public Msghdr Header;
        public uint Length;
    }
}

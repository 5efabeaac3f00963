using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>
/// Reads records of a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF) through libbpf and hands
/// each to a callback, on the thread that polls. Records of another size are counted and skipped.
/// </summary>
public sealed unsafe class BpfRingBuffer<TRecord> : IDisposable, RingBufferCallback.ISink where TRecord : unmanaged
{
    private readonly Action<TRecord> _onRecord;
    private readonly BpfFdHandle _map;
    private GCHandle _self;
    private nint _ring;

    public BpfRingBuffer(BpfFdHandle map, Action<TRecord> onRecord)
    {
        _map = map;
        _onRecord = onRecord;
        _self = GCHandle.Alloc(this);
        _ring = LibBpf.ring_buffer__new(map.Fd, RingBufferCallback.Pointer, GCHandle.ToIntPtr(_self), null);
        if (_ring == 0)
        {
            var errno = BpfException.LastErrno();
            _self.Free();
            throw new BpfException("open ring buffer", errno, "ring_buffer__new failed (is the map a BPF_MAP_TYPE_RINGBUF?)");
        }
    }

    /// <summary>Records whose size was not sizeof(TRecord).</summary>
    public long Malformed { get; private set; }

    /// <summary>Waits up to <paramref name="timeout"/> for records and delivers them. Returns how many.</summary>
    public int Poll(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_ring == 0, this);
        var rc = LibBpf.ring_buffer__poll(_ring, (int)timeout.TotalMilliseconds);
        if (rc == -4 /* EINTR */)
            return 0;
        return BpfException.ThrowIfNegative(rc, "poll ring buffer", "ring_buffer__poll failed");
    }

    void RingBufferCallback.ISink.Deliver(void* data, nuint size)
    {
        if ((int)size != sizeof(TRecord))
        {
            Malformed++;
            return;
        }
        _onRecord(*(TRecord*)data);
    }

    public void Dispose()
    {
        if (_ring != 0)
        {
            LibBpf.ring_buffer__free(_ring);
            _ring = 0;
            _self.Free();
        }
        _map.Dispose();
    }
}

/// <summary>The one native callback for all ring buffers (callbacks cannot be generic).</summary>
internal static unsafe class RingBufferCallback
{
    internal interface ISink
    {
        void Deliver(void* data, nuint size);
    }

    internal static delegate* unmanaged<nint, void*, nuint, int> Pointer => &OnSample;

    [UnmanagedCallersOnly]
    private static int OnSample(nint context, void* data, nuint size)
    {
        try
        {
            ((ISink)GCHandle.FromIntPtr(context).Target!).Deliver(data, size);
        }
        catch
        {
            // A failing consumer must not unwind through libbpf.
        }
        return 0;
    }
}

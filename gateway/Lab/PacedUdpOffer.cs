using System.Net;
using System.Net.Sockets;

namespace LoxiLb.Edge5G.Lab;

/// <summary>
/// UDP from a namespace at a fixed rate, paced in the kernel by a tbf qdisc on its device from
/// a queue half a second deep that a sender thread keeps full: a busy machine that stalls the
/// thread does not thin the offer (a user-space pacer did, and a rate check then failed).
/// Dispose stops the sender and removes the qdisc.
/// </summary>
public sealed class PacedUdpOffer : IDisposable
{
    private readonly NetworkNamespace _ns;
    private readonly string _device;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _sender;

    /// <summary>Offers <paramref name="kbps"/> of <paramref name="packetBytes"/>-byte IPv4 packets to <paramref name="target"/>.</summary>
    public PacedUdpOffer(NetworkNamespace ns, string device, IPEndPoint target, ulong kbps, int packetBytes = 1000)
    {
        _ns = ns;
        _device = device;
        ns.Run("tc", "qdisc", "replace", "dev", device, "root", "tbf", "rate", $"{kbps}kbit", "burst", "4kb", "latency", "500ms");
        using (ns.Enter())
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        // Room for the whole queue (SO_SNDBUFFORCE: above net.core.wmem_max, we run as root).
        _socket.SetRawSocketOption(1 /* SOL_SOCKET */, 32 /* SO_SNDBUFFORCE */, BitConverter.GetBytes(4 << 20));
        var payload = new byte[packetBytes - 28]; // IPv4 and UDP headers
        _sender = new Thread(() =>
        {
            while (!_stop.IsCancellationRequested)
                _socket.SendTo(payload, target);
        }) { IsBackground = true, Name = "paced-udp-offer" };
        _sender.Start();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sender.Join();
        _socket.Dispose();
        _stop.Dispose();
        _ns.Run(["tc", "qdisc", "del", "dev", _device, "root"], check: false);
    }
}

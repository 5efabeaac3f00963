using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Gtpu;

namespace LoxiLb.Edge5G.Lab;

/// <summary>A GTP-U packet as received by a simulated node: outer source, the message, when.</summary>
public sealed record ReceivedGtpu(IPEndPoint From, GtpuMessage Message, DateTime At);

/// <summary>
/// A GTP-U endpoint in a lab namespace (a gNB, or a central UPF on N9): a UDP socket on port
/// 2152 created inside the namespace, sending G-PDUs it builds and collecting what arrives.
/// The outer IP/UDP headers come from that namespace's kernel, as a real node's would.
/// </summary>
public sealed class GtpuEndpoint : IDisposable
{
    private readonly Socket _socket;
    private readonly Thread _reader;
    private readonly List<ReceivedGtpu> _received = [];
    private volatile bool _stopping;

    public GtpuEndpoint(NetworkNamespace ns, IPAddress address, Func<GtpuEndpoint, ReceivedGtpu, GtpuMessage?>? respond = null)
    {
        using (ns.Enter())
        {
            _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(new IPEndPoint(address, GtpuMessage.Port));
        }
        _socket.ReceiveTimeout = 200;
        Address = address;
        Respond = respond;
        _reader = new Thread(Read) { IsBackground = true, Name = $"gtpu {address}" };
        _reader.Start();
    }

    public IPAddress Address { get; }

    /// <summary>Answers a received message (e.g. a central UPF echoing pings back over N9).</summary>
    public Func<GtpuEndpoint, ReceivedGtpu, GtpuMessage?>? Respond { get; set; }

    public void Send(IPAddress to, GtpuMessage message) => _socket.SendTo(message.Encode(), new IPEndPoint(to, GtpuMessage.Port));

    public IReadOnlyList<ReceivedGtpu> Received
    {
        get
        {
            lock (_received)
                return _received.ToArray();
        }
    }

    /// <summary>Waits (bounded) until <paramref name="predicate"/> holds for the received list.</summary>
    public bool WaitFor(Func<IReadOnlyList<ReceivedGtpu>, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (predicate(Received))
                return true;
            Thread.Sleep(20);
        }
        return predicate(Received);
    }

    public void Clear()
    {
        lock (_received)
            _received.Clear();
    }

    private void Read()
    {
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(Address.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stopping)
        {
            int n;
            try
            {
                n = _socket.ReceiveFrom(buffer, ref from);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue;
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            GtpuMessage message;
            try
            {
                message = GtpuMessage.Decode(buffer.AsSpan(0, n));
            }
            catch (FormatException)
            {
                continue;
            }
            var received = new ReceivedGtpu((IPEndPoint)from, message, DateTime.UtcNow);
            lock (_received)
                _received.Add(received);
            if (Respond?.Invoke(this, received) is { } reply)
                _socket.SendTo(reply.Encode(), received.From);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _reader.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
    }
}

/// <summary>Small IPv4 packets the simulated UEs send, built byte by byte (RFC 791/792/768).</summary>
public static class UePackets
{
    public static byte[] IcmpEchoRequest(IPAddress src, IPAddress dst, ushort id, ushort sequence, int payload = 56) =>
        Ipv4(src, dst, 1, Icmp(8, id, sequence, payload));

    public static byte[] Udp(IPAddress src, IPAddress dst, ushort sport, ushort dport, byte[] data)
    {
        var udp = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        data.CopyTo(udp, 8);
        // UDP checksum over the pseudo-header.
        var pseudo = new byte[12 + udp.Length];
        src.GetAddressBytes().CopyTo(pseudo, 0);
        dst.GetAddressBytes().CopyTo(pseudo, 4);
        pseudo[9] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)udp.Length);
        udp.CopyTo(pseudo, 12);
        var sum = Gtpu.InetChecksum.Compute(pseudo);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xffff : sum);
        return Ipv4(src, dst, 17, udp);
    }

    private static byte[] Icmp(byte type, ushort id, ushort sequence, int payload)
    {
        var icmp = new byte[8 + payload];
        icmp[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), sequence);
        for (int i = 0; i < payload; i++)
            icmp[8 + i] = (byte)i;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Gtpu.InetChecksum.Compute(icmp));
        return icmp;
    }

    public static byte[] Ipv4(IPAddress src, IPAddress dst, byte protocol, byte[] payload, byte ttl = 64)
    {
        var ip = new byte[20 + payload.Length];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        ip[8] = ttl;
        ip[9] = protocol;
        src.GetAddressBytes().CopyTo(ip, 12);
        dst.GetAddressBytes().CopyTo(ip, 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Gtpu.InetChecksum.Compute(ip.AsSpan(0, 20)));
        payload.CopyTo(ip, 20);
        return ip;
    }

    /// <summary>Fields of an inner IPv4 packet: protocol, source, destination, and the ICMP type or UDP ports.</summary>
    public static (byte Protocol, IPAddress Source, IPAddress Destination, int TypeOrSourcePort, int DestinationPort, byte Ttl) Describe(byte[] ip)
    {
        var ihl = (ip[0] & 0x0f) * 4;
        var proto = ip[9];
        var src = new IPAddress(ip.AsSpan(12, 4));
        var dst = new IPAddress(ip.AsSpan(16, 4));
        return proto switch
        {
            1 => (proto, src, dst, ip[ihl], 0, ip[8]),
            17 => (proto, src, dst, BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(ihl)), BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(ihl + 2)), ip[8]),
            _ => (proto, src, dst, 0, 0, ip[8]),
        };
    }
}

/// <summary>A UDP echo server in a lab namespace (the data network's application).</summary>
public sealed class UdpEchoServer : IDisposable
{
    private readonly Socket _socket;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public UdpEchoServer(NetworkNamespace ns, IPEndPoint endpoint)
    {
        using (ns.Enter())
        {
            _socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(endpoint);
        }
        _socket.ReceiveTimeout = 200;
        _thread = new Thread(() =>
        {
            var buffer = new byte[65536];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            while (!_stopping)
            {
                try
                {
                    var n = _socket.ReceiveFrom(buffer, ref from);
                    Echoed++;
                    _socket.SendTo(buffer.AsSpan(0, n), from);
                }
                catch (SocketException)
                {
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        }) { IsBackground = true, Name = "udp echo" };
        _thread.Start();
    }

    public int Echoed { get; private set; }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
    }
}

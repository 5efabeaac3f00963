using System.Net;
using System.Net.Sockets;

namespace LoxiLb.Edge5G.Gtpu;

/// <summary>
/// How GTP-U paths are watched (TS 29.281 7.2.1, TS 23.527 4.3): an Echo Request to each peer
/// every <see cref="Interval"/>; unanswered after <see cref="ResponseTimeout"/> it is sent again,
/// and after <see cref="Retries"/> unanswered sends the path has failed.
/// </summary>
public sealed record GtpuPathOptions(TimeSpan Interval, TimeSpan ResponseTimeout, int Retries)
{
    public static GtpuPathOptions Default { get; } = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(3), 3);
}

/// <summary>A path as <see cref="GtpuPathMonitor"/> holds it.</summary>
public sealed record GtpuPathInfo(IPAddress Peer, bool Failed, DateTimeOffset? LastAnswer);

/// <summary>
/// Watches the GTP-U paths to our peers (gNBs, other UPFs: the remote ends of the tunnels the
/// sessions use) with Echo Requests from our GTP-U address. A path that stops answering is
/// reported once as failed, and once as recovered when it answers again, so the SMF can be told
/// (PFCP Node Report). The requests leave from an ephemeral UDP port: a peer answers to the
/// request's source port (TS 29.281 7.2.2), which is not GTP-U to the datapath, so the answer
/// reaches this monitor's socket through the kernel stack, and UDP 2152 stays with the
/// datapath and the node's End Markers.
/// </summary>
public sealed class GtpuPathMonitor : IDisposable
{
    private readonly Func<IEnumerable<IPAddress>> _peers;
    private readonly GtpuPathOptions _options;
    private readonly Action<IPAddress> _failed, _recovered;
    private readonly TimeProvider _time;
    private readonly Dictionary<AddressFamily, Socket> _sockets = [];
    private readonly Dictionary<IPAddress, Path> _paths = [];
    private readonly object _gate = new();
    private readonly List<Thread> _threads = [];
    private ushort _sequence;
    private volatile bool _stopping;
    private HashSet<IPAddress> _wanted = [];
    private long _peersAskedAt = long.MinValue;

    private sealed class Path
    {
        public long NextProbe;
        public ushort? Outstanding;
        public long SentAt;
        public int Attempts;
        public bool Failed;
        public DateTimeOffset? LastAnswer;
    }

    /// <param name="locals">Our GTP-U addresses the requests leave from (one per family is used).</param>
    /// <param name="peers">The peers to watch, asked again at every tick.</param>
    public GtpuPathMonitor(IEnumerable<IPAddress> locals, Func<IEnumerable<IPAddress>> peers, GtpuPathOptions options,
        Action<IPAddress> failed, Action<IPAddress> recovered, TimeProvider? time = null, int port = 0)
    {
        if (options.Interval <= TimeSpan.Zero || options.ResponseTimeout <= TimeSpan.Zero || options.Retries < 1)
            throw new ArgumentException($"GTP-U path options need a positive interval and timeout and at least one send: {options}", nameof(options));
        _peers = peers;
        _options = options;
        _failed = failed;
        _recovered = recovered;
        _time = time ?? TimeProvider.System;
        foreach (var local in locals)
        {
            if (_sockets.ContainsKey(local.AddressFamily))
                continue;
            var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 200 };
            try
            {
                socket.Bind(new IPEndPoint(local, port));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                Dispose();
                throw new InvalidOperationException($"GTP-U path monitor: cannot bind {local}:{port} ({e.SocketErrorCode})", e);
            }
            _sockets[local.AddressFamily] = socket;
        }
    }

    /// <summary>How often the peer list is asked for again: the interval, at most 10 s.</summary>
    public TimeSpan PeerRefresh => _options.Interval < TimeSpan.FromSeconds(10) ? _options.Interval : TimeSpan.FromSeconds(10);

    public long EchoRequestsSent { get; private set; }
    public long EchoResponsesReceived { get; private set; }

    public IReadOnlyList<GtpuPathInfo> Paths()
    {
        lock (_gate)
            return _paths.Select(p => new GtpuPathInfo(p.Key, p.Value.Failed, p.Value.LastAnswer)).OrderBy(p => p.Peer.ToString()).ToArray();
    }

    /// <summary>Starts the receive threads and the timer thread (one tick every 100 ms).</summary>
    public void Start()
    {
        foreach (var socket in _sockets.Values)
            _threads.Add(new Thread(() => Receive(socket)) { IsBackground = true, Name = "gtpu echo receive" });
        _threads.Add(new Thread(() =>
        {
            while (!_stopping)
            {
                Tick();
                Thread.Sleep(100);
            }
        }) { IsBackground = true, Name = "gtpu path timer" });
        foreach (var t in _threads)
            t.Start();
    }

    /// <summary>Sends what is due and judges what timed out (public for tests).</summary>
    public void Tick()
    {
        var failed = new List<IPAddress>();
        var now = _time.GetTimestamp();
        // The peer list walks every session: asked at most every PeerRefresh, not every tick.
        if (_peersAskedAt == long.MinValue || _time.GetElapsedTime(_peersAskedAt, now) >= PeerRefresh)
        {
            _wanted = _peers().Where(p => _sockets.ContainsKey(p.AddressFamily)).ToHashSet();
            _peersAskedAt = now;
        }
        var wanted = _wanted;
        lock (_gate)
        {
            foreach (var gone in _paths.Keys.Where(p => !wanted.Contains(p)).ToArray())
                _paths.Remove(gone);
            foreach (var peer in wanted)
            {
                // A new peer was just given by the SMF: its first probe waits one interval.
                if (!_paths.TryGetValue(peer, out var path))
                    _paths[peer] = path = new Path { NextProbe = now + Ticks(_options.Interval) };
                if (path.Outstanding is not null && _time.GetElapsedTime(path.SentAt, now) >= _options.ResponseTimeout)
                {
                    if (path.Attempts < _options.Retries)
                    {
                        Send(peer, path, now, path.Attempts + 1);
                        continue;
                    }
                    path.Outstanding = null;
                    path.NextProbe = now + Ticks(_options.Interval);
                    if (!path.Failed)
                    {
                        path.Failed = true;
                        failed.Add(peer);
                    }
                }
                if (path.Outstanding is null && now >= path.NextProbe)
                    Send(peer, path, now, 1);
            }
        }
        foreach (var peer in failed)
            _failed(peer);
    }

    /// <summary>Takes an Echo Response from <paramref name="from"/> (public for tests).</summary>
    public void Answer(IPAddress from, ReadOnlySpan<byte> datagram)
    {
        GtpuMessage message;
        try
        {
            message = GtpuMessage.Decode(datagram);
        }
        catch (FormatException)
        {
            return;
        }
        if (message.Type != GtpuMessageType.EchoResponse || message.Sequence is not { } sequence)
            return;
        var recovered = false;
        lock (_gate)
        {
            if (!_paths.TryGetValue(from, out var path) || path.Outstanding != sequence)
                return;
            EchoResponsesReceived++;
            path.Outstanding = null;
            path.LastAnswer = _time.GetUtcNow();
            path.NextProbe = _time.GetTimestamp() + Ticks(_options.Interval);
            recovered = path.Failed;
            path.Failed = false;
        }
        if (recovered)
            _recovered(from);
    }

    /// <summary>Sends the path's Echo Request: a new sequence number for a first attempt, the
    /// same one for a retransmission (TS 29.281 7.2.1, as TS 29.060 7.6).</summary>
    private void Send(IPAddress peer, Path path, long now, int attempt)
    {
        var sequence = attempt == 1 || path.Outstanding is not { } current ? ++_sequence : current;
        path.Outstanding = sequence;
        path.SentAt = now;
        path.Attempts = attempt;
        EchoRequestsSent++;
        try
        {
            _sockets[peer.AddressFamily].SendTo(GtpuMessage.EchoRequest(sequence).Encode(), new IPEndPoint(peer, 2152));
        }
        catch (SocketException)
        {
            // No route or neighbour now: the request counts as unanswered.
        }
    }

    private void Receive(Socket socket)
    {
        var buffer = new byte[2048];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stopping)
        {
            try
            {
                var from = any;
                var n = socket.ReceiveFrom(buffer, ref from);
                Answer(((IPEndPoint)from).Address, buffer.AsSpan(0, n));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionReset)
            {
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    public void Dispose()
    {
        _stopping = true;
        foreach (var t in _threads)
            t.Join(TimeSpan.FromSeconds(2));
        foreach (var s in _sockets.Values)
            s.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Gtpu;

namespace LoxiLb.Edge5G.Tests.GtpuPath; // not .Gtpu: that would hide LoxiLb.Edge5G.Gtpu from the other tests

/// <summary>
/// GTP-U path management against a peer on loopback that answers Echo Requests the way
/// TS 29.281 7.2.2 says (to the request's source port, same sequence number) until told not to.
/// </summary>
public class GtpuPathMonitorTests
{
    internal static readonly GtpuPathOptions Fast = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(150), 2);

    /// <summary>A GTP-U peer on UDP 2152 that answers Echo Requests until told not to.</summary>
    internal sealed class Peer : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 100 };
        private readonly Thread _thread;
        private volatile bool _stopping;

        public Peer(IPAddress address)
        {
            Address = address;
            _socket.Bind(new IPEndPoint(address, GtpuMessage.Port));
            _thread = new Thread(Serve) { IsBackground = true };
            _thread.Start();
        }

        public IPAddress Address { get; }
        public volatile bool Answering = true;
        public ConcurrentQueue<GtpuMessage> Requests { get; } = new();

        private void Serve()
        {
            var buffer = new byte[2048];
            while (!_stopping)
            {
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n;
                try
                {
                    n = _socket.ReceiveFrom(buffer, ref from);
                }
                catch (SocketException)
                {
                    continue;
                }
                var request = GtpuMessage.Decode(buffer.AsSpan(0, n));
                Requests.Enqueue(request);
                if (Answering && request.Type == GtpuMessageType.EchoRequest)
                    _socket.SendTo(new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 0], Sequence: request.Sequence).Encode(), from);
            }
        }

        public void Dispose()
        {
            _stopping = true;
            _thread.Join();
            _socket.Dispose();
        }
    }

    internal static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
                return true;
            Thread.Sleep(20);
        }
        return condition();
    }

    [Fact]
    public void APeerThatStopsAnswering_IsReportedFailedOnce_AndRecoveredOnceWhenItAnswersAgain()
    {
        using var peer = new Peer(IPAddress.Parse("127.0.0.42"));
        var failed = new ConcurrentQueue<IPAddress>();
        var recovered = new ConcurrentQueue<IPAddress>();
        using var monitor = new GtpuPathMonitor([IPAddress.Loopback], () => [peer.Address], Fast, failed.Enqueue, recovered.Enqueue);
        monitor.Start();

        Assert.True(Eventually(() => monitor.EchoResponsesReceived >= 2, TimeSpan.FromSeconds(5)), "no answers counted");
        Assert.Empty(failed);
        var path = Assert.Single(monitor.Paths());
        Assert.False(path.Failed);
        Assert.NotNull(path.LastAnswer);

        peer.Answering = false;
        Assert.True(Eventually(() => !failed.IsEmpty, TimeSpan.FromSeconds(5)), "the silent path was not reported");
        Thread.Sleep(3 * Fast.Interval); // still silent: reported once, not at every probe
        Assert.Equal([peer.Address], failed.ToArray());
        Assert.True(monitor.Paths()[0].Failed);
        Assert.Empty(recovered);

        peer.Answering = true;
        Assert.True(Eventually(() => !recovered.IsEmpty, TimeSpan.FromSeconds(5)), "the path answering again was not reported");
        Thread.Sleep(2 * Fast.Interval);
        Assert.Equal([peer.Address], recovered.ToArray());
        Assert.Equal([peer.Address], failed.ToArray());
        Assert.False(monitor.Paths()[0].Failed);
    }

    [Fact]
    public void UnansweredRequests_AreRetransmittedWithTheirSequenceNumber_RetriesTimesInAll()
    {
        using var peer = new Peer(IPAddress.Parse("127.0.0.43")) { Answering = false };
        var failed = new ConcurrentQueue<IPAddress>();
        using var monitor = new GtpuPathMonitor([IPAddress.Loopback], () => [peer.Address], Fast with { Retries = 3 }, failed.Enqueue, _ => { });
        monitor.Start();

        Assert.True(Eventually(() => !failed.IsEmpty, TimeSpan.FromSeconds(5)), "the silent path was not reported");

        var first = peer.Requests.Take(3).ToArray();
        Assert.Equal(3, first.Length);
        Assert.All(first, r => Assert.Equal(GtpuMessageType.EchoRequest, r.Type));
        Assert.Single(first.Select(r => r.Sequence).Distinct()); // one request, sent three times
    }

    [Fact]
    public void APeerNoSessionUsesAnyMore_IsNoLongerProbed()
    {
        using var peer = new Peer(IPAddress.Parse("127.0.0.44"));
        var peers = new[] { peer.Address };
        using var monitor = new GtpuPathMonitor([IPAddress.Loopback], () => peers, Fast, _ => { }, _ => { });
        monitor.Start();
        Assert.True(Eventually(() => monitor.EchoResponsesReceived >= 1, TimeSpan.FromSeconds(5)));

        peers = [];
        Assert.True(Eventually(() => monitor.Paths().Count == 0, TimeSpan.FromSeconds(5)));
        var sent = peer.Requests.Count;
        Thread.Sleep(3 * Fast.Interval);
        Assert.Equal(sent, peer.Requests.Count);
    }

    [Fact]
    public void ATimingThatCannotWork_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new GtpuPathMonitor([IPAddress.Loopback], () => [], Fast with { Retries = 0 }, _ => { }, _ => { }));
        Assert.Throws<ArgumentException>(() => new GtpuPathMonitor([IPAddress.Loopback], () => [], Fast with { Interval = TimeSpan.Zero }, _ => { }, _ => { }));
    }
}

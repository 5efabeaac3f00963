using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Pfcp.Node;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

/// <summary>
/// The node's receive thread takes waiting datagrams with recvmmsg and sends answers with
/// sendmmsg: every datagram whole, each with its own sender, answers in order to their peers.
/// </summary>
public class DatagramBatchTests
{
    private static Socket Bound(int receiveTimeoutMs = 2000)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        s.Blocking = true;
        s.ReceiveTimeout = receiveTimeoutMs;
        return s;
    }

    private static byte[] Payload(int marker, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)(marker + i);
        return bytes;
    }

    [Fact]
    public void WaitingDatagrams_AreTakenABatchAtATime_WholeAndWithTheirSenders()
    {
        using var node = Bound();
        using var a = Bound();
        using var b = Bound();
        var total = DatagramBatch.MaxDatagrams + 4;
        for (int i = 0; i < total; i++)
            (i % 2 == 0 ? a : b).SendTo(Payload(i, 20 + i), node.LocalEndPoint!);
        // The largest datagram fits too: a receive slot is never smaller than a UDP payload.
        a.SendTo(Payload(7, 60_000), node.LocalEndPoint!);

        var batch = new DatagramBatch();
        var address = new SocketAddress(AddressFamily.InterNetwork);
        var any = new IPEndPoint(IPAddress.Any, 0);
        var seen = new List<(byte[] Bytes, IPEndPoint From)>();
        var batches = new List<int>();
        while (seen.Count < total + 1)
        {
            var n = batch.Receive(node);
            batches.Add(n);
            for (int i = 0; i < n; i++)
            {
                batch.Sender(i, address);
                seen.Add((batch.Datagram(i).ToArray(), (IPEndPoint)any.Create(address)));
            }
        }

        for (int i = 0; i < total; i++)
        {
            Assert.Equal(Payload(i, 20 + i), seen[i].Bytes);
            Assert.Equal((i % 2 == 0 ? a : b).LocalEndPoint, seen[i].From);
        }
        Assert.Equal(Payload(7, 60_000), seen[^1].Bytes);
        // Loopback delivers during the send: all were waiting, so the first call took a full batch.
        Assert.Equal([DatagramBatch.MaxDatagrams, 5], batches);
    }

    [Fact]
    public void QueuedAnswers_LeaveInOrder_EachToItsPeer_AndAFullQueueRefusesMore()
    {
        using var node = Bound();
        using var a = Bound();
        using var b = Bound();
        var batch = new DatagramBatch();
        for (int i = 0; i < DatagramBatch.MaxDatagrams; i++)
            Assert.True(batch.TryQueue(Payload(i, 30), (i % 2 == 0 ? a : b).LocalEndPoint!.Serialize()));
        Assert.False(batch.TryQueue(Payload(99, 30), a.LocalEndPoint!.Serialize())); // full: sent alone by the caller
        Assert.Equal(DatagramBatch.MaxDatagrams, batch.Queued);

        Assert.Equal(0, batch.Flush(node));
        Assert.Equal(0, batch.Queued);

        var buffer = new byte[100];
        for (int i = 0; i < DatagramBatch.MaxDatagrams; i++)
        {
            var n = (i % 2 == 0 ? a : b).Receive(buffer);
            Assert.Equal(Payload(i, 30), buffer[..n]);
        }
        Assert.Equal(0, a.Available + b.Available);
    }

    /// <summary>A datagram the kernel refuses is counted lost; the ones after it still go.</summary>
    [Fact]
    public void ADatagramTheKernelRefuses_IsSkipped_AndTheRestAreSent()
    {
        using var node = Bound();
        using var a = Bound();
        using var b = Bound();
        var batch = new DatagramBatch();
        Assert.True(batch.TryQueue(Payload(1, 10), a.LocalEndPoint!.Serialize()));
        Assert.True(batch.TryQueue(Payload(2, 10), new IPEndPoint(IPAddress.Loopback, 0).Serialize())); // port 0: EINVAL
        Assert.True(batch.TryQueue(Payload(3, 10), b.LocalEndPoint!.Serialize()));

        Assert.Equal(1, batch.Flush(node));

        var buffer = new byte[100];
        Assert.Equal(Payload(1, 10), buffer[..a.Receive(buffer)]);
        Assert.Equal(Payload(3, 10), buffer[..b.Receive(buffer)]);
    }

    [Fact]
    public void AnswersLargerThanTheQueueHolds_AreRefused()
    {
        using var a = Bound();
        var batch = new DatagramBatch();
        Assert.True(batch.TryQueue(new byte[40_000], a.LocalEndPoint!.Serialize()));
        Assert.False(batch.TryQueue(new byte[40_000], a.LocalEndPoint!.Serialize()));
        Assert.Equal(1, batch.Queued);
    }

    [Fact]
    public void NothingArriving_IsZeroAfterTheTimeout_AndAClosedSocketIsObjectDisposed()
    {
        var node = Bound(receiveTimeoutMs: 100);
        var batch = new DatagramBatch();
        Assert.Equal(0, batch.Receive(node));
        node.Dispose();
        Assert.Throws<ObjectDisposedException>(() => batch.Receive(node));
    }
}

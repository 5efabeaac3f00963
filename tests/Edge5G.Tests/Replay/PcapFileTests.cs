using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Replay;

public class PcapFileTests
{
    [Fact]
    public void WrittenFrames_ReadBack_ByteForByte_WithTheirTimestamps()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edge5g-{Guid.NewGuid():N}.pcap");
        var t0 = new DateTime(2026, 11, 26, 5, 0, 0, DateTimeKind.Utc);
        var frames = new[]
        {
            new PcapFrame(TestPackets.Udp4("192.0.2.1", "192.0.2.2", 1, 2, [1, 2, 3]), t0, LinkLayers.Ethernet),
            new PcapFrame(TestPackets.Udp4("192.0.2.2", "192.0.2.1", 2, 1, new byte[100]), t0.AddMilliseconds(1.5), LinkLayers.Ethernet),
        };
        try
        {
            PcapFile.Write(path, frames);
            var read = PcapFile.Read(path);
            Assert.Equal(2, read.Count);
            for (int i = 0; i < frames.Length; i++)
            {
                PacketAssert.Equal(frames[i].Data, read[i].Data);
                Assert.Equal(frames[i].Timestamp, read[i].Timestamp.ToUniversalTime());
                Assert.Equal(LinkLayers.Ethernet, read[i].LinkType);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingCapture_Throws_NamingThePath()
    {
        var e = Assert.Throws<FileNotFoundException>(() => PcapFile.Read("/nonexistent/in.pcap"));
        Assert.Contains("/nonexistent/in.pcap", e.Message);
    }
}

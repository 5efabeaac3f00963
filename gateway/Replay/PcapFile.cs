using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;

namespace LoxiLb.Edge5G.Replay;

/// <summary>One frame of a capture: bytes, timestamp and link type.</summary>
public sealed record PcapFrame(byte[] Data, DateTime Timestamp, LinkLayers LinkType);

/// <summary>Reads and writes pcap/pcapng files through SharpPcap (libpcap).</summary>
public static class PcapFile
{
    public static IReadOnlyList<PcapFrame> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"capture file '{path}' does not exist", path);
        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        var frames = new List<PcapFrame>();
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var raw = capture.GetPacket();
            frames.Add(new PcapFrame(raw.Data, raw.Timeval.Date, raw.LinkLayerType));
        }
        return frames;
    }

    /// <summary>Writes Ethernet frames to a pcap file (replacing it).</summary>
    public static void Write(string path, IEnumerable<PcapFrame> frames)
    {
        using var device = new CaptureFileWriterDevice(path, FileMode.Create);
        device.Open(new DeviceConfiguration { LinkLayerType = LinkLayers.Ethernet });
        foreach (var frame in frames)
            device.Write(new RawCapture(frame.LinkType, new PosixTimeval(frame.Timestamp), frame.Data));
    }
}

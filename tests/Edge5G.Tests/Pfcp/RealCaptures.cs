using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>
/// PFCP datagrams (UDP port 8805) from the real captures in ../shared/pcaps-real. The captures
/// stay there (their licences forbid copying them into the repository); INDEX.tsv lists, per
/// capture, how many PFCP messages of each type Wireshark counted.
/// </summary>
public static class RealCaptures
{
    public const int PfcpPort = 8805;

    public static string Directory => Path.Combine(RepoPaths.Shared, "pcaps-real");

    public static bool Available => File.Exists(Path.Combine(Directory, "INDEX.tsv"));

    /// <summary>Fails under CI (CI=true) when the captures are missing; skips elsewhere.</summary>
    public static void RequireOrSkip()
    {
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!Available && ci)
            Assert.Fail($"real captures are missing at {Directory} (required when CI=true)");
        Skip.IfNot(Available, $"real captures not found at {Directory}");
    }

    /// <summary>Captures whose INDEX row counts PFCP messages, with those counts by message type.</summary>
    public static IReadOnlyList<CaptureEntry> WithPfcp()
    {
        var entries = new List<CaptureEntry>();
        foreach (var line in File.ReadLines(Path.Combine(Directory, "INDEX.tsv")).Skip(1))
        {
            var columns = line.Split('\t');
            if (columns.Length < 7)
                continue;
            var contents = columns[6];
            int at = contents.IndexOf("[PFCP msg_type:count ", StringComparison.Ordinal);
            if (at < 0)
                continue;
            var counts = contents[(at + "[PFCP msg_type:count ".Length)..].TrimEnd(']', ' ')
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split(':'))
                .ToDictionary(p => byte.Parse(p[0]), p => int.Parse(p[1]));
            entries.Add(new CaptureEntry(columns[0], counts));
        }
        return entries;
    }

    private static readonly Dictionary<string, IReadOnlyList<CapturedDatagram>> Cache = [];

    /// <summary>
    /// UDP payloads to or from port 8805, in capture order (read once per test run), including
    /// the ones quoted back inside ICMP errors (Wireshark counts those too; they may be cut short).
    /// </summary>
    public static IReadOnlyList<CapturedDatagram> PfcpDatagrams(string file)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(file, out var cached))
                return cached;
            var datagrams = new List<CapturedDatagram>();
            foreach (var frame in PcapFile.Read(Path.Combine(Directory, file)))
            {
                var packet = Packet.ParsePacket(frame.LinkType, frame.Data);
                if (packet.Extract<IcmpV4Packet>() is { } icmp)
                {
                    if (QuotedUdp(icmp.PayloadData) is { } quoted && IsPfcp(quoted))
                        datagrams.Add(new CapturedDatagram(quoted.PayloadData ?? [], QuotedInIcmp: true));
                }
                else if (packet.Extract<UdpPacket>() is { } udp && IsPfcp(udp))
                {
                    datagrams.Add(new CapturedDatagram(udp.PayloadData, QuotedInIcmp: false));
                }
            }
            Cache[file] = datagrams;
            return datagrams;
        }
    }

    private static bool IsPfcp(UdpPacket udp) => udp.SourcePort == PfcpPort || udp.DestinationPort == PfcpPort;

    private static UdpPacket? QuotedUdp(byte[]? quotedIp)
    {
        if (quotedIp is null || quotedIp.Length < 28 || quotedIp[0] >> 4 != 4 || quotedIp[9] != 17)
            return null;
        try
        {
            return new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(quotedIp)).Extract<UdpPacket>();
        }
        catch (Exception)
        {
            return null;
        }
    }
}

/// <summary>One PFCP datagram from a capture; <see cref="QuotedInIcmp"/> marks the copy inside an ICMP error.</summary>
public sealed record CapturedDatagram(byte[] Payload, bool QuotedInIcmp);

public sealed record CaptureEntry(string File, IReadOnlyDictionary<byte, int> MessageCounts)
{
    public int TotalMessages => MessageCounts.Values.Sum();
    public override string ToString() => File;
}

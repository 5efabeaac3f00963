using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Replay;

/// <summary>
/// The benchmark frames of ../shared/bench through the real program, against another datapath's
/// outputs for them (peer-out-*.pcap). They are byte for byte the same but where we chose
/// otherwise: we route the inner packet, so its TTL goes down by one (RFC 1812 5.3.1) and its
/// header checksum with it; the peer forwards it unchanged.
/// </summary>
public class BenchPeerOutputTests
{
    private static string BenchDirectory => Path.Combine(RepoPaths.Shared, "bench");

    [SkippableTheory]
    [InlineData("uplink-psc", "ul-gtpu-psc-qfi9-udp64", "peer-out-ul-decap", 14)]
    [InlineData("downlink-ipv4", "dl-ipv4-udp64", "peer-out-dl-encap", 14 + 20 + 8 + 16)]
    [InlineData("echo", "echo-req", "peer-out-echo-resp", null)]
    public void BenchFrame_IsThePeersOutput_ButForTheInnerTtlWeDecrement(string rules, string input, string peerOutput, int? innerIpOffset)
    {
        Privileged.Require();
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var peerFile = Path.Combine(BenchDirectory, peerOutput + ".pcap");
        if (ci)
            Assert.True(File.Exists(peerFile), $"benchmark packets are missing at {BenchDirectory} (required when CI=true)");
        Skip.IfNot(File.Exists(peerFile), $"benchmark packets not found at {BenchDirectory}");

        var result = ReplayRunner.Run(RulesDocument.Load(Path.Combine(RepoPaths.Pcaps, rules, "rules.json")),
            PcapFile.Read(Path.Combine(BenchDirectory, input + ".pcap")));

        var frame = Assert.Single(result.Frames);
        Assert.Equal(XdpAction.Tx, frame.Verdict);
        var expected = Assert.Single(PcapFile.Read(peerFile)).Data;
        if (innerIpOffset is { } at)
            DecrementTtl(expected, at);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(frame.Output!));
    }

    /// <summary>TTL minus one and the IPv4 header checksum recomputed, for the header at <paramref name="at"/>.</summary>
    private static void DecrementTtl(byte[] frame, int at)
    {
        Assert.Equal(0x45, frame[at]);
        frame[at + 8]--;
        frame[at + 10] = frame[at + 11] = 0;
        uint sum = 0;
        for (int i = 0; i < 20; i += 2)
            sum += (uint)(frame[at + i] << 8 | frame[at + i + 1]);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        frame[at + 10] = (byte)(~sum >> 8);
        frame[at + 11] = (byte)~sum;
    }
}

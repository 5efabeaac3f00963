using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Replay;
using PacketDotNet;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// Frames through Wireshark's dissectors: written to a temporary pcap, read back with
/// <c>tshark -T fields</c>, one row per frame (field name to value; several occurrences
/// comma-separated, outermost first).
/// </summary>
public static class TsharkFields
{
    public static List<Dictionary<string, string>> Read(string tshark, IReadOnlyList<byte[]> frames, IReadOnlyList<string> fields,
        IReadOnlyList<string>? options = null)
    {
        var file = Path.Combine(Path.GetTempPath(), $"edge5g-tshark-{Guid.NewGuid():N}.pcap");
        try
        {
            var at = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            PcapFile.Write(file, [.. frames.Select((f, i) => new PcapFrame(f, at.AddMilliseconds(i), LinkLayers.Ethernet))]);
            var fieldsOut = Run(tshark, ["-r", file, .. options ?? [], "-T", "fields", "-E", "header=y", "-E", "separator=/t", "-E", "occurrence=a",
                "-E", "aggregator=,", .. fields.SelectMany(f => new[] { "-e", f })]);
            var lines = fieldsOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == frames.Count + 1, $"tshark printed {lines.Length - 1} frames for {frames.Count}:\n{fieldsOut}");
            var names = lines[0].Split('\t');
            return [.. lines.Skip(1).Select(l =>
            {
                var values = l.Split('\t');
                return names.Select((name, i) => (name, value: i < values.Length ? values[i] : "")).ToDictionary(p => p.name, p => p.value);
            })];
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The same frame's verbose tree and expert summary (<c>-V -z expert</c>).</summary>
    public static string Verbose(string tshark, byte[] frame, IReadOnlyList<string>? options = null)
    {
        var file = Path.Combine(Path.GetTempPath(), $"edge5g-tshark-{Guid.NewGuid():N}.pcap");
        try
        {
            PcapFile.Write(file, [new PcapFrame(frame, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), LinkLayers.Ethernet)]);
            return Run(tshark, ["-r", file, .. options ?? [], "-V", "-z", "expert"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Run(string tshark, string[] arguments)
    {
        var result = ProcessRunner.Run(tshark, arguments, TimeSpan.FromSeconds(60), check: false);
        Assert.True(result.Succeeded, $"{result.CommandLine} exited with {result.ExitCode}: {result.StandardError}");
        return result.StandardOutput;
    }
}

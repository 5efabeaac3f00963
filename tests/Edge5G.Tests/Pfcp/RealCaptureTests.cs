using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Messages;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp;

public class RealCaptureTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void EveryPfcpMessageInTheRealCaptures_Decodes_AndReencodesByteForByte()
    {
        RealCaptures.RequireOrSkip();
        var captures = RealCaptures.WithPfcp();
        Assert.NotEmpty(captures);
        var failures = new List<string>();
        foreach (var capture in captures)
        {
            var byType = new Dictionary<byte, int>();
            int decoded = 0, quoted = 0;
            foreach (var datagram in RealCaptures.PfcpDatagrams(capture.File))
            {
                var bytes = datagram.Payload;
                byType[bytes[1]] = byType.GetValueOrDefault(bytes[1]) + 1;
                var outcome = PfcpCodec.Decode(bytes);
                if (datagram.QuotedInIcmp)
                {
                    // ICMP errors quote the start of a datagram: complete or cut short, never a crash.
                    quoted++;
                    if (outcome is not (PfcpDecoded or PfcpDropped { Reason: PfcpDropReason.LengthExceedsDatagram }))
                        failures.Add($"{capture.File}: ICMP-quoted datagram gave {outcome}");
                    continue;
                }
                if (outcome is not PfcpDecoded message)
                {
                    failures.Add($"{capture.File}: {outcome}");
                    continue;
                }
                decoded++;
                if (!message.Message.Encode().AsSpan().SequenceEqual(bytes))
                    failures.Add($"{capture.File}: {message.Header.MessageType} seq {message.Header.SequenceNumber} re-encodes differently");
                if (message.Body is UnmodeledMessage)
                    failures.Add($"{capture.File}: {message.Header.MessageType} has no typed model");
            }
            output.WriteLine($"{capture.File}: {decoded} decoded, {quoted} ICMP-quoted [{string.Join(" ", byType.OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}"))}]");
            Assert.Equal(capture.MessageCounts.OrderBy(p => p.Key), byType.OrderBy(p => p.Key));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

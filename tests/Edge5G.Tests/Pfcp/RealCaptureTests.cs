using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
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

    [SkippableFact]
    public void EveryTypedLeafIeInTheRealCaptures_ReencodesToItsOriginalOctets()
    {
        RealCaptures.RequireOrSkip();
        var seen = new Dictionary<IeType, int>();
        var failures = new List<string>();
        foreach (var message in DecodedMessages())
        {
            foreach (var ie in Flatten(message.Message.Ies).Where(ie => LeafIes.IsTyped(ie.Type)))
            {
                var type = (IeType)ie.Type;
                seen[type] = seen.GetValueOrDefault(type) + 1;
                var again = LeafIes.Encode(type, LeafIes.Decode(ie));
                if (again != ie)
                    failures.Add($"{ie.Name}: {ie.Value} re-encoded as {again.Value}");
            }
        }
        output.WriteLine(string.Join(", ", seen.OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}")));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct().Take(40)));
        Assert.True(seen.Count >= 40, $"expected the captures to exercise at least 40 typed IE types, saw {seen.Count}");
    }

    [SkippableFact]
    public void EveryTypedMessageInTheRealCaptures_SurvivesEncodeDecode_AsAnEqualRecord()
    {
        RealCaptures.RequireOrSkip();
        int checkedMessages = 0;
        foreach (var message in DecodedMessages())
        {
            var header = message.Header with { FollowOn = false };
            var reencoded = PfcpCodec.Encode(header, message.Body);
            var again = Assert.IsType<PfcpDecoded>(PfcpCodec.Decode(reencoded));
            Assert.Equal(message.Body, again.Body);
            Assert.Equal(header, again.Header);
            checkedMessages++;
        }
        Assert.True(checkedMessages > 500, $"only {checkedMessages} messages checked");
    }

    private static IEnumerable<PfcpDecoded> DecodedMessages() =>
        RealCaptures.WithPfcp()
            .SelectMany(capture => RealCaptures.PfcpDatagrams(capture.File))
            .Where(datagram => !datagram.QuotedInIcmp)
            .Select(datagram => PfcpCodec.Decode(datagram.Payload))
            .OfType<PfcpDecoded>();

    private static IEnumerable<PfcpIe> Flatten(IEnumerable<PfcpIe> ies) =>
        ies.SelectMany(ie => ie.Children is { } children ? Flatten(children).Prepend(ie) : [ie]);
}

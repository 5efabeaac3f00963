using System.Buffers.Binary;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Messages;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp;

/// <summary>
/// Mutates valid messages (real captures when present, plus the typed samples) with a fixed seed
/// and checks the decoder's promises on every result: no exception, no decoder fault, and any
/// message it accepts re-encodes byte for byte and survives a typed round trip.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 0x5F4E4;
    private const int Mutations = 30_000;

    private static List<byte[]> Corpus()
    {
        var corpus = new List<byte[]>();
        foreach (var body in NodeMessageTests.NodeBodies())
            corpus.Add(PfcpCodec.Encode(body, 1));
        foreach (var body in SessionMessageTests.SessionBodies())
            corpus.Add(PfcpCodec.Encode(body, 1, seid: 7));
        if (RealCaptures.Available)
            foreach (var capture in RealCaptures.WithPfcp())
                corpus.AddRange(RealCaptures.PfcpDatagrams(capture.File).Where(d => !d.QuotedInIcmp).Select(d => d.Payload));
        return corpus;
    }

    [Fact]
    public void MutatedMessages_NeverThrow_AndWhatDecodes_ReencodesExactly()
    {
        var corpus = Corpus();
        var random = new Random(Seed);
        var tally = new Dictionary<string, int>();
        for (int i = 0; i < Mutations; i++)
        {
            var original = corpus[random.Next(corpus.Count)];
            var mutated = Mutate(original, corpus, random);
            PfcpDecodeOutcome outcome;
            try
            {
                outcome = PfcpCodec.Decode(mutated);
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(mutated)}");
                return;
            }
            string kind = outcome switch
            {
                PfcpDecoded => "decoded",
                PfcpRejected r => $"rejected:{r.Cause}",
                PfcpDropped d => $"dropped:{d.Reason}",
                _ => outcome.GetType().Name,
            };
            tally[kind] = tally.GetValueOrDefault(kind) + 1;
            if (outcome is PfcpDropped { Reason: PfcpDropReason.DecoderFault } fault)
                Assert.Fail($"mutation {i}: decoder fault {fault.Detail}\n{Convert.ToHexString(mutated)}");
            if (outcome is PfcpDecoded decoded)
                CheckRoundTrips(decoded, mutated, i);
        }
        output.WriteLine(string.Join("\n", tally.OrderByDescending(p => p.Value).Select(p => $"{p.Key}: {p.Value}")));
        Assert.True(tally.GetValueOrDefault("decoded") > Mutations / 20, "too few mutations still decode to exercise the round trips");
    }

    private static void CheckRoundTrips(PfcpDecoded decoded, byte[] datagram, int i)
    {
        var generic = decoded.Message.Encode();
        Assert.True(datagram.AsSpan().StartsWith(generic), $"mutation {i}: generic re-encoding differs\n{Convert.ToHexString(datagram)}");

        var header = decoded.Header with { FollowOn = false };
        byte[] typed;
        try
        {
            typed = PfcpCodec.Encode(header, decoded.Body);
        }
        catch (Exception e)
        {
            Assert.Fail($"mutation {i}: a decoded {decoded.Body.MessageType} cannot be re-encoded: {e.Message}\n{Convert.ToHexString(datagram)}");
            return;
        }
        var again = PfcpCodec.Decode(typed);
        Assert.True(again is PfcpDecoded d && Equals(d.Body, decoded.Body),
            $"mutation {i}: typed round trip gave {again}\n{Convert.ToHexString(datagram)}");
    }

    private static byte[] Mutate(byte[] original, List<byte[]> corpus, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(7))
        {
            case 0: // flip a few bits
                for (int n = random.Next(1, 4); n > 0; n--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1: // overwrite a byte
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 2: // cut short
                return bytes[..random.Next(bytes.Length)];
            case 3: // rewrite a 16-bit field (often a length), keeping the header length honest half the time
                if (bytes.Length > 18)
                {
                    int at = random.Next(16, bytes.Length - 1);
                    BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at), (ushort)random.Next(0, 300));
                }
                return bytes;
            case 4: // insert random octets and fix the message length
                {
                    int at = random.Next(Math.Min(16, bytes.Length), bytes.Length + 1);
                    var extra = new byte[random.Next(1, 12)];
                    random.NextBytes(extra);
                    byte[] grown = [.. bytes[..at], .. extra, .. bytes[at..]];
                    if (grown.Length >= 4)
                        BinaryPrimitives.WriteUInt16BigEndian(grown.AsSpan(2), (ushort)(grown.Length - 4));
                    return grown;
                }
            case 5: // graft the IEs of another message
                {
                    var other = corpus[random.Next(corpus.Count)];
                    int headerLength = (bytes[0] & 1) != 0 ? 16 : 8;
                    int otherHeader = (other[0] & 1) != 0 ? 16 : 8;
                    if (bytes.Length < headerLength || other.Length < otherHeader)
                        return bytes;
                    byte[] grafted = [.. bytes[..headerLength], .. other[otherHeader..]];
                    BinaryPrimitives.WriteUInt16BigEndian(grafted.AsSpan(2), (ushort)(grafted.Length - 4));
                    return grafted;
                }
            default: // change the message type
                bytes[1] = (byte)random.Next(0, 60);
                return bytes;
        }
    }
}

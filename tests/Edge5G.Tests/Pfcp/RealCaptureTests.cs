using LoxiLb.Edge5G.Pfcp;
using System.Net;
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

    [SkippableFact]
    public void ExternalSmfEstablishesASessionOnTheBisdnUpf_ReadsAsWiresharkShowsIt()
    {
        RealCaptures.RequireOrSkip();
        var messages = RealCaptures.PfcpDatagrams("bisdn__pfcpcore/tc1__tc1.pcap")
            .Select(d => PfcpCodec.Decode(d.Payload)).OfType<PfcpDecoded>().ToList();

        var request = messages.Select(m => m.Body).OfType<SessionEstablishmentRequest>().Single();
        Assert.Equal("620b55cf891b93e8d253fcfaaaaaaaac : customer1", request.NodeId.Fqdn!.Text);
        Assert.Equal(new FSeid(1, IPAddress.Parse("162.118.51.1")), request.CpFSeid);
        Assert.Equal(PdnType.Ipv4, request.PdnType);

        var uplink = request.CreatePdrs[0];
        Assert.Equal((ushort)0, uplink.PdrId);
        Assert.Equal(40u, uplink.Precedence);
        Assert.Equal(SourceInterface.Access, uplink.Pdi.SourceInterface);
        Assert.Equal(FTeid.Of(1, IPAddress.Parse("162.117.255.201")), uplink.Pdi.LocalFTeid);
        Assert.Equal(OuterHeaderRemovalDescription.GtpuUdpIpv4, uplink.OuterHeaderRemoval!.Description);

        var downlink = request.CreatePdrs[1];
        Assert.Equal((ushort)32768, downlink.PdrId);
        Assert.Equal(SourceInterface.Core, downlink.Pdi.SourceInterface);
        Assert.Equal(IPAddress.Parse("14.0.0.2"), downlink.Pdi.UeIpAddress!.Ipv4);

        Assert.Equal([DestinationInterface.Core, DestinationInterface.Access],
            request.CreateFars.Select(f => f.ForwardingParameters!.DestinationInterface));
        Assert.All(request.CreateQers, qer =>
        {
            Assert.Equal(new BitRate(10_000_000, 10_000_000), qer.Mbr);
            Assert.Equal(new BitRate(5_000_000, 5_000_000), qer.Gbr);
        });

        // The UPF answers with the MP flag set, to the SMF's SEID 1.
        var response = messages.Single(m => m.Body is SessionEstablishmentResponse);
        Assert.Equal(1UL, response.Header.Seid);
        Assert.NotNull(response.Header.MessagePriority);
        Assert.Equal(PfcpCause.RequestAccepted, ((SessionEstablishmentResponse)response.Body).Cause);
    }
}

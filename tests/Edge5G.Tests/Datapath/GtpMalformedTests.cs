using System.Buffers.Binary;
using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Model;
using LoxiLb.Edge5G.Gtpu;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;
using PacketDotNet;
using static LoxiLb.Edge5G.Tests.Support.GtpFrames;
using static LoxiLb.Edge5G.Tests.Support.RawGtpu;
using static LoxiLb.Edge5G.Tests.Support.TestSessions;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// The malformed-input matrix of the GTP-U program: what is the stack's (PASS), what is broken
/// GTP-U to us (DROP_MALFORMED / DROP_UNSUPPORTED), and the odd but valid frames that must still
/// be forwarded exactly. Every case asserts the verdict, the exact output where a frame leaves
/// or is passed, and that exactly one reason counter moved by this one frame.
/// </summary>
public class GtpMalformedTests
{

    // ---------- not ours: the stack's business ----------

    public static TheoryData<string> HeaderStacks =>
    [
        "IPv4 over Ethernet",
        "IPv4 with 8 octets of options",
        "IPv6 over Ethernet",
        "IPv4 over 802.1Q",
        "IPv6 over 802.1ad",
        "IPv4 over QinQ",
    ];

    /// <summary>
    /// A frame cut at every length from the bare Ethernet header (the shortest BPF_PROG_TEST_RUN
    /// accepts) to the last octet of the UDP header: nothing recognisable, so the stack gets it.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(HeaderStacks))]
    public void FrameCutAnywhereInsideItsEthernetVlanIpOrUdpHeader_GoesToTheStackUnchanged(string stack)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var outer = new OuterFrame { Payload = GPduFor(Uplink4()) } with
        {
            Source = stack.StartsWith("IPv6", StringComparison.Ordinal) ? Gnbv6 : Gnb,
            Destination = stack.StartsWith("IPv6", StringComparison.Ordinal) ? N3v6 : N3,
            Ipv4Options = stack.Contains("options", StringComparison.Ordinal) ? [1, 1, 1, 1, 1, 1, 1, 0] : [],
            VlanTpid = stack.EndsWith("802.1Q", StringComparison.Ordinal) || stack.EndsWith("QinQ", StringComparison.Ordinal) ? OuterFrame.Dot1Q
                : stack.EndsWith("802.1ad", StringComparison.Ordinal) ? OuterFrame.Dot1Ad : null,
            ServiceVlanId = stack.EndsWith("QinQ", StringComparison.Ordinal) ? (ushort)200 : null,
        };
        var whole = outer.Build();

        for (int length = 14; length < outer.UdpOffset + 8; length++)
        {
            var frame = whole[..length];
            var stats = new StatSnapshot(h);

            var run = h.Run(frame);

            Assert.True(run.Verdict == XdpAction.Pass, $"{stack} cut at {length} octets: {run.Verdict}");
            PacketAssert.Equal(frame, run.Output);
            stats.AssertOnly(DatapathStat.PassNotOurs, length, $"{stack} cut at {length} octets");
        }
    }

    [SkippableTheory]
    [InlineData("198.51.100.99")]
    [InlineData("2001:db8:3::99")]
    public void GtpuToAnAddressThatIsNotOurs_IsRoutedByTheStack_Untouched(string destination)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var dst = IPAddress.Parse(destination);
        var frame = new OuterFrame
        {
            Source = dst.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? Gnbv6 : Gnb,
            Destination = dst,
            Payload = GPduFor(Uplink4()),
        }.Build();

        AssertPassedUnchanged(h, frame, DatapathStat.PassNotOurs);
    }

    [SkippableFact]
    public void UdpToOurAddressOnAnotherPort_IsTheStacksBusiness()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = new OuterFrame { DestinationPort = 2123, Payload = GPduFor(Uplink4()) }.Build();

        AssertPassedUnchanged(h, frame, DatapathStat.PassNotOurs);
    }

    // ---------- outer fragments: the stack reassembles ----------

    public static TheoryData<string, OuterFrame> OuterFragments => new()
    {
        { "IPv4 first fragment (MF, offset 0)", new OuterFrame { Ipv4Fragment = 0x2000 } },
        { "IPv4 middle fragment (MF, offset 185)", new OuterFrame { Ipv4Fragment = 0x2000 | 185 } },
        { "IPv4 last fragment (offset 185)", new OuterFrame { Ipv4Fragment = 185 } },
        { "IPv4 last fragment with DF (offset 1)", new OuterFrame { Ipv4Fragment = 0x4000 | 1 } },
        { "IPv6 first fragment (M, offset 0)", new OuterFrame { Source = Gnbv6, Destination = N3v6, Ipv6Fragment = (0, true) } },
        { "IPv6 last fragment (offset 185)", new OuterFrame { Source = Gnbv6, Destination = N3v6, Ipv6Fragment = (185, false) } },
        { "IPv6 atomic fragment (offset 0, no M)", new OuterFrame { Source = Gnbv6, Destination = N3v6, Ipv6Fragment = (0, false) } },
    };

    [SkippableTheory]
    [MemberData(nameof(OuterFragments))]
    public void OuterFragmentOfGtpuToUs_GoesToTheStackForReassembly(string fragment, OuterFrame outer)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = (outer with { Payload = GPduFor(Uplink4()) }).Build();

        AssertPassedUnchanged(h, frame, DatapathStat.PassFragment, fragment);
    }

    [SkippableFact]
    public void OuterIpv6FragmentBehindAHopByHopHeader_IsStillCountedAsOurFragment()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic(gnb: Gnbv6));
        var frame = new OuterFrame { Source = Gnbv6, Destination = N3v6, Ipv6HopByHop = true, Ipv6Fragment = (0, true), Payload = GPduFor(Uplink4()) }.Build();

        AssertPassedUnchanged(h, frame, DatapathStat.PassFragment);
    }

    [SkippableFact]
    public void OuterFragmentToAnAddressThatIsNotOurs_IsNotCountedAsOurFragment()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var frame = new OuterFrame { Destination = IPAddress.Parse("198.51.100.99"), Ipv4Fragment = 0x2000, Payload = GPduFor(Uplink4()) }.Build();

        AssertPassedUnchanged(h, frame, DatapathStat.PassNotOurs);
    }

    [SkippableFact]
    public void OuterIpv4WithOnlyDontFragmentSet_IsWholeAndIsDecapsulated()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();

        AssertDecapsulated(h, new OuterFrame { Ipv4Fragment = 0x4000, Payload = GPduFor(inner) }.Build(), inner);
    }

    // ---------- broken GTP-U to us: DROP_MALFORMED ----------

    public static TheoryData<string, bool> Transports => new()
    {
        { "IPv4", false }, { "IPv4", true }, { "IPv6", false }, { "IPv6", true },
    };

    /// <summary>A UDP datagram to 2152 (lengths consistent) whose GTP-U header stops after 0..7 octets.</summary>
    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void GtpuHeaderShorterThanItsEightMandatoryOctets_IsMalformed(string transport, bool ethernetPadding)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var header = Message(Version1 | PT, GPdu, UplinkTeid, [], lengthField: 0);

        for (int octets = 0; octets < 8; octets++)
        {
            var frame = Padded(To(transport, header[..octets]).Build(), ethernetPadding);
            AssertDropped(h, frame, DatapathStat.DropMalformed, $"{transport}, {octets} GTP-U octets{(ethernetPadding ? ", padded" : "")}");
        }
    }

    /// <summary>E, S or PN set: the 4 optional octets must follow; a message stopping after 8..11 octets is broken.</summary>
    [SkippableTheory]
    [InlineData("E", E)]
    [InlineData("S", S)]
    [InlineData("PN", PN)]
    [InlineData("E+S+PN", E | S | PN)]
    public void OptionalOctetsAnnouncedByEOrSOrPn_ButCutShort_AreMalformed(string flags, byte flag)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());

        foreach (var padding in new[] { false, true })
            for (int octets = 8; octets < 12; octets++)
            {
                var message = Message((byte)(Version1 | PT | flag), GPdu, UplinkTeid, Optional(7, 0, 0)[..(octets - 8)]);
                var frame = Padded(new OuterFrame { Payload = message }.Build(), padding);
                AssertDropped(h, frame, DatapathStat.DropMalformed, $"{flags}, {octets} octets{(padding ? ", padded" : "")}");
            }
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(2)] // GTPv2-C sent to the user plane port
    [InlineData(3)]
    [InlineData(7)]
    public void GtpVersionOtherThan1_IsMalformed(int version)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var message = GPduFor(Uplink4());
        message[0] = (byte)((version << 5) | (message[0] & 0x1f));

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropMalformed);
    }

    [SkippableFact]
    public void ProtocolTypeZero_GtpPrime_IsMalformed()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var message = GPduFor(Uplink4());
        message[0] &= unchecked((byte)~PT);

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropMalformed);
    }

    [SkippableTheory]
    [InlineData("IPv4", -1)]
    [InlineData("IPv4", 1)]
    [InlineData("IPv4", -8)]
    [InlineData("IPv4", 1000)]
    [InlineData("IPv6", -1)]
    [InlineData("IPv6", 1)]
    public void GtpLengthFieldDisagreeingWithTheUdpPayload_IsMalformed(string transport, int delta)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(SessionFor(transport));
        var message = GPduFor(Uplink4());
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)(message.Length - 8 + delta));

        AssertDropped(h, To(transport, message).Build(), DatapathStat.DropMalformed);
    }

    public static TheoryData<string, OuterFrame> BrokenOuterLengths => new()
    {
        { "IPv4: UDP length 1 more than the IP payload", new OuterFrame { UdpLength = 8 + GPduFor(Uplink4()).Length + 1 } },
        { "IPv4: UDP length 100 more than the IP payload", new OuterFrame { UdpLength = 8 + GPduFor(Uplink4()).Length + 100 } },
        { "IPv4: IP total length 1 short of the UDP datagram", new OuterFrame { IpLengthDelta = -1 } },
        { "IPv4: UDP length less than the UDP and GTP-U headers", new OuterFrame { UdpLength = 15 } },
        { "IPv4: UDP length 1 less than the IP payload (GTP-U length no longer fits)", new OuterFrame { UdpLength = 8 + GPduFor(Uplink4()).Length - 1 } },
        { "IPv4: IP total length 1 more than the frame", new OuterFrame { IpLengthDelta = 1 } },
        { "IPv4: IP total length 1000 more than the frame", new OuterFrame { IpLengthDelta = 1000 } },
        { "IPv4: IP total length 0", new OuterFrame { IpLengthDelta = -(20 + 8 + GPduFor(Uplink4()).Length) } },
        { "IPv6: UDP length 1 more than the IP payload", new OuterFrame { Source = Gnbv6, Destination = N3v6, UdpLength = 8 + GPduFor(Uplink4()).Length + 1 } },
        { "IPv6: IP payload length 1 more than the frame", new OuterFrame { Source = Gnbv6, Destination = N3v6, IpLengthDelta = 1 } },
        { "IPv6: IP payload length 65535", new OuterFrame { Source = Gnbv6, Destination = N3v6, IpLengthDelta = 65535 - 8 - GPduFor(Uplink4()).Length } },
    };

    [SkippableTheory]
    [MemberData(nameof(BrokenOuterLengths))]
    public void OuterLengthsThatDoNotNest_UdpInIpInFrame_AreMalformed(string broken, OuterFrame outer)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(SessionFor(outer.IsIpv6 ? "IPv6" : "IPv4"));
        var frame = (outer with { Payload = GPduFor(Uplink4()) }).Build();

        AssertDropped(h, frame, DatapathStat.DropMalformed, broken);
    }

    // ---------- extension headers ----------

    public static TheoryData<string, byte[]> BrokenExtensionChains => new()
    {
        { "extension header of length 0",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, PscType), [0, 0x10, 9, 0], Uplink4().Bytes)) },
        { "extension header of length 0 after a valid one",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, 0x01), Extension(0, 0, PscType), [0, 0x10, 9, 0], Uplink4().Bytes)) },
        { "5 extension headers (more than GTP_MAX_EXT_HEADERS = 4)",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, 0x01), Chain(0x01, 0x02, 0x03, 0x04, PscType), Uplink4().Bytes)) },
        { "extension header of 2 units with only 1 unit left in the message",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, PscType), [2, 0x10, 9, 0])) },
        { "extension header of 255 units in a short message",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, 0x01), [255, 0, 0, 0], Uplink4().Bytes)) },
        { "E announces an extension but the message ends after the optional octets",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Optional(0, 0, PscType)) },
        { "the last extension names a next one that is not there",
            Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, PscType), UplinkContainer(9, next: 0x01))) },
    };

    [SkippableTheory]
    [MemberData(nameof(BrokenExtensionChains))]
    public void BrokenExtensionHeaderChain_IsMalformed(string broken, byte[] message)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropMalformed, broken);
    }

    [SkippableFact]
    public void FourExtensionHeaders_TheMostTheDatapathWalks_AreStillDecapsulated()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();
        var message = Message(Version1 | PT | E, GPdu, UplinkTeid,
            Concat(Optional(0, 0, 0x01), Chain(0x01, 0x02, 0x03, PscType), inner.Bytes));

        AssertDecapsulated(h, new OuterFrame { Payload = message }.Build(), inner);
    }

    [SkippableTheory]
    [InlineData(0x86)] // "comprehension required by the endpoint" (bits 8..7 = 10)
    [InlineData(0x8f)]
    [InlineData(0xc1)] // "comprehension required by every receiver" (11)
    [InlineData(0xfe)]
    public void UnknownExtensionHeaderThatMustBeUnderstood_IsUnsupported(byte type)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var message = Message(Version1 | PT | E, GPdu, UplinkTeid,
            Concat(Optional(0, 0, PscType), UplinkContainer(9, next: type), Extension(0, 0, 0), Uplink4().Bytes));

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropUnsupported);
    }

    [SkippableTheory]
    [InlineData(0x01)] // unknown, comprehension not required (bits 8..7 = 00)
    [InlineData(0x41)] // unknown, not required, "discard the extension" (01)
    [InlineData(0x7f)]
    [InlineData(0x20)] // Service Class Indicator
    [InlineData(0x40)] // UDP Port
    [InlineData(0x81)] // RAN Container
    [InlineData(0x82)] // Long PDCP PDU Number
    [InlineData(0x83)] // Xw RAN Container
    [InlineData(0x84)] // NR RAN Container
    [InlineData(0xc0)] // PDCP PDU Number
    public void ExtensionHeaderTheDatapathNeedNotUnderstand_IsSteppedOver(byte type)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();
        var message = Message(Version1 | PT | E, GPdu, UplinkTeid,
            Concat(Optional(0, 0, type), Extension(0, 0, PscType), UplinkContainer(9), inner.Bytes));

        AssertDecapsulated(h, new OuterFrame { Payload = message }.Build(), inner);
    }

    /// <summary>
    /// An extension header may be 255 units (1020 octets) long (TS 29.281 5.2.1); one the datapath
    /// need not understand is stepped over whatever its length.
    /// </summary>
    [SkippableTheory]
    [InlineData(16)]
    [InlineData(200)]
    public void LongExtensionHeaderTheDatapathNeedNotUnderstand_IsSteppedOver(int units)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();

        AssertDecapsulated(h, new OuterFrame { Payload = WithLongExtension(inner, units) }.Build(), inner);
    }

    [SkippableFact]
    public void LongestPossibleExtensionHeader_255Units_IsSteppedOver()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();

        AssertDecapsulated(h, new OuterFrame { Payload = WithLongExtension(inner, 255) }.Build(), inner);
    }

    // ---------- message types ----------

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(3)]   // Version Not Supported: GTPv1-C only
    [InlineData(16)]  // Create PDP Context Request (GTPv1-C) on the user plane port
    [InlineData(100)]
    [InlineData(253)]
    public void UnknownMessageType_IsUnsupported(byte type)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var message = GPduFor(Uplink4());
        message[1] = type;

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropUnsupported);
    }

    // ---------- the inner packet ----------

    public static TheoryData<string, byte[]> InnerPacketsThatAreNotIp
    {
        get
        {
            var data = new TheoryData<string, byte[]>();
            foreach (var version in new[] { 0, 1, 5, 7, 15 })
            {
                var bytes = Uplink4().Bytes;
                bytes[0] = (byte)((version << 4) | 5);
                data.Add($"IP version {version}", bytes);
            }
            data.Add("IPv4 with IHL 4", Patch(Uplink4().Bytes, 0, 0x44));
            data.Add("no inner packet at all", []);
            data.Add("3 octets", [0x45, 0, 0]);
            data.Add("IPv6 header cut at 39 octets", InnerUdp6(Uev6, Serverv6, 1, 2).Bytes[..39]);
            return data;
        }
    }

    [SkippableTheory]
    [MemberData(nameof(InnerPacketsThatAreNotIp))]
    public void GPduWhosePayloadIsNotAnIpPacket_IsMalformed(string what, byte[] payload)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());

        AssertDropped(h, new OuterFrame { Payload = GtpuMessage.GPdu(UplinkTeid, payload).Encode() }.Build(), DatapathStat.DropMalformed, what);
    }

    public static TheoryData<string, byte[]> InnerPacketsLongerThanThePayload => new()
    {
        { "IPv4 total length 1 more than the G-PDU payload", WithIpv4TotalLength(Uplink4().Bytes, Uplink4().Bytes.Length + 1) },
        { "IPv4 total length 65535", WithIpv4TotalLength(Uplink4().Bytes, 65535) },
        { "IPv6 payload length 1 more than the G-PDU payload", WithIpv6PayloadLength(Uplink6().Bytes, Uplink6().Bytes.Length - 40 + 1) },
        { "IPv6 payload length 1000", WithIpv6PayloadLength(Uplink6().Bytes, 1000) },
    };

    [SkippableTheory]
    [MemberData(nameof(InnerPacketsLongerThanThePayload))]
    public void InnerPacketLongerThanTheGPduPayload_IsMalformed(string what, byte[] inner)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(DualStack());

        AssertDropped(h, new OuterFrame { Payload = GtpuMessage.GPdu(UplinkTeid, inner, 9).Encode() }.Build(), DatapathStat.DropMalformed, what);
    }

    public static TheoryData<string, byte[]> InnerIpv6PayloadLengthsPast16Bits => new()
    {
        { "IPv6 payload length 65535", WithIpv6PayloadLength(Uplink6().Bytes, 65535) },
        { "IPv6 payload length 65496 (40 + 65496 = 0 in 16 bits)", WithIpv6PayloadLength(Uplink6().Bytes, 65496) },
    };

    /// <summary>An inner IPv6 payload length near 65535 claims far more than the G-PDU holds.</summary>
    [SkippableTheory]
    [MemberData(nameof(InnerIpv6PayloadLengthsPast16Bits))]
    public void InnerIpv6WhosePayloadLengthIsNearTheMaximum_IsMalformed_NotForwardedTruncated(string what, byte[] inner)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(DualStack());

        AssertDropped(h, new OuterFrame { Payload = GtpuMessage.GPdu(UplinkTeid, inner, 9).Encode() }.Build(), DatapathStat.DropMalformed, what);
    }

    public static TheoryData<string, byte[]> InnerIpv4TotalLengthsShorterThanTheHeader => new()
    {
        { "IPv4 total length 0", WithIpv4TotalLength(Uplink4().Bytes, 0) },
        { "IPv4 total length 19", WithIpv4TotalLength(Uplink4().Bytes, 19) },
        { "IPv4 with IHL 6 and total length 20", WithIpv4TotalLength(Patch(Uplink4().Bytes, 0, 0x46), 20) },
    };

    [SkippableTheory]
    [MemberData(nameof(InnerIpv4TotalLengthsShorterThanTheHeader))]
    public void InnerIpv4WhoseTotalLengthIsShorterThanItsHeader_IsMalformed(string what, byte[] inner)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());

        AssertDropped(h, new OuterFrame { Payload = GtpuMessage.GPdu(UplinkTeid, inner, 9).Encode() }.Build(), DatapathStat.DropMalformed, what);
    }

    /// <summary>GTP-U in GTP-U: the datapath takes off exactly one tunnel; the inner tunnel is the data network's business.</summary>
    [SkippableFact]
    public void GPduCarryingAnotherGtpuPacket_IsDecapsulatedOnlyOnce()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var tunnelled = GtpuMessage.GPdu(UplinkTeid, InnerUdp4(Ue, LocalServer, 1, 2).Bytes, 9).Encode();
        var udp = new UdpPacket(2152, 2152) { PayloadData = tunnelled };
        var inner = new IPv4Packet(Ue, N3) { TimeToLive = 64, Id = 7, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        inner.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        inner.UpdateIPChecksum();

        AssertDecapsulated(h, Uplink(UplinkTeid, inner, qfi: 9), inner);
    }

    // ---------- every flag combination, odd but valid headers ----------

    public static TheoryData<string, ushort?, byte?, bool> FlagCombinations => new()
    {
        { "none", null, null, false },
        { "PN", null, 0x5a, false },
        { "S", 0x1234, null, false },
        { "S+PN", 0x1234, 0x5a, false },
        { "E", null, null, true },
        { "E+PN", null, 0x5a, true },
        { "E+S", 0x1234, null, true },
        { "E+S+PN", 0xffff, 0xff, true },
    };

    [SkippableTheory]
    [MemberData(nameof(FlagCombinations))]
    public void GPduWithAnyCombinationOfEAndSAndPn_IsDecapsulated(string flags, ushort? sequence, byte? npdu, bool container)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();
        var message = new GtpuMessage(GtpuMessageType.GPdu, UplinkTeid, inner.Bytes, sequence, npdu,
            container ? new PduSessionContainer(PduSessionContainer.Uplink, 9) : null).Encode();
        Assert.Equal(Version1 | PT | (container ? E : 0) | (sequence is null ? 0 : S) | (npdu is null ? 0 : PN), message[0]);

        AssertDecapsulated(h, new OuterFrame { Payload = message }.Build(), inner, flags);
    }

    /// <summary>With E clear the next-extension octet is not evaluated (TS 29.281 5.1), whatever it says.</summary>
    [SkippableTheory]
    [InlineData(S, PscType)]
    [InlineData(PN, 0xfe)]
    [InlineData(S | PN, 0x01)]
    public void NextExtensionOctetWithEClear_IsIgnored(byte flag, byte nextExtension)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();
        var message = Message((byte)(Version1 | PT | flag), GPdu, UplinkTeid, Concat(Optional(1, 2, nextExtension), inner.Bytes));

        AssertDecapsulated(h, new OuterFrame { Payload = message }.Build(), inner);
    }

    [SkippableFact]
    public void SpareFlagBitSet_IsIgnored()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();
        var message = GPduFor(inner);
        message[0] |= 0x08;

        AssertDecapsulated(h, new OuterFrame { Payload = message }.Build(), inner);
    }

    public static TheoryData<int> Ihls => [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    [SkippableTheory]
    [MemberData(nameof(Ihls))]
    public void OuterIpv4WithOptions_IsParsedPastThem_AndDecapsulated(int ihl)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = Uplink4();
        // NOPs, then End of Option List.
        var options = Enumerable.Repeat((byte)1, (ihl - 5) * 4 - 1).Append((byte)0).ToArray();

        AssertDecapsulated(h, new OuterFrame { Ipv4Options = options, Payload = GPduFor(inner) }.Build(), inner);
    }

    [SkippableTheory]
    [InlineData("IPv4", OuterFrame.Dot1Q)]
    [InlineData("IPv4", OuterFrame.Dot1Ad)]
    [InlineData("IPv6", OuterFrame.Dot1Q)]
    [InlineData("IPv6", OuterFrame.Dot1Ad)]
    public void VlanTaggedGPdu_IsDecapsulated_AndLeavesUntagged(string transport, ushort tpid)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(SessionFor(transport));
        var inner = Uplink4();

        AssertDecapsulated(h, (To(transport, GPduFor(inner)) with { VlanTpid = tpid }).Build(), inner);
    }

    // ---------- Ethernet padding ----------

    [SkippableTheory]
    [InlineData(60)]   // the Ethernet minimum
    [InlineData(1514)] // far more than the IP packet
    public void UplinkGPduWithEthernetPadding_LeavesWithoutThePadding(int frameLength)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var inner = InnerUdp4(Ue, RemoteServer, 1, 2, payload: 0);

        AssertDecapsulated(h, new OuterFrame { Payload = GPduFor(inner), PadTo = frameLength }.Build(), inner);
    }

    [SkippableFact]
    public void DownlinkPacketWithEthernetPadding_IsEncapsulatedWithoutThePadding()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var packet = InnerUdp4(LocalServer, Ue, 5001, 40000, payload: 4);
        var frame = PadTo(Ethernet(RouterMac, GatewayMac, packet), 60);
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, Forwarded(packet), qfi: 9), run.Output);
        stats.AssertOnly(DatapathStat.ForwardDownlink, frame.Length);
    }

    [SkippableFact]
    public void UplinkReencapsulatedOverN9_WithEthernetPadding_LeavesWithoutThePadding()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var inner = InnerUdp4(Ue, RemoteServer, 40000, 443, payload: 0);
        var frame = PadTo(Uplink(UplinkTeid, inner, qfi: 9), 200);
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, CentralUpfMac, N3, CentralUpf, CentralTeid, Forwarded(inner), 9, PduSessionContainer.Uplink), run.Output);
        stats.AssertOnly(DatapathStat.ForwardN9, frame.Length);
    }

    [SkippableFact]
    public void EndMarkerWithEthernetPadding_IsForwardedWithoutThePadding()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(UlclSessions.Session());
        var frame = PadTo(Gtp(CentralUpfMac, GatewayMac, CentralUpf, N3, new GtpuMessage(GtpuMessageType.EndMarker, N9Teid, [])), 60);
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        PacketAssert.Equal(Encapsulated(GatewayMac, GnbMac, N3, Gnb, DownlinkTeid, null, qfi: null, endMarker: true), run.Output);
        stats.AssertOnly(DatapathStat.EndMarker, frame.Length);
    }

    // ---------- plain IP from the data network ----------

    [SkippableFact]
    public void PlainIpToTheUe_CutBeforeItsTotalLength_GoesToTheStackUnchanged()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var whole = Ethernet(RouterMac, GatewayMac, InnerUdp4(LocalServer, Ue, 5001, 40000));

        AssertPassedUnchanged(h, whole[..^1], DatapathStat.PassNotOurs);
    }

    public static TheoryData<string, byte[]> PlainPacketsWithLengthsShorterThanTheirHeader => new()
    {
        { "IPv4 total length 0", WithIpv4TotalLength(InnerUdp4(LocalServer, Ue, 5001, 40000).Bytes, 0) },
        { "IPv4 total length 19", WithIpv4TotalLength(InnerUdp4(LocalServer, Ue, 5001, 40000).Bytes, 19) },
        { "IPv6 payload length 65535", WithIpv6PayloadLength(InnerUdp6(Serverv6, Uev6, 443, 50000).Bytes, 65535) },
    };

    [SkippableTheory]
    [MemberData(nameof(PlainPacketsWithLengthsShorterThanTheirHeader))]
    public void PlainIpToTheUe_WithATotalLengthThatCannotBe_GoesToTheStackUnchanged(string what, byte[] packet)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(DualStack());

        AssertPassedUnchanged(h, Ethernet(RouterMac, GatewayMac, packet), DatapathStat.PassNotOurs, what);
    }

    // ---------- signalling ----------

    [SkippableFact]
    public void ErrorIndicationWithoutItsInformationElements_IsMalformed()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var message = new GtpuMessage(GtpuMessageType.ErrorIndication, 0, [], Sequence: 0).Encode();

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropMalformed);
    }

    [SkippableFact]
    public void ErrorIndicationWhosePeerAddressRunsPastTheMessage_IsMalformed()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        // TEID Data I, then a GTP-U Peer Address IE announcing 16 octets of which 4 are present.
        var ies = Concat([16], BigEndian(DownlinkTeid), [133, 0, 16], Gnb.GetAddressBytes());
        var message = new GtpuMessage(GtpuMessageType.ErrorIndication, 0, ies, Sequence: 0).Encode();
        var events = new List<EventRecord>();
        using var ring = new BpfRingBuffer<EventRecord>(h.Datapath.Object.MapDescriptor("events"), e => events.Add(e));

        AssertDropped(h, new OuterFrame { Payload = message }.Build(), DatapathStat.DropMalformed);
        ring.Poll(TimeSpan.Zero);
        Assert.Empty(events); // nothing for the control side to report to the SMF
    }

    [SkippableFact]
    public void EchoRequestWithOuterIpv4Options_IsAnsweredWithAPlainIpv4Header()
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });
        var frame = new OuterFrame { Ipv4Options = [1, 1, 1, 0], SourcePort = 40123, Payload = GtpuMessage.EchoRequest(0x1234).Encode() }.Build();
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        // The 58-byte request holds the 56-byte reply: answered in place, the rest zeroed.
        var reply = EchoResponse4(40123, 0x1234);
        PacketAssert.Equal(reply.Concat(new byte[frame.Length - reply.Length]).ToArray(), run.Output);
        stats.AssertOnly(DatapathStat.EchoReplied, frame.Length);
    }

    [SkippableTheory]
    [InlineData("IPv4")]
    [InlineData("IPv6")]
    public void QinQTaggedGPdu_IsDecapsulated_AndLeavesUntagged(string transport)
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(SessionFor(transport));
        var inner = Uplink4();

        AssertDecapsulated(h, (To(transport, GPduFor(inner)) with { ServiceVlanId = 200, VlanTpid = OuterFrame.Dot1Q }).Build(), inner);
    }

    /// <summary>An Echo Request behind two tags (QinQ) is answered behind the same two tags.</summary>
    [SkippableTheory]
    [InlineData("IPv4")]
    [InlineData("IPv6")]
    public void EchoRequestBehindQinQ_IsAnsweredBehindTheSameTwoTags(string transport)
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });
        var frame = (To(transport, GtpuMessage.EchoRequest(0x1234).Encode()) with { ServiceVlanId = 200, VlanTpid = OuterFrame.Dot1Q, SourcePort = 40123 }).Build();
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        Assert.Equal(Convert.ToHexString(frame[12..20]), Convert.ToHexString(run.Output[12..20])); // 88a8 00c8 8100 0064
        var expected = transport == "IPv4" ? EchoResponse4(40123, 0x1234) : EchoResponse6(40123, 0x1234);
        var diff = PacketDiff.Describe(expected, Untagged(run.Output));
        Assert.True(diff is null, $"reply as sent: {Convert.ToHexString(run.Output)}; without its tags, {diff}");
        stats.AssertOnly(DatapathStat.EchoReplied, frame.Length);
    }

    /// <summary>Three tags are more than the parser reads: the frame is the stack's, counted as not ours.</summary>
    [SkippableFact]
    public void GPduBehindThreeVlanTags_IsPassedToTheStack()
    {
        Privileged.Require();
        using var h = new GtpHarness();
        h.Sessions.Establish(Basic());
        var twoTags = new OuterFrame { Payload = GPduFor(Uplink4()), ServiceVlanId = 200, VlanTpid = OuterFrame.Dot1Q }.Build();
        byte[] frame = [.. twoTags[..16], 0x81, 0x00, 0x01, 0x2c, .. twoTags[16..]];

        AssertPassedUnchanged(h, frame, DatapathStat.PassNotOurs);
    }

    /// <summary>
    /// An Echo Request on a VLAN gets a well-formed Echo Response: the same one an untagged request
    /// gets, whether or not the reply keeps the tag.
    /// </summary>
    [SkippableTheory]
    [InlineData("IPv4", OuterFrame.Dot1Q)]
    [InlineData("IPv6", OuterFrame.Dot1Q)]
    [InlineData("IPv6", OuterFrame.Dot1Ad)]
    public void EchoRequestOverAVlan_IsAnsweredWithAWellFormedEchoResponse(string transport, ushort tpid)
    {
        Privileged.Require();
        using var h = new GtpHarness(new GtpDatapathOptions { Sessions = 16, Recovery = 7 });
        var frame = (To(transport, GtpuMessage.EchoRequest(0x1234).Encode()) with { VlanTpid = tpid, SourcePort = 40123 }).Build();
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.Equal(XdpAction.Tx, run.Verdict);
        var expected = transport == "IPv4" ? EchoResponse4(40123, 0x1234) : EchoResponse6(40123, 0x1234);
        var diff = PacketDiff.Describe(expected, Untagged(run.Output));
        Assert.True(diff is null, $"reply as sent: {Convert.ToHexString(run.Output)}; without its tag, {diff}");
        stats.AssertOnly(DatapathStat.EchoReplied, frame.Length);
    }

    // ---------- helpers ----------

    private static IPv4Packet Uplink4() => InnerUdp4(Ue, RemoteServer, 40000, 443, payload: 40);

    private static IPv6Packet Uplink6() => InnerUdp6(Uev6, Serverv6, 40000, 443, payload: 40);

    /// <summary>A plain uplink G-PDU (UL PDU Session Container, QFI 9) around an inner packet.</summary>
    private static byte[] GPduFor(IPPacket inner) => GtpuMessage.GPdu(UplinkTeid, inner.Bytes, 9).Encode();

    /// <summary>A G-PDU whose first extension header is an unknown, skippable one (0x01) of this many 4-octet units.</summary>
    private static byte[] WithLongExtension(IPPacket inner, int units)
    {
        var extension = new byte[units * 4];
        extension[0] = (byte)units;
        extension[^1] = PscType;
        return Message(Version1 | PT | E, GPdu, UplinkTeid, Concat(Optional(0, 0, 0x01), extension, UplinkContainer(9), inner.Bytes));
    }

    private static OuterFrame To(string transport, byte[] payload) => transport == "IPv6"
        ? new OuterFrame { Source = Gnbv6, Destination = N3v6, Payload = payload }
        : new OuterFrame { Payload = payload };

    /// <summary>The basic session with its uplink F-TEID on the transport's N3 address.</summary>
    private static Session SessionFor(string transport) => transport == "IPv6" ? Basic(gnb: Gnbv6) : Basic();

    /// <summary>The basic session, uplink and downlink for the UE's IPv4 address and its IPv6 /64.</summary>
    private static Session DualStack() => Basic() with
    {
        Pdrs =
        [
            new Pdr(1, 100, new Pdi(InterfaceType.Access, new FTeid(UplinkTeid, N3), UeIpv4: Ue, UeIpv6: Uev6), FarId: 1, RemoveOuterHeader: true),
            new Pdr(2, 100, new Pdi(InterfaceType.Core, UeIpv4: Ue), FarId: 2, QerIds: [1]),
            new Pdr(3, 100, new Pdi(InterfaceType.Core, UeIpv6: Uev6), FarId: 2, QerIds: [1]),
        ],
    };

    private static byte[] Padded(byte[] frame, bool padding) => padding ? PadTo(frame, Math.Max(60, frame.Length + 8)) : frame;

    private static byte[] PadTo(byte[] frame, int length) => frame.Concat(new byte[Math.Max(0, length - frame.Length)]).ToArray();

    private static byte[] Patch(byte[] bytes, int offset, byte value)
    {
        var copy = bytes.ToArray();
        copy[offset] = value;
        if ((copy[0] >> 4) == 4 && (copy[0] & 0x0f) >= 5 && copy.Length >= (copy[0] & 0x0f) * 4)
            InternetChecksum.SetIpv4Header(copy);
        return copy;
    }

    private static byte[] WithIpv4TotalLength(byte[] packet, int totalLength)
    {
        var copy = packet.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(2), (ushort)totalLength);
        InternetChecksum.SetIpv4Header(copy);
        return copy;
    }

    private static byte[] WithIpv6PayloadLength(byte[] packet, int payloadLength)
    {
        var copy = packet.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(4), (ushort)payloadLength);
        return copy;
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>Echo Response over IPv4 as the datapath writes it (ID of the request, TTL 64, UDP checksum 0), Recovery 7.</summary>
    private static byte[] EchoResponse4(ushort peerPort, ushort sequence)
    {
        var udp = new UdpPacket(2152, peerPort) { PayloadData = new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 7], Sequence: sequence).Encode() };
        var ip = new IPv4Packet(N3, Gnb) { TimeToLive = 64, Id = 1, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.Checksum = 0;
        ip.UpdateIPChecksum();
        return Ethernet(GatewayMac, GnbMac, ip);
    }

    /// <summary>Echo Response over IPv6 (hop limit 64, UDP checksum computed), Recovery 7.</summary>
    private static byte[] EchoResponse6(ushort peerPort, ushort sequence)
    {
        var udp = new UdpPacket(2152, peerPort) { PayloadData = new GtpuMessage(GtpuMessageType.EchoResponse, 0, [14, 7], Sequence: sequence).Encode() };
        var ip = new IPv6Packet(N3v6, Gnbv6) { HopLimit = 64, PayloadPacket = udp };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        return Ethernet(GatewayMac, GnbMac, ip);
    }

    private static string Prefix(string? because) => because is null ? "" : $"{because}: ";

    private static void AssertPassedUnchanged(GtpHarness h, byte[] frame, DatapathStat stat, string? because = null)
    {
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.True(run.Verdict == XdpAction.Pass, $"{Prefix(because)}expected Pass, got {run.Verdict} ({stats.Moved()}) with a {run.Output.Length}-octet frame {Convert.ToHexString(run.Output)}");
        PacketAssert.Equal(frame, run.Output);
        stats.AssertOnly(stat, frame.Length, because);
    }

    private static void AssertDropped(GtpHarness h, byte[] frame, DatapathStat stat, string? because = null)
    {
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.True(run.Verdict == XdpAction.Drop, $"{Prefix(because)}expected Drop, got {run.Verdict} ({stats.Moved()}) with a {run.Output.Length}-octet frame {Convert.ToHexString(run.Output)}");
        stats.AssertOnly(stat, frame.Length, because);
    }

    private static void AssertDecapsulated(GtpHarness h, byte[] frame, IPPacket inner, string? because = null)
    {
        var stats = new StatSnapshot(h);

        var run = h.Run(frame);

        Assert.True(run.Verdict == XdpAction.Tx, $"{Prefix(because)}expected Tx, got {run.Verdict} ({stats.Moved()})");
        PacketAssert.Equal(Ethernet(GatewayMac, RouterMac, Forwarded(inner)), run.Output);
        stats.AssertOnly(DatapathStat.ForwardUplink, frame.Length, because);
    }
}

using System.Net;
using LoxiLb.Edge5G.Datapath.Sdf;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>IPFilterRule flow descriptions as SMFs put them in PFCP SDF filters (TS 29.212 5.4.2).</summary>
public class FlowDescriptionTests
{
    private static readonly IPAddress Ue = IPAddress.Parse("192.0.2.10");

    [Fact]
    public void PermitOutIpFromAPrefixToAssigned_ForADownlinkPdr_MatchesPacketsFromThePrefixToTheUe()
    {
        var flow = FlowDescription.Parse("permit out ip from 203.0.113.0/24 to assigned");
        var f = Assert.Single(PacketFilter.Resolve(flow, uplink: false, Ue, null));
        Assert.Equal((4, (byte)0), (f.Family, f.Protocol));
        Assert.Equal((IPAddress.Parse("203.0.113.0"), 24), (f.Source!, f.SourcePrefix));
        Assert.Equal((Ue, 32), (f.Destination!, f.DestinationPrefix));
        Assert.Equal(PortRange.Any, f.SourcePorts);
    }

    [Fact]
    public void TheSameOutRule_ForAnUplinkPdr_IsSwapped_UeToThePrefix()
    {
        var flow = FlowDescription.Parse("permit out 17 from 198.51.100.0/24 5000-5100 to assigned");
        var f = Assert.Single(PacketFilter.Resolve(flow, uplink: true, Ue, null));
        Assert.Equal((byte)17, f.Protocol);
        Assert.Equal((Ue, 32), (f.Source!, f.SourcePrefix));
        Assert.Equal((IPAddress.Parse("198.51.100.0"), 24), (f.Destination!, f.DestinationPrefix));
        Assert.Equal(new PortRange(5000, 5100), f.DestinationPorts);
        Assert.Equal(PortRange.Any, f.SourcePorts);
    }

    [Fact]
    public void AnInRule_DescribesUplinkAsIs()
    {
        var flow = FlowDescription.Parse("permit in 6 from assigned 1024-65535 to 203.0.113.5 443");
        var f = Assert.Single(PacketFilter.Resolve(flow, uplink: true, Ue, null));
        Assert.Equal((Ue, new PortRange(1024, 65535)), (f.Source!, f.SourcePorts));
        Assert.Equal((IPAddress.Parse("203.0.113.5"), new PortRange(443, 443)), (f.Destination!, f.DestinationPorts));
    }

    [Fact]
    public void PortLists_ExpandIntoOneFilterPerRange()
    {
        var flow = FlowDescription.Parse("permit out 17 from any 5000,6000-6010 to assigned");
        var filters = PacketFilter.Resolve(flow, uplink: false, Ue, null);
        Assert.Equal([new PortRange(5000, 5000), new PortRange(6000, 6010)], filters.Select(f => f.SourcePorts));
    }

    [Fact]
    public void Assigned_WithADualStackUe_YieldsOneFilterPerFamily()
    {
        var flow = FlowDescription.Parse("permit out ip from any to assigned");
        var filters = PacketFilter.Resolve(flow, uplink: false, Ue, IPAddress.Parse("2001:db8:10:1::"));
        Assert.Equal([(4, 32), (6, 64)], filters.Select(f => (f.Family, f.DestinationPrefix)));
    }

    [Fact]
    public void Ipv6Prefixes_AreParsed()
    {
        var flow = FlowDescription.Parse("permit out 58 from 2001:db8:200::/48 to 2001:db8:10:1::/64");
        Assert.Equal((IPAddress.Parse("2001:db8:200::"), 48), (flow.From.Address!, flow.From.PrefixLength));
        Assert.Equal((byte)58, flow.Protocol);
    }

    [Theory]
    [InlineData("deny out ip from any to assigned", "action 'deny' is not supported")]
    [InlineData("permit sideways ip from any to assigned", "direction 'sideways' must be 'in' or 'out'")]
    [InlineData("permit out bogus from any to assigned", "protocol 'bogus'")]
    [InlineData("permit out ip from 203.0.113.0/33 to assigned", "prefix length in '203.0.113.0/33' must be 0-32")]
    [InlineData("permit out ip from !203.0.113.0/24 to assigned", "negated address")]
    [InlineData("permit out 17 from any 6000-5000 to assigned", "'6000-5000' is not a port or an ascending port range")]
    [InlineData("permit out ip from any to assigned frag", "option 'frag' is not supported")]
    [InlineData("permit out ip from any", "ends where 'to' was expected")]
    [InlineData("permit out 1 from any 53 to assigned", "ports need protocol tcp, udp or sctp")]
    [InlineData("permit out ip from 203.0.113.1 to 2001:db8::1", "mixes IPv4 and IPv6")]
    public void Unsupported_OrMalformed_IsRefusedWithTheReason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => FlowDescription.Parse(text));
        Assert.Contains(reason, e.Message);
        Assert.Contains(text, e.Message);
    }
}

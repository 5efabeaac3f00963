using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.LoxiLb;

namespace LoxiLb.Edge5G.Tests.Datapath;

public class AddressTextTests
{
    [Theory]
    [InlineData("198.51.100.1", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("::ffff:192.0.2.1", true)]
    [InlineData("1.2.3", false)]      // IPAddress.Parse would read 1.2.0.3
    [InlineData("10", false)]         // ... and 0.0.0.10
    [InlineData("198.51.100.256", false)]
    [InlineData("", false)]
    public void OperatorAddresses_MustBeADottedQuadOrIpv6(string text, bool valid) =>
        Assert.Equal(valid, AddressText.TryParse(text, out _));

    [Fact]
    public void ALoxiLbTunnel_WithAShortIpv4Form_IsRefusedNamingTheField()
    {
        var e = Assert.Throws<RuleException>(() => LoxiTunnel.Parse("1:198.51.1", "accessNetworkTunnel"));
        Assert.Contains("accessNetworkTunnel: '1:198.51.1' is not TEID:IP", e.Message);
    }
}

using LoxiLb.Edge5G.Host;

namespace LoxiLb.Edge5G.Tests.Host;

public class GtpOptionsValidationTests
{
    [Fact]
    public void EchoTimingThatCannotWork_IsRefused_NamingEachOption()
    {
        var o = new GatewayOptions();
        o.Gtp.AccessAddresses.Add("198.51.100.1");
        o.Gtp.EchoInterval = -1;
        o.Gtp.EchoTimeout = 0;
        o.Gtp.EchoRetries = 0;

        var result = new GatewayOptionsValidator().Validate(null, o);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToArray();
        Assert.Contains("Gtp.EchoInterval: -1 is negative (0 turns path management off)", failures);
        Assert.Contains("Gtp.EchoTimeout: 0 must be at least 1 second", failures);
        Assert.Contains("Gtp.EchoRetries: 0 must be at least 1", failures);
    }

    [Fact]
    public void EchoIntervalZero_TurnsPathManagementOff_AndIsValid()
    {
        var o = new GatewayOptions();
        o.Gtp.AccessAddresses.Add("198.51.100.1");
        o.Gtp.EchoInterval = 0;

        var result = new GatewayOptionsValidator().Validate(null, o);

        Assert.DoesNotContain(result.Failures ?? [], f => f.StartsWith("Gtp.Echo", StringComparison.Ordinal));
    }
}

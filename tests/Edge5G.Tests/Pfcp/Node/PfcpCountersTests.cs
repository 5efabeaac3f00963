using LoxiLb.Edge5G.Pfcp.Node;

namespace LoxiLb.Edge5G.Tests.Pfcp.Node;

public class PfcpCountersTests
{
    [Fact]
    public void UsageChecks_AreCountedAndTimed_AndTheLongestIsTakenOnce()
    {
        var c = new PfcpCounters();
        c.UsageTickTook(TimeSpan.FromMilliseconds(3));
        c.UsageTickTook(TimeSpan.FromMilliseconds(7));
        c.UsageTickTook(TimeSpan.FromMilliseconds(5));
        c.UsageChecked(read: 2, idle: 98);
        c.UsageChecked(read: 1, idle: 99);

        Assert.Equal(3, c.UsageTicks);
        Assert.Equal(TimeSpan.FromMilliseconds(15), c.UsageTickTime);
        Assert.Equal(TimeSpan.FromMilliseconds(7), c.TakeLongestUsageTick());
        Assert.Equal(TimeSpan.Zero, c.TakeLongestUsageTick());
        Assert.Equal((3L, 197L), (c.UsageChecksRead, c.UsageChecksIdle));
    }
}

using LoxiLb.Edge5G.Bench;

namespace LoxiLb.Edge5G.Tests.Bench;

public class GcTriggersTests
{
    [Fact]
    public void AnInducedFullCollection_IsReportedWithItsGenerationKindAndReason()
    {
        using var triggers = new GcTriggers();
        triggers.TakeSummary(); // whatever ran before
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);

        // Other tests running alongside may collect too: at least this one is there.
        Assert.Matches(@"(^|, )gen2 blocking induced x[1-9][0-9]*(,|$)", triggers.TakeSummary());
    }
}

using LoxiLb.Edge5G.Bench;

namespace LoxiLb.Edge5G.Tests.Bench;

public class AllocationSamplerTests
{
    private sealed class Probe
    {
        public byte[] Payload = new byte[64];
    }

    [Fact]
    public void ThePhasesAllocations_AreChargedToTheTypesThatMadeThem()
    {
        using var sampler = new AllocationSampler();
        sampler.TakeSummary(1); // whatever ran before
        var keep = new Probe[200_000];
        for (int i = 0; i < keep.Length; i++)
            keep[i] = new Probe();

        // About 17 MB of Probe and byte[64] objects: far past the ~100 KB sampling mark, so
        // both are sampled; other tests running alongside may add types of their own.
        var summary = sampler.TakeSummary(keep.Length, top: 50);
        Assert.Matches(@"(^|, )(AllocationSamplerTests[+.])?Probe [0-9,]+ B \([0-9]+%\)", summary);
        Assert.Matches(@"(^|, )Byte\[\] [0-9,]+ B \([0-9]+%\)", summary);
        GC.KeepAlive(keep);
    }

    [Theory]
    [InlineData("LoxiLb.Edge5G.Pfcp.Ies.PfcpIe", "PfcpIe")]
    [InlineData("LoxiLb.Edge5G.Pfcp.Ies.PfcpIe[]", "PfcpIe[]")]
    [InlineData("System.Collections.Generic.Dictionary`2[System.UInt16,System.ValueTuple`2[LoxiLb.Edge5G.Datapath.Counter,System.Boolean]]",
        "Dictionary`2[UInt16,ValueTuple`2[Counter,Boolean]]")]
    [InlineData("LoxiLb.Edge5G.Datapath.SessionTable+MatchGroup", "SessionTable+MatchGroup")]
    public void TypeNames_LoseTheirNamespaces_AndKeepTheirShape(string full, string expected) =>
        Assert.Equal(expected, AllocationSampler.Short(full));
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Bpf;

/// <summary>Typed map access: sizes checked at open, lookups, updates with flags, iteration, per-CPU values.</summary>
public class BpfMapTests
{
    [SkippableFact]
    public void PerCpuMap_ReturnsOneValuePerPossibleCpu()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        var values = Enumerable.Range(0, BpfPerCpuMap<uint, IfCounters>.PossibleCpus)
            .Select(cpu => new IfCounters { Packets = (ulong)cpu + 1, Bytes = 100UL * (ulong)cpu }).ToArray();
        map.Update(7, values);
        Assert.Equal(values, map.Lookup(7));
        Assert.True(values.Length >= Environment.ProcessorCount);
    }

    [SkippableFact]
    public void Lookup_OfAMissingKey_IsATryResult_NotAnException()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        Assert.False(map.TryLookup(99, out var values));
        Assert.Empty(values);
        var e = Assert.Throws<KeyNotFoundException>(() => map.Lookup(99));
        Assert.Contains("ifcount.bpf.o/if_counters", e.Message);
    }

    [SkippableFact]
    public void UpdateFlags_NoExistAndExist_FollowKernelSemantics()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        var e = Assert.Throws<BpfException>(() => map.UpdateAll(5, default, BpfUpdate.Exist));
        Assert.Equal("ENOENT", e.ErrnoName);
        map.UpdateAll(5, new IfCounters { Packets = 1 }, BpfUpdate.NoExist);
        e = Assert.Throws<BpfException>(() => map.UpdateAll(5, default, BpfUpdate.NoExist));
        Assert.Equal("EEXIST", e.ErrnoName);
        map.UpdateAll(5, new IfCounters { Packets = 2 }, BpfUpdate.Exist);
        Assert.All(map.Lookup(5), v => Assert.Equal(2UL, v.Packets));
        // The failure names the map, the flags and the key.
        Assert.StartsWith("update per-CPU map 'ifcount.bpf.o/if_counters' (NoExist): key ", e.Message);
    }

    /// <summary>A failure's text is built only for a failure: a success evaluates none of its parts.</summary>
    [Fact]
    public void FailureText_IsFormattedOnlyForANegativeResult()
    {
        var formatted = 0;
        string Part(string text) { formatted++; return text; }

        Assert.Equal(3, BpfException.ThrowIfNegative(3, $"update map '{Part("m")}'", $"key {Part("k")}"));
        Assert.Equal(0, formatted);

        var e = Assert.Throws<BpfException>(() => BpfException.ThrowIfNegative(-2, $"update map '{Part("m")}'", "constant detail"));
        Assert.Equal(1, formatted);
        Assert.Equal("update map 'm'", e.Operation);
        Assert.Equal((2, "ENOENT"), (e.Errno, e.ErrnoName));
        Assert.StartsWith("update map 'm': constant detail (ENOENT: ", e.Message);
    }

    [SkippableFact]
    public void Delete_ReportsWhetherTheKeyWasThere()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        map.UpdateAll(3, default);
        Assert.True(map.Delete(3));
        Assert.False(map.Delete(3));
    }

    [SkippableFact]
    public void Iteration_VisitsEveryKeyOnce()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        foreach (var k in new uint[] { 4, 8, 15, 16, 23, 42 })
            map.UpdateAll(k, new IfCounters { Packets = k });
        Assert.Equal(new uint[] { 4, 8, 15, 16, 23, 42 }, map.Keys().Order().ToArray());
        Assert.All(map.Entries(), e => Assert.All(e.Value, v => Assert.Equal((ulong)e.Key, v.Packets)));
    }

    [SkippableFact]
    public void ValueStructOfTheWrongSize_Throws_WithKernelAndCSharpSizes()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        var e = Assert.Throws<BpfException>(() => obj.PerCpuMap<uint, ulong>("if_counters"));
        Assert.Contains("open map 'ifcount.bpf.o/if_counters' as BpfPerCpuMap<UInt32, UInt64>", e.Message);
        Assert.Contains("the kernel's value is 16 bytes but the C# value type is 8 bytes", e.Message);
    }

    [SkippableFact]
    public void KeyStructOfTheWrongSize_Throws_WithKernelAndCSharpSizes()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        var e = Assert.Throws<BpfException>(() => obj.PerCpuMap<ulong, IfCounters>("if_counters"));
        Assert.Contains("the kernel's key is 4 bytes but UInt64 is 8 bytes", e.Message);
    }

    [SkippableFact]
    public void PerCpuMap_OpenedAsPlainMap_Throws_SayingWhichTypeToUse()
    {
        Privileged.Require();
        using var obj = BpfObjectTests.LoadCounter();
        var e = Assert.Throws<BpfException>(() => obj.Map<uint, IfCounters>("if_counters"));
        Assert.Contains("per-CPU map; open it as BpfPerCpuMap", e.Message);
    }
}

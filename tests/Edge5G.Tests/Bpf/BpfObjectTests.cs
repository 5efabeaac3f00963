using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Bpf;

/// <summary>Opening, adjusting and loading BPF objects, and every way that can be done wrong.</summary>
public class BpfObjectTests
{
    private const string Counter = "common/ifcount.bpf.o";

    [Fact]
    public void EmbeddedObjects_IncludeEveryProgramBuiltFromBpfSources()
    {
        var sources = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "bpf"), "*.bpf.c", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Path.Combine(RepoPaths.Root, "bpf"), p).Replace(".bpf.c", ".bpf.o"))
            .Order().ToArray();
        Assert.Equal(sources, BpfObjectSpec.EmbeddedObjects);
    }

    [SkippableFact]
    public void OpenedSpec_ListsProgramsAndMaps_BeforeLoad()
    {
        Privileged.Require();
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        Assert.Equal(["xdp_ifcount", "tc_ifcount"], spec.ProgramNames);
        Assert.Contains("if_counters", spec.MapNames);
        Assert.Contains("tc_counters", spec.MapNames);
    }

    [SkippableFact]
    public void MissingObjectFile_Throws_NamingThePathAndEnoent()
    {
        Privileged.Require();
        var e = Assert.Throws<BpfException>(() => BpfObjectSpec.OpenFile("/nonexistent/edge5g/missing.bpf.o"));
        Assert.Contains("'/nonexistent/edge5g/missing.bpf.o'", e.Message);
        Assert.Equal("ENOENT", e.ErrnoName);
    }

    [SkippableFact]
    public void FileThatIsNotBpfElf_Throws_FromLibbpf()
    {
        Privileged.Require();
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "not an ELF object");
        try
        {
            var e = Assert.Throws<BpfException>(() => BpfObjectSpec.OpenFile(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("could not parse", e.Message);
            Assert.NotEqual(0, e.Errno);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnknownEmbeddedObject_Throws_ListingTheEmbeddedOnes()
    {
        var e = Assert.Throws<BpfException>(() => BpfObjectSpec.OpenEmbedded("gtp/nope.bpf.o"));
        Assert.Contains("'gtp/nope.bpf.o'", e.Message);
        Assert.Contains(Counter, e.Message);
    }

    [SkippableFact]
    public void UnknownProgramName_Throws_NamingObjectAndItsPrograms()
    {
        Privileged.Require();
        using var obj = LoadCounter();
        var e = Assert.Throws<BpfException>(() => obj.Program("xdp_missing"));
        Assert.Contains("'ifcount.bpf.o' has no program 'xdp_missing'", e.Message);
        Assert.Contains("xdp_ifcount", e.Message);
    }

    [SkippableFact]
    public void UnknownMapName_Throws_NamingObjectAndItsMaps()
    {
        Privileged.Require();
        using var obj = LoadCounter();
        var e = Assert.Throws<BpfException>(() => obj.PerCpuMap<uint, IfCounters>("no_such_map"));
        Assert.Contains("'ifcount.bpf.o' has no map 'no_such_map'", e.Message);
        Assert.Contains("if_counters", e.Message);
    }

    [SkippableFact]
    public void SetConstant_ChangesTheVerdictTheVerifierSees()
    {
        Privileged.Require();
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        spec.SetConstant("verdict", (uint)XdpAction.Drop);
        using var obj = spec.Load();
        var run = ProgramTestRun.RunXdp(obj.Program("xdp_ifcount"), TestPackets.Udp4("192.0.2.1", "192.0.2.2", 1000, 2000, new byte[18]));
        Assert.Equal(XdpAction.Drop, run.Verdict);
    }

    [SkippableFact]
    public void SetConstant_OfTheWrongSize_Throws_WithBothSizes()
    {
        Privileged.Require();
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        var e = Assert.Throws<BpfException>(() => spec.SetConstant("verdict", 2UL));
        Assert.Contains("4 bytes in the object but UInt64 is 8 bytes", e.Message);
    }

    [SkippableFact]
    public void SetConstant_Unknown_Throws_ListingTheConstants()
    {
        Privileged.Require();
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        var e = Assert.Throws<BpfException>(() => spec.SetConstant("restart_counter", (byte)1));
        Assert.Contains("no constant 'restart_counter'", e.Message);
        Assert.Contains("verdict", e.Message);
    }

    [SkippableFact]
    public void SetMaxEntries_SizesTheKernelMap()
    {
        Privileged.Require();
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        spec.SetMaxEntries("if_counters", 2);
        using var obj = spec.Load();
        using var map = obj.PerCpuMap<uint, IfCounters>("if_counters");
        Assert.Equal(2u, map.Info.MaxEntries);
        map.UpdateAll(10, default);
        map.UpdateAll(11, default);
        var e = Assert.Throws<BpfException>(() => map.UpdateAll(12, default));
        Assert.Equal("E2BIG", e.ErrnoName);
    }

    [SkippableFact]
    public void SetMaxEntries_OnAnUnknownMap_Throws()
    {
        Privileged.Require();
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        var e = Assert.Throws<BpfException>(() => spec.SetMaxEntries("sessions", 10));
        Assert.Contains("has no map 'sessions'", e.Message);
    }

    [SkippableFact]
    public void ProgramTheVerifierRejects_Throws_CarryingTheVerifierLog()
    {
        Privileged.Require();
        // An XDP program that reads the packet without a bounds check.
        var source = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            SEC("xdp") int xdp_unchecked(struct xdp_md *ctx)
            {
                unsigned char *data = (void *)(long)ctx->data;
                return data[20] == 1 ? XDP_DROP : XDP_PASS;
            }
            char LICENSE[] SEC("license") = "GPL";
            """;
        var dir = Directory.CreateTempSubdirectory("edge5g-verifier-");
        try
        {
            var c = Path.Combine(dir.FullName, "bad.bpf.c");
            var o = Path.Combine(dir.FullName, "bad.bpf.o");
            File.WriteAllText(c, source);
            LoxiLb.Edge5G.Lab.ProcessRunner.Run("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", c, "-o", o);
            using var spec = BpfObjectSpec.OpenFile(o);
            var e = Assert.Throws<BpfException>(() => spec.Load());
            Assert.Equal("EACCES", e.ErrnoName);
            Assert.Contains("load BPF object 'bad.bpf.o'", e.Message);
            Assert.NotNull(e.VerifierLog);
            Assert.Contains("invalid access to packet", e.VerifierLog);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void LoadedObject_ProgramsHaveTheirTypes()
    {
        Privileged.Require();
        using var obj = LoadCounter();
        Assert.Equal(BpfProgramType.Xdp, obj.Program("xdp_ifcount").Type);
        Assert.Equal(BpfProgramType.SchedCls, obj.Program("tc_ifcount").Type);
    }

    [SkippableFact]
    public void DisposedObject_RefusesFurtherUse()
    {
        Privileged.Require();
        var obj = LoadCounter();
        var program = obj.Program("xdp_ifcount");
        obj.Dispose();
        Assert.Throws<ObjectDisposedException>(() => program.Fd);
    }

    internal static BpfObject LoadCounter()
    {
        using var spec = BpfObjectSpec.OpenEmbedded(Counter);
        return spec.Load();
    }
}

using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// A restarted gateway adopts the maps pinned by the one before it. Pins left by another build
/// of the datapath (a map it did not have, or one of another shape) are refused by name, with
/// both shapes, before anything is created, and the pinned state is left as it was; so are
/// pins stamped with another ABI header's fingerprint.
/// </summary>
public class PinnedStateTests
{
    [SkippableFact]
    public void PinsOfAnotherBuild_AreRefused_NamingTheMapAndBothShapes_AndLeftAsTheyWere()
    {
        Privileged.Require();
        var pins = $"/sys/fs/bpf/e5g-test-pins-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(pins);
        try
        {
            using var first = GtpDatapath.Load(GtpHarness.DefaultOptions);
            first.PinMaps(pins);
            // What an earlier build pinned as if_stats: one 16-byte counter per value (the shape
            // of pdr_stats), not this build's row of verdicts and reasons.
            Assert.True(BpfPins.Unpin(Path.Combine(pins, "if_stats")));
            using (var counter = first.Object.MapDescriptor("pdr_stats"))
                BpfPins.Pin(counter, Path.Combine(pins, "if_stats"), "pin a 16-byte counter map as if_stats");
            var pinned = Directory.GetFiles(pins).Order().ToArray();

            var e = Assert.Throws<BpfException>(() => GtpDatapath.Load(GtpHarness.DefaultOptions, adoptMapsFrom: pins));
            Assert.Contains("'if_stats'", e.Operation);
            Assert.Equal(22, e.Errno);
            Assert.Contains("the pin is PerCpuArray with 4-byte keys and 16-byte values but this build's map is PerCpuArray with 4-byte keys and 496-byte values", e.Message);
            Assert.Contains("pinned by another build", e.Message);
            Assert.Equal(pinned, Directory.GetFiles(pins).Order().ToArray());

            // The right if_stats again, and a map the build that pinned the state did not have.
            Assert.True(BpfPins.Unpin(Path.Combine(pins, "if_stats")));
            using (var stats = first.Object.MapDescriptor("if_stats"))
                BpfPins.Pin(stats, Path.Combine(pins, "if_stats"), "pin if_stats back");
            Assert.True(BpfPins.Unpin(Path.Combine(pins, "usage_epoch")));
            e = Assert.Throws<BpfException>(() => GtpDatapath.Load(GtpHarness.DefaultOptions, adoptMapsFrom: pins));
            Assert.Contains("'usage_epoch'", e.Operation);
            Assert.Equal(2, e.Errno);
            Assert.Contains("the pinned state is from a build without map 'usage_epoch'", e.Message);
            Assert.Equal(pinned.Where(p => !p.EndsWith("/usage_epoch", StringComparison.Ordinal)), Directory.GetFiles(pins).Order());

            using (var epoch = first.Object.MapDescriptor("usage_epoch"))
                BpfPins.Pin(epoch, Path.Combine(pins, "usage_epoch"), "pin usage_epoch back");

            // Every map of the right shape, but stamped by a build with another ABI header: a
            // field may have changed meaning without changing size.
            var stamp = first.Object.Map<uint, ulong>(GtpDatapath.AbiStampMap);
            Assert.True(stamp.TryLookup(0, out var own));
            Assert.Equal(AbiFingerprint.Current, own);
            stamp.Update(0, 0x0123456789abcdef);
            e = Assert.Throws<BpfException>(() => GtpDatapath.Load(GtpHarness.DefaultOptions, adoptMapsFrom: pins));
            Assert.Equal($"reuse pinned maps in '{pins}'", e.Operation);
            Assert.Equal(22, e.Errno);
            Assert.Contains($"fingerprint 0123456789abcdef, and this build's is {AbiFingerprint.Current:x16}", e.Message);
            Assert.Equal(0x0123456789abcdefUL, stamp.TryLookup(0, out var left) ? left : 0);
            Assert.Equal(pinned, Directory.GetFiles(pins).Order().ToArray());

            // With every pin and the stamp back in place the same build adopts them.
            stamp.Update(0, own);
            using var adopted = GtpDatapath.Load(GtpHarness.DefaultOptions, adoptMapsFrom: pins);
            Assert.Equal(first.Tables.UsageActivity!.Epoch, adopted.Tables.UsageActivity!.Epoch);
        }
        finally
        {
            BpfPins.RemoveTree(pins);
        }
    }
}

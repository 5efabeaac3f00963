using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using LoxiLb.Edge5G.Netlink;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Netlink;

/// <summary>Kernel changes in a lab namespace reach the monitor and the next-hop table.</summary>
public class RouteMonitorTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);
    private static readonly PhysicalAddress OtherMac = PhysicalAddress.Parse("02-00-5E-00-53-02");
    private static readonly IPAddress Routed = IPAddress.Parse("203.0.113.200");

    [SkippableFact]
    public void NeighbourRouteAndLinkChanges_AreReported_AndOnlyTheAffectedSlotsAreRewritten()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        lab.A.Run("ip", "route", "add", "203.0.113.128/25", "via", "203.0.113.2");
        lab.StaticNeighbourOnA(TwoHostLab.B4, lab.MacB);
        lab.StaticNeighbourOnA(TwoHostLab.B6, lab.MacB);
        lab.StaticNeighbourOnA(TwoHostLab.GatewayB4, lab.MacB);

        RouteMonitor monitor;
        RouteResolver resolver;
        using (lab.A.Enter())
        {
            resolver = new RouteResolver();
            monitor = new RouteMonitor();
        }
        var changes = new BlockingCollection<RouteChange>();
        var faults = new ConcurrentQueue<Exception>();
        monitor.Changed += changes.Add;
        monitor.Faulted += faults.Enqueue;
        using var table = new NextHopTable(resolver, monitor, capacity: 16, ownsSources: true);
        var rewrites = new BlockingCollection<IReadOnlyList<NextHopEntry>>();
        table.NextHopsChanged += rewrites.Add;

        var v4 = table.Acquire(TwoHostLab.B4);
        var v6 = table.Acquire(TwoHostLab.B6);
        var routed = table.Acquire(Routed);
        Assert.All(new[] { v4, v6, routed }, e => Assert.True(e.Resolution.IsResolved, e.Resolution.ToString()));

        // The neighbour's MAC changes: only the slot through that neighbour is rewritten.
        lab.StaticNeighbourOnA(TwoHostLab.B4, OtherMac);
        var rewrite = Next(rewrites, "neighbour MAC change");
        var entry = Assert.Single(rewrite);
        Assert.Equal(v4.Id, entry.Id);
        Assert.Equal(OtherMac, entry.Resolution.NextHop!.DestinationMac);
        var neighbourChange = WaitFor(changes, c => c.Neighbours.Contains(new NeighbourKey(lab.IfindexA, TwoHostLab.B4)), "neighbour event");
        Assert.True(neighbourChange.Kinds.HasFlag(RouteChangeKinds.Neighbour));

        // The route goes: only the routed destination is affected.
        lab.A.Run("ip", "route", "del", "203.0.113.128/25");
        entry = Assert.Single(Next(rewrites, "route deletion"));
        Assert.Equal(routed.Id, entry.Id);
        Assert.Equal(UnresolvedReason.NoRoute, entry.Resolution.Reason);
        WaitFor(changes, c => c.Routes.Contains(IPNetwork.Parse("203.0.113.128/25")), "route event");

        // The peer goes down: A loses carrier, both on-link slots become unusable, then recover.
        lab.B.Run("ip", "link", "set", TwoHostLab.DevB, "down");
        var down = NextMatching(rewrites, r => r.Count(e => e.Resolution.Reason == UnresolvedReason.InterfaceDown) == 2, "carrier loss");
        Assert.Equal(new[] { v4.Id, v6.Id }, down.Select(e => e.Id).Order());
        WaitFor(changes, c => c.Interfaces.Contains(lab.IfindexA), "link event");
        lab.B.Run("ip", "link", "set", TwoHostLab.DevB, "up");
        NextMatching(rewrites, r => r.Count(e => e.Resolution.IsResolved) == 2, "carrier back");
        Assert.True(table.TryGet(v6.Id, out var back) && back.Resolution.IsResolved, back.Resolution.ToString());

        Assert.Empty(faults);
        table.Dispose();
        Assert.False(monitor.IsRunning);
    }

    [SkippableFact]
    public void AnAcquiredNextHopWithAnUnknownNeighbour_IsRewrittenWhenTheNeighbourAnswers()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        NextHopTable table;
        using (lab.A.Enter())
            table = NextHopTable.Create(capacity: 4);
        using (table)
        {
            var rewrites = new BlockingCollection<IReadOnlyList<NextHopEntry>>();
            table.NextHopsChanged += rewrites.Add;
            foreach (var destination in new[] { TwoHostLab.B4, TwoHostLab.B6 })
            {
                var acquired = table.Acquire(destination);
                Assert.Equal(UnresolvedReason.NeighbourUnresolved, acquired.Resolution.Reason);
                var resolved = NextMatching(rewrites, r => r.Any(e => e.Id == acquired.Id && e.Resolution.IsResolved), $"{destination} resolved");
                Assert.Equal(lab.MacB, resolved.Single(e => e.Id == acquired.Id).Resolution.NextHop!.DestinationMac);
            }
        }
    }

    [SkippableFact]
    public void TheMonitorWatchesItsOwnNamespaceOnly_AndDisposeStopsItsThreadPromptly()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        RouteMonitor monitor;
        using (lab.A.Enter())
            monitor = new RouteMonitor();
        var changes = new BlockingCollection<RouteChange>();
        monitor.Changed += changes.Add;

        lab.B.Run("ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.1");
        lab.A.Run("ip", "route", "add", "192.0.2.0/25", "via", "198.51.100.2");
        var change = WaitFor(changes, c => c.Routes.Count > 0, "route in A");
        Assert.Equal([IPNetwork.Parse("192.0.2.0/25")], change.Routes);
        Assert.False(changes.TryTake(out var extra, 200), $"unexpected batch: {extra}");

        var clock = Stopwatch.StartNew();
        monitor.Dispose();
        Assert.False(monitor.IsRunning);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Dispose took {clock.Elapsed}"); // not stuck in a blocking recv
        monitor.Dispose(); // idempotent
    }

    [SkippableFact]
    public void AHandlerMayDisposeTheMonitorFromItsOwnThread()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        RouteMonitor monitor;
        using (lab.A.Enter())
            monitor = new RouteMonitor();
        var disposed = new ManualResetEventSlim();
        var faults = new ConcurrentQueue<Exception>();
        monitor.Faulted += faults.Enqueue;
        monitor.Changed += _ =>
        {
            monitor.Dispose();
            disposed.Set();
        };
        lab.A.Run("ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.2");
        Assert.True(disposed.Wait(Bound));
        Assert.True(TwoHostLab.Eventually(() => !monitor.IsRunning, Bound));
        Assert.Empty(faults);
    }

    [SkippableFact]
    public void NotificationsTheKernelDropped_AreReportedAsLost()
    {
        Privileged.Require();
        using var lab = new TwoHostLab();
        RouteMonitor monitor;
        using (lab.A.Enter())
            monitor = new RouteMonitor(null, null, receiveBufferBytes: 1); // the kernel's minimum
        using (monitor)
        {
            var changes = new BlockingCollection<RouteChange>();
            using var handlerEntered = new ManualResetEventSlim();
            using var gate = new ManualResetEventSlim();
            monitor.Changed += c =>
            {
                handlerEntered.Set();
                gate.Wait(Bound); // hold the reader while the kernel queues a burst
                changes.Add(c);
            };
            lab.A.Run("ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.2");
            Assert.True(handlerEntered.Wait(Bound));

            var batch = Path.Combine(Path.GetTempPath(), $"e5g-routes-{Guid.NewGuid():N}");
            File.WriteAllLines(batch, Enumerable.Range(0, 200).Select(i => $"route add 203.0.113.{i}/32 via 198.51.100.2"));
            try
            {
                lab.A.Run("ip", "-batch", batch);
            }
            finally
            {
                File.Delete(batch);
            }
            gate.Set();
            var lost = WaitFor(changes, c => c.Kinds.HasFlag(RouteChangeKinds.Lost), "overrun report");
            Assert.True(lost.AffectsEverything);
            Assert.True(monitor.IsRunning);
        }
    }

    private static IReadOnlyList<NextHopEntry> Next(BlockingCollection<IReadOnlyList<NextHopEntry>> rewrites, string what) =>
        rewrites.TryTake(out var batch, Bound) ? batch : throw new TimeoutException($"no NextHopsChanged after {what} within {Bound}");

    private static IReadOnlyList<NextHopEntry> NextMatching(BlockingCollection<IReadOnlyList<NextHopEntry>> rewrites,
        Func<IReadOnlyList<NextHopEntry>, bool> match, string what) => WaitFor(rewrites, match, what);

    private static T WaitFor<T>(BlockingCollection<T> items, Func<T, bool> match, string what)
    {
        var clock = Stopwatch.StartNew();
        var seen = new List<T>();
        while (clock.Elapsed < Bound)
        {
            if (items.TryTake(out var item, Bound - clock.Elapsed))
            {
                if (match(item))
                    return item;
                seen.Add(item);
            }
        }
        throw new TimeoutException($"no {what} within {Bound}; saw: {string.Join(" | ", seen.Select(s => s is IEnumerable<NextHopEntry> e ? string.Join("; ", e) : s?.ToString()))}");
    }
}

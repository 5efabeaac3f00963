using System.Diagnostics.Tracing;

namespace LoxiLb.Edge5G.Bench;

/// <summary>
/// Why the runtime collected, as the runtime's own GCStart events say (generation, kind and
/// trigger reason): a benchmark phase reports "gen2 background: large-object allocation x3",
/// which says where to look, where counts alone do not.
/// </summary>
internal sealed class GcTriggers : EventListener
{
    private const int GcStartEventId = 1;
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Dictionary<(int Depth, int Type, int Reason), int> _counts = [];
    private readonly object _gate = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId != GcStartEventId || e.Payload is not { Count: >= 4 } payload || e.PayloadNames is null)
            return;
        int Field(string name) => Convert.ToInt32(payload[e.PayloadNames.IndexOf(name)]);
        var key = (Field("Depth"), Field("Type"), Field("Reason"));
        lock (_gate)
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
    }

    /// <summary>The counts since the last call, and a fresh start.</summary>
    public string TakeSummary()
    {
        // Events arrive on the runtime's dispatch thread a little after the collection.
        Thread.Sleep(200);
        KeyValuePair<(int Depth, int Type, int Reason), int>[] counts;
        lock (_gate)
        {
            counts = [.. _counts.OrderByDescending(c => c.Key.Depth).ThenByDescending(c => c.Value)];
            _counts.Clear();
        }
        return counts.Length == 0 ? "none"
            : string.Join(", ", counts.Select(c => $"gen{c.Key.Depth} {Kind(c.Key.Type)} {Reason(c.Key.Reason)} x{c.Value}"));
    }

    private static string Kind(int type) => type switch
    {
        0 => "blocking",
        1 => "background",
        2 => "foreground",
        _ => $"type {type}",
    };

    // GC_REASON in the runtime's gcinterface.h.
    private static string Reason(int reason) => reason switch
    {
        0 => "small-object allocation",
        1 => "induced",
        2 => "low memory",
        3 => "empty",
        4 => "large-object allocation",
        5 => "out of small-object space",
        6 => "out of large-object space",
        7 => "induced (not forced)",
        8 => "internal",
        9 => "induced (low memory)",
        10 => "induced (compacting)",
        11 => "low memory (host)",
        12 => "provisional mode",
        13 => "low memory (host, blocking)",
        14 => "background tuning (small objects)",
        15 => "background tuning (large objects)",
        16 => "background tuning (pinned objects)",
        _ => $"reason {reason}",
    };
}

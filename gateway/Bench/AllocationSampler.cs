using System.Diagnostics.Tracing;

namespace LoxiLb.Edge5G.Bench;

/// <summary>
/// What a phase allocates, by type, from the runtime's allocation-tick events: each tick
/// charges the roughly 100 KB allocated since the previous one to the type of the object that
/// crossed the mark, so over a phase of megabytes the shares are those of the allocations.
/// Costly (verbose GC events), so only on request (bench-pfcp --allocations).
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int AllocationTickEventId = 10;
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Dictionary<string, long> _bytes = [];
    private readonly object _gate = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId != AllocationTickEventId || e.Payload is not { } payload || e.PayloadNames is not { } names)
            return;
        int typeAt = names.IndexOf("TypeName"), amountAt = names.IndexOf("AllocationAmount64");
        if (typeAt < 0 || amountAt < 0)
            return;
        var type = payload[typeAt] as string ?? "?";
        var amount = Convert.ToInt64(payload[amountAt]);
        lock (_gate)
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
    }

    /// <summary>The top types since the last call, as bytes per request of a phase of <paramref name="requests"/>, and a fresh start.</summary>
    public string TakeSummary(int requests, int top = 12)
    {
        Thread.Sleep(200); // events arrive on the runtime's dispatch thread a little later
        KeyValuePair<string, long>[] rows;
        long total;
        lock (_gate)
        {
            rows = [.. _bytes.OrderByDescending(p => p.Value).Take(top)];
            total = _bytes.Values.Sum();
            _bytes.Clear();
        }
        if (rows.Length == 0 || requests <= 0)
            return "none sampled";
        return string.Join(", ", rows.Select(r => $"{Short(r.Key)} {r.Value / (double)requests:N0} B ({r.Value * 100.0 / total:0}%)"));
    }

    internal static string Short(string type)
    {
        // "System.Collections.Generic.Dictionary`2[System.UInt16,...]" -> "Dictionary`2[UInt16,...]":
        // the namespaces make the line unreadable.
        var b = new System.Text.StringBuilder(type.Length);
        int nameStart = 0;
        for (int i = 0; i <= type.Length; i++)
        {
            if (i < type.Length && type[i] is not ('[' or ']' or ','))
                continue;
            var name = type[nameStart..i];
            var dot = name.LastIndexOf('.');
            b.Append(dot < 0 ? name : name[(dot + 1)..]);
            if (i < type.Length)
                b.Append(type[i]);
            nameStart = i + 1;
        }
        return b.ToString();
    }
}

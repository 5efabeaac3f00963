using System.Diagnostics;

namespace LoxiLb.Edge5G.Tests.Pfcp.Replay;

/// <summary>
/// The wall clock of a capture for the node under replay: set to each captured message's
/// time before it is replayed (Recovery Time Stamps are compared with it), running on in
/// real time between messages. Timers (timestamps) stay the system's.
/// </summary>
public sealed class CaptureClock : TimeProvider
{
    private readonly object _gate = new();
    private DateTimeOffset _at = DateTimeOffset.UtcNow;
    private long _setAt = GetTimestampNow();

    private static long GetTimestampNow() => Stopwatch.GetTimestamp();

    public void Set(DateTime utc)
    {
        lock (_gate)
        {
            _at = new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
            _setAt = GetTimestampNow();
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
            return _at + Stopwatch.GetElapsedTime(_setAt);
    }
}
